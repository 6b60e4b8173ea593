"""Parse trees in bracket notation (Penn Treebank, SST) as terms of a functor.

``(S (NP (DT the) (NN cat)) (VP (VBD sat)))``: a phrase is ``(label child…)`` (the
first token after a ``(`` is always the label), a child a phrase or a word;
``(DT the)``, a label over one word, is that word's leaf.
`read_brackets` turns such text into a `cdl.Layer` term that `cdl.tree_table`
stores, for `cdl.TreeF` (binary trees; unary chains are collapsed) or for a rose-tree
functor such as ``cdl.RoseF(k)`` (a phrase keeps all its children and its label).
"""

import re
from collections.abc import Callable
from typing import Any

from ._functor import Functor, Layer, TreeF

_TOKEN = re.compile(r"\(|\)|[^\s()]+")


class _Phrase:
    """A parsed ``(label child…)``, before it becomes a term."""

    def __init__(self, label: str, children: list["_Phrase | str"], at: int) -> None:
        self.label, self.children, self.at = label, children, at


def _parse(text: str) -> list[_Phrase | str]:
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    if not tokens:
        raise ValueError("no tree in the bracketed text: it is empty.")
    stack: list[_Phrase] = []
    tops: list[_Phrase | str] = []
    i = 0
    while i < len(tokens):
        token, at = tokens[i]
        if token == "(":
            label = ""
            if i + 1 < len(tokens) and tokens[i + 1][0] not in "()":
                label = tokens[i + 1][0]
                i += 1
            stack.append(_Phrase(label, [], at))
        elif token == ")":
            if not stack:
                raise ValueError(f"a ')' at character {at} closes nothing.")
            done = stack.pop()
            if not done.children:
                raise ValueError(f"the phrase at character {done.at} is empty.")
            (stack[-1].children if stack else tops).append(done)
        else:
            (stack[-1].children if stack else tops).append(token)
        i += 1
    if stack:
        raise ValueError(f"the '(' at character {stack[-1].at} is never closed.")
    return tops


def read_brackets(
    text: str,
    word: Callable[[str], Any],
    *,
    phrase: Callable[[str], Any] | None = None,
    functor: Functor = TreeF,
    forest: bool = False,
    labels: bool = False,
) -> Any:
    """Read a bracketed parse tree (or several) as terms of `functor`.

    **Arguments:**

    - `text`: the trees, e.g. ``(3 (2 It) (4 (2 's) (3 great)))``.
    - `word`: the payload of a word's leaf, from the word (e.g. its vocabulary
      index as an array).
    - `phrase`: the payload of a phrase, from its label; needed for a functor
      whose one constructor carries a payload on every node (``cdl.RoseF(k)``).
    - `functor`: `cdl.TreeF` (the default; a phrase must have one or two
      children, and one child is collapsed into it), or a functor with a single
      variadic constructor with a payload.
    - `forest`: read every tree of `text` and return a list.
    - `labels`: also return every node's label (``None`` for a bare word), in the
      order in which `cdl.tree_table` stores the nodes (children before parents,
      left to right, tree after tree): the targets of a per-node loss on
      `cdl.upwards`. A collapsed chain keeps its outermost label.

    **Returns:** a `cdl.Layer` term (a list with `forest`), ready for
    `cdl.tree_table`; with `labels`, the pair ``(terms, labels)``. Raises
    `ValueError` for unbalanced brackets, an empty phrase, a phrase with more
    children than the functor allows, or several trees without `forest`.

    >>> import numpy as np, cdl
    >>> vocab = {"It": 0, "'s": 1, "great": 2}
    >>> term = cdl.read_brackets("(3 (2 It) (4 (2 's) (3 great)))",
    ...                          lambda w: np.float32(vocab[w]))
    >>> cdl.tree_table(cdl.TreeF, term).size
    5
    >>> cdl.read_brackets("(3 (2 It) (4 (2 's) (3 great)))", str, labels=True)[1]
    ['2', '2', '3', '4', '3']
    >>> cdl.read_brackets("(S (A a) (B b) (C c))", lambda w: 0.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the phrase 'S' at character 0 has 3 children, but a TreeF node ...
    """
    tops = _parse(text)
    if len(tops) > 1 and not forest:
        raise ValueError(
            f"the text holds {len(tops)} trees: pass forest=True to read them all."
        )
    found: list[str | None] = []
    if functor == TreeF:
        terms = [_binary(t, word, found, None) for t in tops]
    else:
        terms = [_rose(t, word, phrase, functor, found) for t in tops]
    out = terms if forest else terms[0]
    return (out, found) if labels else out


def _binary(
    tree: "_Phrase | str",
    word: Callable[[str], Any],
    found: list[str | None],
    above: str | None,
) -> Layer[Any]:
    if isinstance(tree, str):
        found.append(above)
        return Layer("Leaf", word(tree), ())
    label = tree.label if above is None else above
    if len(tree.children) == 1:
        return _binary(tree.children[0], word, found, label)
    if len(tree.children) > 2:
        raise ValueError(
            f"the phrase {tree.label!r} at character {tree.at} has "
            f"{len(tree.children)} children, but a TreeF node takes 2: binarise the "
            f"tree first, or read it as a rose tree."
        )
    left, right = (_binary(c, word, found, None) for c in tree.children)
    found.append(label)
    return Layer("Node", None, (left, right))


def _rose(
    tree: "_Phrase | str",
    word: Callable[[str], Any],
    phrase: Callable[[str], Any] | None,
    functor: Functor,
    found: list[str | None],
) -> Layer[Any]:
    (c,) = functor.constructors if len(functor.constructors) == 1 else (None,)
    if c is None or not c.variadic or not c.payload:
        raise ValueError(
            f"read_brackets reads TreeF or a functor with one variadic constructor "
            f"with a payload (like RoseF(k)), not {functor!r}."
        )
    if isinstance(tree, str):
        found.append(None)
        return Layer(c.name, word(tree), ())
    if len(tree.children) == 1 and isinstance(tree.children[0], str):
        found.append(tree.label)
        return Layer(c.name, word(tree.children[0]), ())
    if phrase is None:
        raise ValueError(
            f"the phrases of {functor.name} carry a payload: pass `phrase`, a "
            f"function of the label."
        )
    if len(tree.children) > c.arity:
        raise ValueError(
            f"the phrase {tree.label!r} at character {tree.at} has "
            f"{len(tree.children)} children, more than {functor.name}'s {c.arity}."
        )
    kids = tuple(_rose(k, word, phrase, functor, found) for k in tree.children)
    found.append(tree.label)
    return Layer(c.name, phrase(tree.label), kids)
