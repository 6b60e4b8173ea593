"""Polynomial base functors as values: constructors with payload and recursive fields.

A polynomial functor is a sum of constructors ``F(X) = Σ_c P_c × X^{k_c}``: each
constructor `c` carries an optional payload (a pytree of arrays) and `k_c` recursive
fields. One layer of ``F(X)`` is a `Layer`; `fmap` acts on its recursive fields only,
and is derived from the declaration. The functor laws hold:

>>> import cdl
>>> layer = cdl.Layer("Node", 7, (1, 2))
>>> cdl.TreeF.fmap(lambda x: x, layer) == layer
True
>>> f, g = (lambda x: x + 1), (lambda x: 2 * x)
>>> cdl.TreeF.fmap(lambda x: g(f(x)), layer) == cdl.TreeF.fmap(
...     g, cdl.TreeF.fmap(f, layer))
True
"""

import copy
import dataclasses
import functools
from collections.abc import Callable
from typing import Any, Final, Generic, NamedTuple, TypeVar

import jax

from . import _messages

_X = TypeVar("_X")
_Y = TypeVar("_Y")


class Layer(NamedTuple, Generic[_X]):
    """One layer of ``F(X)``: a constructor's name, its payload and its children.

    **Arguments:** `constructor`, the constructor's name; `payload`, its
    non-recursive field (``None`` for none); `children`, a tuple of `X`s.

    A layer is a pytree of its payload and children (the constructor's name is
    its structure), so a term passes through `jax.jit` and `jax.grad` whole.

    >>> import cdl
    >>> cdl.Layer("Cons", 1.0, ("rest",)).children
    ('rest',)
    """

    constructor: str
    payload: Any
    children: tuple[_X, ...]

    def __getattr__(self, name: str) -> Any:
        """``child_j``: the `j`-th child (what a pattern ``Node(l, r)`` reads)."""
        if name.startswith("child_") and name[6:].isdigit():
            return self.children[int(name[6:])]
        raise AttributeError(name)

    def __repr__(self) -> str:
        """As a named tuple's, written out without recursion (a term may be deep).

        >>> import cdl
        >>> cdl.Layer("Cons", 1.0, ("rest",))
        Layer(constructor='Cons', payload=1.0, children=('rest',))
        """
        parts: list[str] = []
        stack: list[Any] = [self]
        while stack:
            t = stack.pop()
            if isinstance(t, _Text):
                parts.append(t.text)
            elif not isinstance(t, Layer):
                parts.append(repr(t))
            else:
                head = f"Layer(constructor={t.constructor!r}, payload={t.payload!r}, "
                todo: list[Any] = [_Text(head + "children=(")]
                for j, child in enumerate(t.children):
                    todo += [_Text(", ")] if j else []
                    todo.append(child)
                todo.append(_Text(",))" if len(t.children) == 1 else "))"))
                stack.extend(reversed(todo))
        return "".join(parts)

    def __eq__(self, other: object) -> bool:
        """Layer by layer, as tuples compare, without recursion (a term may be deep).

        >>> import cdl
        >>> Zero, Succ = cdl.NatF.patterns
        >>> a, b = Zero(), Zero()
        >>> for _ in range(5000):
        ...     a, b = Succ(a), Succ(b)
        >>> a == b, a == Succ(b), a != b
        (True, False, False)
        """
        if not isinstance(other, Layer):
            return tuple.__eq__(self, other)
        mine, shape = _flatten_layer(self)
        theirs, other_shape = _flatten_layer(other)
        return shape == other_shape and all(
            x is y or bool(x == y) for x, y in zip(mine, theirs, strict=True)
        )

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        """The hash of its flat list of layers (a deep term hashes too)."""
        payloads, shape = _flatten_layer(self)
        return hash((shape, payloads))

    def __reduce__(self) -> tuple[Any, tuple[Any, tuple[Any, ...]]]:
        """Pickled as its flat list of layers, so that a deep term pickles.

        Python's pickle recurses into nested tuples, one level of its stack per
        layer, and failed past about a thousand layers; the list is rebuilt from
        the last node up, without recursion.

        >>> import pickle, cdl
        >>> Zero, Succ = cdl.NatF.patterns
        >>> n = Zero()
        >>> for _ in range(5000):
        ...     n = Succ(n)
        >>> pickle.loads(pickle.dumps(n)) == n
        True
        """
        payloads, shape = _flatten_layer(self)
        return _unflatten_layer, (shape, payloads)

    def __deepcopy__(self, memo: dict[int, Any]) -> "Layer[_X]":
        """A copy of the payloads in a term of the same layers, at any depth.

        >>> import copy, cdl
        >>> Leaf, Node = cdl.TreeF.patterns
        >>> t = Node(Leaf([1.0]), Leaf([2.0]))
        >>> u = copy.deepcopy(t)
        >>> u == t, u.children[0].payload is t.children[0].payload
        (True, False)
        """
        payloads, shape = _flatten_layer(self)
        out: Layer[_X] = _unflatten_layer(shape, copy.deepcopy(payloads, memo))
        return out


