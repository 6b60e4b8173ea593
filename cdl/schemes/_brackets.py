"""Parse trees in bracket notation (Penn Treebank, SST) as terms of a functor.

``(S (NP (DT the) (NN cat)) (VP (VBD sat)))``: a phrase is ``(label child…)`` (the
first token after a ``(`` is always the label), a child a phrase or a word;
``(DT the)``, a label over one word, is that word's leaf.
`read_brackets` turns such text into a `cdl.Layer` term that `cdl.tree_table`
stores, for `cdl.TreeF` (binary trees; unary chains are collapsed) or for a rose-tree
functor such as ``cdl.RoseF(k)`` (a phrase keeps all its children and its label).
"""

import itertools
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np

from . import _messages
from ._functor import Functor, Layer, TreeF
from ._tree import DEFAULT_BUCKETS, binary_table, no_collection, tree_table

_TOKEN = re.compile(r"\(|\)|[^\s()]+")
_WORD = re.compile(r"[^\s()]+")
_SPACE = re.compile(r"\s+")


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


def bracket_table(
    text: str,
    word: Callable[[str], Any],
    *,
    phrase: Callable[[str], Any] | None = None,
    functor: Functor = TreeF,
    forest: bool = False,
    labels: bool = False,
    max_depth: int | None = None,
    strategy: str = "auto",
    buckets: Sequence[int] | str | None = DEFAULT_BUCKETS,
) -> Any:
    """Read bracketed parse trees straight into a `cdl.NodeTable`.

    The table is the one ``cdl.tree_table(functor, cdl.read_brackets(text, …))``
    builds, without terms in between: for `cdl.TreeF` the text is read with a few
    regular-expression passes and numpy (brackets matched, unary chains
    collapsed, children, heights and sizes found by sorting and prefix sums), so
    the only work per word in Python is `word`. Other functors go through
    `read_brackets` and `cdl.tree_table`.

    **Arguments:** as `read_brackets` (`text`, `word`, `phrase`, `functor`,
    `forest`, `labels`) and `cdl.tree_table` (`max_depth`, `strategy`,
    `buckets`).

    **Returns:** the `NodeTable`; with `labels`, the pair ``(table, labels)``,
    every node's label in node order (``None`` for a bare word). Malformed text
    raises the `ValueError` that `read_brackets` raises.

    >>> import cdl
    >>> text = "(3 (2 It) (4 (2 's) (3 great))) (1 (0 dull) (1 (1 ,) (2 slow)))"
    >>> table, labels = cdl.bracket_table(text, len, forest=True, labels=True)
    >>> table.size, table.depth, labels
    (10, 2, ['2', '2', '3', '4', '3', '0', '1', '2', '1', '1'])
    >>> cdl.bracket_table("(S (A a) (B b", len)
    Traceback (most recent call last):
    ...
    ValueError: the '(' at character 9 is never closed.
    """
    if functor != TreeF:
        read = read_brackets(
            text, word, phrase=phrase, functor=functor, forest=forest, labels=labels
        )
        terms = read[0] if labels else read
        table = tree_table(
            functor, terms, forest=forest, max_depth=max_depth, strategy=strategy,
            buckets=buckets,
        )  # fmt: skip
        return (table, read[1]) if labels else table
    with no_collection():
        found = _binary_arrays(text, word, forest, labels)
    if found is None:  # malformed: the reader names what is wrong
        read_brackets(text, word, functor=functor, forest=forest)
        raise AssertionError(text)  # pragma: no cover
    marks, leaves, names = found
    table = binary_table(
        functor, marks, leaves, forest=forest, max_depth=max_depth,
        strategy=strategy, buckets=buckets,
    )  # fmt: skip
    return (table, names) if labels else table


_ASCII_CLASS: Final = np.asarray(
    [1 if chr(i) in "()" else 0 if chr(i).isspace() else 2 for i in range(128)],
    np.uint8,
)
"""Per ASCII character: 0 white space (as the tokens' ``\\s``), 1 a bracket, 2
part of a word."""


