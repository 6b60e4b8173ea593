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

from . import _messages
from ._functor import Functor, Layer, TreeF
from ._tree import no_collection

_TOKEN = re.compile(r"\(|\)|[^\s()]+")


class _Phrase:
    """A parsed ``(label child…)``, before it becomes a term."""

    def __init__(self, label: str, children: list["_Phrase | str"], at: int) -> None:
        self.label, self.children, self.at = label, children, at


def _parse(text: str) -> list[_Phrase | str]:
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    if not tokens:
        raise ValueError(_messages.EMPTY_BRACKETS)
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
                raise ValueError(_messages.unopened(at))
            done = stack.pop()
            if not done.children:
                raise ValueError(_messages.empty_phrase(done.at))
            (stack[-1].children if stack else tops).append(done)
        else:
            (stack[-1].children if stack else tops).append(token)
        i += 1
    if stack:
        raise ValueError(_messages.unclosed(stack[-1].at))
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
    with no_collection():
        return _read(text, word, phrase, functor, forest, labels)


def _read(
    text: str,
    word: Callable[[str], Any],
    phrase: Callable[[str], Any] | None,
    functor: Functor,
    forest: bool,
    labels: bool,
) -> Any:
    tops = _parse(text)
    if len(tops) > 1 and not forest:
        raise ValueError(_messages.several_trees(len(tops)))
    found: list[str | None] = []
    if functor == TreeF:
        terms = [_binary(t, word, found) for t in tops]
    else:
        terms = [_rose(t, word, phrase, functor, found) for t in tops]
    out = terms if forest else terms[0]
    return (out, found) if labels else out


def _binary(
    tree: "_Phrase | str", word: Callable[[str], Any], found: list[str | None]
) -> Layer[Any]:
    """`tree` as a TreeF term, unary chains collapsed; iteratively, at any depth."""
    out: list[Layer[Any]] = []
    # (item, label it inherits from a collapsed chain above, children done)
    stack: list[tuple[Any, str | None, bool]] = [(tree, None, False)]
    while stack:
        t, above, ready = stack.pop()
        if ready:
            right, left = out.pop(), out.pop()
            found.append(above)
            out.append(Layer("Node", None, (left, right)))
        elif isinstance(t, str):
            found.append(above)
            out.append(Layer("Leaf", word(t), ()))
        else:
            label = t.label if above is None else above
            if len(t.children) == 1:
                stack.append((t.children[0], label, False))
            elif len(t.children) > 2:
                raise ValueError(
                    _messages.too_many_children_binary(t.label, t.at, len(t.children))
                )
            else:
                stack.append((t, label, True))
                stack.append((t.children[1], None, False))
                stack.append((t.children[0], None, False))
    return out[0]


def _rose(
    tree: "_Phrase | str",
    word: Callable[[str], Any],
    phrase: Callable[[str], Any] | None,
    functor: Functor,
    found: list[str | None],
) -> Layer[Any]:
    """`tree` as a term of a one-constructor variadic functor, iteratively."""
    (c,) = functor.constructors if len(functor.constructors) == 1 else (None,)
    if c is None or not c.variadic or not c.payload:
        raise ValueError(_messages.not_a_rose_functor(functor))
    out: list[Layer[Any]] = []
    stack: list[tuple[Any, bool]] = [(tree, False)]
    while stack:
        t, ready = stack.pop()
        if isinstance(t, str):
            found.append(None)
            out.append(Layer(c.name, word(t), ()))
        elif len(t.children) == 1 and isinstance(t.children[0], str):
            found.append(t.label)
            out.append(Layer(c.name, word(t.children[0]), ()))
        elif ready:
            assert phrase is not None
            n = len(t.children)
            kids = tuple(out[len(out) - n :])
            del out[len(out) - n :]
            found.append(t.label)
            out.append(Layer(c.name, phrase(t.label), kids))
        else:
            if phrase is None:
                raise ValueError(_messages.phrase_payload(functor.name))
            if len(t.children) > c.arity:
                raise ValueError(
                    _messages.too_many_children_rose(
                        t.label, t.at, len(t.children), functor.name, c.arity
                    )
                )
            stack.append((t, True))
            stack.extend((k, False) for k in reversed(t.children))
    return out[0]