class _Text(NamedTuple):
    """Text to write as it is, on `Layer.__repr__`'s stack."""

    text: str


_Shape = tuple[tuple[str | None, int], ...]


def _flatten_layer(layer: Layer[Any]) -> tuple[tuple[Any, ...], _Shape]:
    """A whole term's payloads in preorder, and its constructors as the structure.

    Walked without recursion, so that a term deeper than Python's stack (a long
    ``Cons`` list) passes through `jax.jit`: JAX recurses into what a flatten
    returns, and a layer's children returned as children crashed the interpreter
    at a depth of about 900. A child that is not a layer is kept whole, as a
    payload is (marked ``None``).
    """
    shape: list[tuple[str | None, int]] = []
    payloads: list[Any] = []
    stack: list[Any] = [layer]
    while stack:
        t = stack.pop()
        if isinstance(t, Layer):
            shape.append((t.constructor, len(t.children)))
            payloads.append(t.payload)
            stack.extend(reversed(t.children))
        else:
            shape.append((None, 0))
            payloads.append(t)
    return tuple(payloads), tuple(shape)


def _unflatten_layer(shape: _Shape, payloads: Any) -> Layer[Any]:
    """The term of `_flatten_layer`'s structure, rebuilt from the last node up."""
    built: list[Any] = []
    for (name, arity), payload in zip(reversed(shape), reversed(payloads), strict=True):
        if name is None:
            built.append(payload)
            continue
        children = tuple(built.pop() for _ in range(arity))
        built.append(Layer(name, payload, children))
    top: Layer[Any] = built[0]
    return top


# A term is a pytree whose constructor names are its structure, so that it
# passes through `jax.jit`, `jax.grad` and `jax.tree.map` as its payloads.
jax.tree_util.register_pytree_node(Layer, _flatten_layer, _unflatten_layer)


@dataclasses.dataclass(frozen=True)
class Constructor:
    """A constructor of a polynomial functor.

    **Arguments:** `name`; `payload`, whether it carries a non-recursive field;
    `arity`, its number of recursive fields; `variadic`, whether it holds *up to*
    `arity` children (a rose tree's node) rather than exactly `arity`;
    `payload_at`, the payload's place among the fields as declared (``Bin(x a x)``
    has it at 1), which its pattern follows.

    >>> import cdl
    >>> cdl.Constructor("Node", payload=False, arity=2)
    Node(x x)
    >>> cdl.Constructor("Bin", payload=True, arity=2, payload_at=1)
    Bin(x a x)
    """

    name: str
    payload: bool
    arity: int
    variadic: bool = False
    payload_at: int = 0

    def __post_init__(self) -> None:
        """Refuse a payload place outside the fields."""
        last = 1 if self.variadic else self.arity
        if self.payload_at and not (self.payload and 0 <= self.payload_at <= last):
            raise ValueError(
                _messages.payload_place(self.name, self.payload_at, last, self.payload)
            )

    def fields(self, payload: Any, children: list[Any]) -> list[Any]:
        """`payload` placed among the recursive fields `children` as declared.

        A variadic constructor's children are one field (a list of one).
        """
        out = list(children)
        if self.payload:
            out.insert(self.payload_at, payload)
        return out

    def __repr__(self) -> str:
        children = [f"x*{self.arity}"] if self.variadic else ["x"] * self.arity
        return f"{self.name}({' '.join(self.fields('a', children))})"