def _codes(text: str) -> np.ndarray:
    """One byte per token: ``(``, ``)`` or ``w`` (a word)."""
    if not text.isascii():
        return np.frombuffer(
            _SPACE.sub("", _WORD.sub("w", text)).encode("ascii"), np.uint8
        )
    chars = np.frombuffer(text.encode("ascii"), np.uint8)
    kind = _ASCII_CLASS[chars]
    start = kind == 1
    start[:1] |= kind[:1] == 2
    start[1:] |= (kind[1:] == 2) & (kind[:-1] != 2)
    out: np.ndarray = np.where(kind == 1, chars, np.uint8(119))[start]
    return out


def _binary_arrays(
    text: str, word: Callable[[str], Any], forest: bool, labels: bool
) -> tuple[np.ndarray, np.ndarray, list[str | None]] | None:
    """The post-order marks, leaves' payloads and labels of binary trees.

    None for text that `read_brackets` rejects. Tokens are coded ``(``, ``)``
    and ``w`` (a word); a word just after ``(`` is its phrase's label, any other
    word a leaf. Each phrase and leaf has the phrase around it as its parent:
    the last ``(`` before it at its own depth, found by one sorted search.
    """
    words = _WORD.findall(text)
    codes = _codes(text)
    n = len(codes)
    if n == 0:
        return None
    opens, closes, isword = codes == 40, codes == 41, codes == 119
    depth = np.cumsum(opens.astype(np.int64)) - np.cumsum(closes)
    if depth.min() < 0 or depth[-1] != 0:
        return None
    label = np.zeros(n, bool)
    label[1:] = isword[1:] & opens[:-1]
    leaf = isword & ~label
    # The phrases, sorted by depth then position: the one around an item at
    # depth d (before it) is the last `(` of depth d before it.
    open_at = np.flatnonzero(opens)
    by_depth = open_at[np.argsort(depth[open_at], kind="stable")]
    keys = depth[by_depth] * (n + 1) + by_depth

    def around(at: np.ndarray, level: np.ndarray) -> np.ndarray:
        found = np.searchsorted(keys, level * (n + 1) + at) - 1
        out: np.ndarray = by_depth[np.maximum(found, 0)]
        return out

    items = np.flatnonzero(leaf | opens)
    level = depth[items] - opens[items]
    inside = level > 0
    parent = np.full(n, -1, np.int64)
    parent[items[inside]] = around(items[inside], level[inside])
    count = np.bincount(parent[items[inside]], minlength=n)
    tops = int((~inside).sum())
    if (count[open_at] == 0).any() or (count > 2).any() or (tops > 1 and not forest):
        return None
    close_at = np.flatnonzero(closes)
    opened = around(close_at, depth[close_at] + 1)
    binary = count[opened] == 2
    event = leaf.astype(np.int64)
    event[close_at[binary]] = 2
    at = np.flatnonzero(event)
    marks = event[at] - 1
    pay = list(map(word, itertools.compress(words, leaf[isword].tolist())))
    leaves = np.asarray(pay) if pay else np.zeros((0,), np.float32)
    names: list[str | None] = []
    if labels:
        # A node's label is its chain's outermost: climb while the parent is a
        # phrase of one child (pointer doubling: a chain of length m takes log m).
        item = at.copy()
        item[marks == 1] = opened[binary]
        up = np.arange(n)
        climbs = (parent >= 0) & (count[np.maximum(parent, 0)] == 1)
        up[climbs] = parent[climbs]
        while True:
            nxt = up[up]
            if np.array_equal(nxt, up):
                break
            up = nxt
        top = up[item]
        after = np.minimum(top + 1, n - 1)
        # Indices into the words, then "" (a phrase without a label), then None.
        pick = np.where(opens[top], len(words), len(words) + 1)
        pick = np.where(opens[top] & label[after], np.cumsum(isword)[after] - 1, pick)
        names = np.asarray([*words, "", None], dtype=object)[pick].tolist()
    return marks, leaves, names