@dataclasses.dataclass(frozen=True)
class Functor:
    """A polynomial functor: a name and a tuple of constructors.

    Declare your own with `polynomial`. The library's functors are `ListF`,
    `NonEmptyF`, `TreeF`, `StreamF`, `NatF`, ``RoseF(k)``, ``MealyF(i)`` and
    ``MooreF(i)``.

    **Arguments:** `name`, `constructors`.

    >>> import cdl
    >>> cdl.TreeF
    TreeF = Leaf(a) | Node(x x)
    """

    name: str
    constructors: tuple[Constructor, ...]

    def __repr__(self) -> str:
        return f"{self.name} = " + " | ".join(repr(c) for c in self.constructors)

    @property
    def names(self) -> tuple[str, ...]:
        """The constructors' names, in order (their index is the node tag)."""
        return tuple(c.name for c in self.constructors)

    def constructor(self, name: str) -> Constructor:
        """The constructor called `name`; raises `KeyError` naming the known ones."""
        for c in self.constructors:
            if c.name == name:
                return c
        raise KeyError(_messages.unknown_constructor(self.name, name, self.names))

    def tag(self, name: str) -> int:
        """The index of the constructor called `name`."""
        return self.names.index(self.constructor(name).name)

    def check(self, layer: Layer[Any]) -> None:
        """Raise `ValueError` unless `layer` is a layer of this functor."""
        c = self.constructor(layer.constructor)
        n = len(layer.children)
        if n > c.arity or (n != c.arity and not c.variadic):
            raise ValueError(_messages.wrong_arity(self.name, c.name, c.arity, n))

    def __getattr__(self, name: str) -> Any:
        """A constructor as a pattern class: ``TreeF.Leaf``, ``TreeF.Node``."""
        if "constructors" not in vars(self):
            # Not set up yet (copy and pickle make the object before its fields):
            # reading the names here would call this again without end.
            raise AttributeError(name)
        if name.startswith("_") or name not in self.names:
            raise AttributeError(_messages.no_such_attribute(self.name, name))
        return pattern(self, name)

    @property
    def patterns(self) -> tuple[Any, ...]:
        """Every constructor as a pattern class, in order (see `pattern`)."""
        return tuple(pattern(self, name) for name in self.names)

    def fmap(self, f: Callable[[_X], _Y], layer: Layer[_X]) -> Layer[_Y]:
        """Apply `f` to every recursive field of `layer`; the payload is kept.

        **Arguments:** `f`, a function ``X → Y``; `layer`, a layer of ``F(X)``.

        **Returns:** the layer of ``F(Y)``.

        >>> import cdl
        >>> cdl.ListF.fmap(len, cdl.Layer("Cons", 1, ("abc",)))
        Layer(constructor='Cons', payload=1, children=(3,))
        """
        self.check(layer)
        return Layer(layer.constructor, layer.payload, tuple(map(f, layer.children)))


_FUNCTOR_ATTRIBUTES: Final = frozenset(
    attribute for attribute in dir(Functor) if not attribute.startswith("_")
) | {"name", "constructors"}
"""What ``functor.<name>`` reads on every functor, so no constructor may be called."""


def polynomial(name: str, **constructors: str) -> Functor:
    """Declare a polynomial functor from its constructors' fields.

    Each constructor is given as a string of fields: ``a`` for the payload (at most
    one; use a pytree for several values), ``x`` for each recursive field, ``x*k`` for
    up to `k` children. The payload may stand anywhere (``Bin="x a x"``, as in
    Haskell's ``data TreeF a r = Tip | Bin r a r``): the constructor's pattern
    takes and binds its fields in the order written.

    **Arguments:** `name`; one keyword per constructor, in order.

    **Returns:** the `Functor`, with `fmap` derived.

    >>> import cdl
    >>> expr = cdl.polynomial("ExprF", Num="a", Op="a x x")
    >>> expr
    ExprF = Num(a) | Op(a x x)
    >>> expr.fmap(str, cdl.Layer("Op", "+", (1, 2)))
    Layer(constructor='Op', payload='+', children=('1', '2'))
    >>> tip, bin = cdl.polynomial("BinF", Tip="", Bin="x a x").patterns
    >>> bin(tip(), 5.0, tip()).payload
    5.0
    """
    given: object = name  # annotated, but a user may pass anything
    if not isinstance(given, str) or not name.isidentifier():
        raise TypeError(_messages.functor_name(given))
    if not constructors:
        raise ValueError(_messages.no_constructors(name))
    out = []
    for cname, spec in constructors.items():
        if cname in _FUNCTOR_ATTRIBUTES:
            raise ValueError(_messages.constructor_shadows(name, cname))
        if not cname.isidentifier():
            raise ValueError(_messages.constructor_name(name, cname))
        fields_given: object = spec
        if not isinstance(fields_given, str):
            raise TypeError(_messages.constructor_spec(name, cname, fields_given))
        fields = spec.split()
        payload = fields.count("a")
        recursive = [f for f in fields if f != "a"]
        variadic = [f for f in recursive if f.startswith("x*")]
        if payload > 1 or any(f != "x" for f in recursive if f not in variadic):
            raise ValueError(_messages.constructor_fields(name, cname, spec))
        if variadic:
            if len(recursive) != 1:
                raise ValueError(_messages.variadic_not_alone(name, cname, spec))
            if not variadic[0][2:].isdigit():
                raise ValueError(_messages.variadic_count(name, cname, variadic[0]))
            arity = int(variadic[0][2:])
        else:
            arity = len(recursive)
        at = fields.index("a") if payload else 0
        out.append(Constructor(cname, payload == 1, arity, bool(variadic), at))
    return Functor(name, tuple(out))


ListF = polynomial("ListF", Nil="", Cons="a x")
"""The list functor ``1 + A × X``."""
NonEmptyF = polynomial("NonEmptyF", Last="a", Cons="a x")
"""The non-empty list functor ``A + A × X``."""
TreeF = polynomial("TreeF", Leaf="a", Node="x x")
"""The binary tree functor ``A + X²``."""
StreamF = polynomial("StreamF", Cons="a x")
"""The stream functor ``A × X`` (its final coalgebra is the streams)."""
NatF = polynomial("NatF", Zero="", Succ="x")
"""The natural-number functor ``1 + X``."""


def RoseF(max_children: int) -> Functor:  # noqa: N802
    """The rose-tree functor ``A × List(X)``, with at most `max_children` children.

    **Arguments:** `max_children`, the largest number of children of a node.

    **Returns:** the functor, one variadic constructor ``Node``.

    >>> import cdl
    >>> cdl.RoseF(3)
    RoseF = Node(a x*3)
    """
    return polynomial("RoseF", Node=f"a x*{max_children}")


def MealyF(n_inputs: int) -> Functor:  # noqa: N802
    """The Mealy functor ``(O × X)^I ≅ O^I × X^I`` for a finite input alphabet.

    **Arguments:** `n_inputs`, the size of the input alphabet `I`.

    **Returns:** the functor; its payload is the output for each input.

    >>> import cdl
    >>> cdl.MealyF(2)
    MealyF = Step(a x x)
    """
    return polynomial("MealyF", Step="a" + " x" * n_inputs)


def MooreF(n_inputs: int) -> Functor:  # noqa: N802
    """The Moore functor ``O × X^I`` for a finite input alphabet.

    **Arguments:** `n_inputs`, the size of the input alphabet `I`.

    **Returns:** the functor; its payload is the state's output.

    >>> import cdl
    >>> cdl.MooreF(3)
    MooreF = State(a x x x)
    """
    return polynomial("MooreF", State="a" + " x" * n_inputs)


class Pattern(type):
    """The class of a constructor's pattern.

    Calling it builds a `Layer`, and ``isinstance`` (so Python's ``match``)
    recognises the layers it builds.
    """

    functor: Functor
    constructor: Constructor

    def __instancecheck__(cls, instance: Any) -> bool:
        """Whether `instance` is a layer built by this constructor."""
        return (
            isinstance(instance, Layer) and instance.constructor == cls.constructor.name
        )

    def __call__(cls, *fields: Any) -> Layer[Any]:
        """The layer ``Constructor(field, …)``, its fields in the declared order."""
        c = cls.constructor
        given = list(fields)
        payload = None
        if c.payload and given:
            # a variadic constructor's payload is first or last; a count that
            # is off is refused below
            at = -1 if c.variadic and c.payload_at else c.payload_at
            payload = given.pop(min(at, len(given) - 1))
        if (
            c.variadic
            and len(given) == 1
            and isinstance(given[0], list | tuple)
            and not isinstance(given[0], Layer)  # one child, itself a layer
        ):
            given = list(given[0])
        wanted = int(c.payload) + c.arity
        if (
            (c.payload and not fields)
            or len(given) > c.arity
            or (len(given) < c.arity and not c.variadic)
        ):
            if c.variadic and len(given) > c.arity:
                raise TypeError(
                    _messages.too_many_children(
                        cls.functor.name, repr(c), c.arity, len(given)
                    )
                )
            raise TypeError(
                _messages.pattern_fields(cls.functor.name, repr(c), wanted, len(fields))
            )
        return Layer(c.name, payload, tuple(given))

    def __repr__(cls) -> str:
        return f"{cls.functor.name}.{cls.constructor.name}"


@functools.cache
def pattern(functor: Functor, name: str) -> Pattern:
    """The constructor `name` of `functor` as a class for Python's ``match``.

    Calling it builds a term's layer from its fields in the order the functor
    declares them (``Node(a x x)``: payload, then children); in a ``case`` it
    matches a `Layer` of that constructor and binds the fields in the same order.
    A variadic constructor binds its children as one value (as its cell gets
    them: stacked, with a mask).

    **Arguments:** `functor`; `name`, one of its constructors.

    **Returns:** the pattern class (also reached as ``functor.<name>``).

    >>> import cdl
    >>> Leaf, Node = cdl.TreeF.patterns
    >>> term = Node(Leaf(1.0), Node(Leaf(2.0), Leaf(3.0)))
    >>> def leaves(t):
    ...     match t:
    ...         case Leaf(x):
    ...             return [x]
    ...         case Node(l, r):
    ...             return leaves(l) + leaves(r)
    >>> leaves(term)
    [1.0, 2.0, 3.0]
    >>> cdl.TreeF.Node(1.0)
    Traceback (most recent call last):
    ...
    TypeError: TreeF's Node(x x) takes 2 fields, but 1 were given.
    """
    c = functor.constructor(name)
    children = ["children"] if c.variadic else [f"child_{j}" for j in range(c.arity)]
    namespace = {
        "__match_args__": tuple(c.fields("payload", children)),
        "functor": functor,
        "constructor": c,
        "__module__": "cdl.schemes",
        "__doc__": f"The constructor {c!r} of {functor.name}, as a pattern.",
    }
    return Pattern(name, (), namespace)
