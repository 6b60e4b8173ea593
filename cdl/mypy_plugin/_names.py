"""Every name the plugin answers for, in one place.

cdl's classes are named by their public paths (``cdl.Para``, ``cdl.schemes.Cata``);
`Names` resolves them once, after mypy has loaded the modules, to the full names mypy
gives their definitions, which are what the plugin's hooks are asked about. A program
that does not import cdl resolves nothing and the plugin then checks jax alone.
"""

from collections.abc import Callable
from typing import Final

from mypy.nodes import SymbolTableNode, TypeInfo

ARRAY: Final = "jax.Array"
PARA: Final = "cdl.Para"
COMPOSE: Final = "cdl.Compose"
TENSOR: Final = "cdl.Tensor"
FLATTEN: Final = "cdl.nn.Flatten"
RESHAPE: Final = "cdl.nn.Reshape"
CONCAT: Final = "cdl.nn.Concat"
UPSAMPLE: Final = "cdl.nn.Upsample"
EACH: Final = "cdl.nn.Each"
BLOCK: Final = "cdl.nn.Block"
LIFTED: Final = "cdl.nn.Lifted"
LIFT: Final = "cdl.nn.lift"
RESIDUAL: Final = "cdl.nn.residual"
REPARAM: Final = "cdl.Reparam"
TREE_TABLE: Final = "cdl.schemes._tree.tree_table"
# Folds of node tables: one carrier per root of the table.
TREE_FOLDS: Final = (
    "cdl.schemes._tree_folds.TreeCata",
    "cdl.schemes._tree_folds._TreeFold",
)
# Functions whose result has the spaces (and the parts) of their first argument.
KEEP_BODY: Final = frozenset(
    {
        "cdl.nn._residual.residual",
        "cdl._reparam.tie",
        "cdl._reparam.reparam",
        "cdl._reparam.freeze",
    }
)
ON_NODES: Final = "cdl.graphs.OnNodes"
COKLEISLI: Final = "cdl.graphs.CoKleisli"
MESSAGE_PASSING: Final = "cdl.graphs.MessagePassing"
# Layers whose output sizes follow from their input's, by rank of the spatial axes.
WINDOW_CONVOLUTIONS: Final = {"cdl.nn.Conv1d": 1, "cdl.nn.Conv2d": 2}
TRANSPOSED_CONVOLUTIONS: Final = {
    "cdl.nn.ConvTranspose1d": 1,
    "cdl.nn.ConvTranspose2d": 2,
}
POOLS: Final = {
    "cdl.nn.MaxPool1d": 1,
    "cdl.nn.AvgPool1d": 1,
    "cdl.nn.MaxPool2d": 2,
    "cdl.nn.AvgPool2d": 2,
}
LIST_ALGEBRA: Final = "cdl.schemes.ListAlgebra"
TREE_ALGEBRA: Final = "cdl.schemes.Algebra"
PADDED_LIST: Final = "cdl.schemes.PaddedList"
# Folds of lists whose first type argument is the element space: a fold of a list of
# ``f32[3]`` takes an array ``f32[n,3]``.
LIST_FOLDS: Final = ("cdl.schemes.Cata", "cdl.schemes.FoldL", "cdl.schemes.Zygo")
PUBLIC: Final = (
    ARRAY,
    PARA,
    COMPOSE,
    TENSOR,
    FLATTEN,
    RESHAPE,
    CONCAT,
    UPSAMPLE,
    EACH,
    BLOCK,
    LIFTED,
    REPARAM,
    ON_NODES,
    COKLEISLI,
    MESSAGE_PASSING,
    *WINDOW_CONVOLUTIONS,
    *TRANSPOSED_CONVOLUTIONS,
    *POOLS,
    LIST_ALGEBRA,
    TREE_ALGEBRA,
    PADDED_LIST,
    *LIST_FOLDS,
)
# Where each is defined, for the modules mypy analyses before the public one (cdl's
# own): looked up by public name first, these are only the fallback.
DEFINED_IN: Final = {
    ARRAY: "jax._src.basearray.Array",
    PARA: "cdl._para.Para",
    COMPOSE: "cdl._para.Compose",
    TENSOR: "cdl._para.Tensor",
    FLATTEN: "cdl.nn._shape.Flatten",
    RESHAPE: "cdl.nn._shape.Reshape",
    CONCAT: "cdl.nn._shape.Concat",
    UPSAMPLE: "cdl.nn._upsample.Upsample",
    EACH: "cdl.nn._sequence.Each",
    BLOCK: "cdl.nn._residual.Block",
    LIFTED: "cdl.nn._lift.Lifted",
    LIFT: "cdl.nn._lift.lift",
    RESIDUAL: "cdl.nn._residual.residual",
    REPARAM: "cdl._reparam.Reparam",
    ON_NODES: "cdl.graphs._layers.OnNodes",
    COKLEISLI: "cdl.graphs._layers.CoKleisli",
    MESSAGE_PASSING: "cdl.graphs._layers.MessagePassing",
    "cdl.nn.Conv1d": "cdl.nn._conv.Conv1d",
    "cdl.nn.Conv2d": "cdl.nn._conv.Conv2d",
    "cdl.nn.ConvTranspose1d": "cdl.nn._conv_transpose.ConvTranspose1d",
    "cdl.nn.ConvTranspose2d": "cdl.nn._conv_transpose.ConvTranspose2d",
    "cdl.nn.MaxPool1d": "cdl.nn._pool.MaxPool1d",
    "cdl.nn.AvgPool1d": "cdl.nn._pool.AvgPool1d",
    "cdl.nn.MaxPool2d": "cdl.nn._pool.MaxPool2d",
    "cdl.nn.AvgPool2d": "cdl.nn._pool.AvgPool2d",
    LIST_ALGEBRA: "cdl.schemes._list.ListAlgebra",
    TREE_ALGEBRA: "cdl.schemes._tree.Algebra",
    PADDED_LIST: "cdl.schemes._list.PaddedList",
    "cdl.schemes.Cata": "cdl.schemes._list.Cata",
    "cdl.schemes.FoldL": "cdl.schemes._list.FoldL",
    "cdl.schemes.Zygo": "cdl.schemes._list.Zygo",
}

JAXTYPING_DTYPES: Final = frozenset(
    (
        "BFloat16 Bool Complex Complex64 Complex128 Float Float16 Float32 Float64 "
        "Inexact Int Int8 Int16 Int32 Int64 Integer Key Num Real Shaped UInt UInt8 "
        "UInt16 UInt32 UInt64"
    ).split()
)
ANNOTATED: Final = frozenset({"typing.Annotated", "typing_extensions.Annotated"})

BINARY_UFUNC_CALL: Final = "jax.numpy.BinaryUfunc.__call__"
VMAPS: Final = frozenset({"jax._src.api.vmap", "equinox._vmap_pmap.filter_vmap"})
SCAN: Final = "jax._src.lax.control_flow.loops.scan"
# ``jax.jit`` and what it returns; ``functools.partial(jax.jit, ...)`` is claimed too.
JIT: Final = "jax._src.api.jit"
# ``jax.grad`` and ``jax.value_and_grad``: whether each also returns the value.
GRADS: Final = {"jax._src.api.grad": False, "jax._src.api.value_and_grad": True}
CHECKPOINT: Final = frozenset(
    {"jax._src.ad_checkpoint.checkpoint", "jax._src.ad_checkpoint.remat"}
)
JIT_WRAPPED: Final = "jax._src.pjit.JitWrapped"
PARTIAL: Final = "functools.partial"
# Calls of a ``functools.partial`` object (``@partial(jax.vmap, in_axes=...)``).
PARTIAL_CALL: Final = "functools.partial.__call__"
# Generic functions whose result stacks what a callback returns: these type variables
# of their signatures are erased (the plugin types the result).
# Copies a dataclass (an Equinox module) with some fields replaced: a new instance.
REPLACE: Final = "dataclasses.replace"
ERASED_TYPE_VARIABLES: Final = {
    SCAN: frozenset({"X", "Y"}),
    # einops' `Tensor`: the result's shape is the pattern's, not the input's.
    **{
        f"einops.einops.{name}": frozenset({"Tensor"})
        for name in ("rearrange", "reduce", "repeat")
    },
}

ELEMENTWISE_METHODS: Final = frozenset(
    f"__{n}__"
    for n in (
        "add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod "
        "pow rpow lt le gt ge eq ne and rand or ror xor rxor"
    ).split()
)
MORPHISM_METHODS: Final = frozenset(
    {"__rshift__", "__matmul__", "then", "tensor", "__call__"}
)
UNARY_METHODS: Final = frozenset(
    {"__neg__", "__pos__", "__abs__", "__invert__"}
    | {"astype", "round", "conj", "conjugate", "copy"}
)
# ``x.at[i].set(v)`` and the other updates of an array: of the shape of `x`.
INDEX_UPDATES: Final = frozenset(
    f"jax._src.basearray._IndexUpdateRef.{name}"
    for name in "set add subtract mul multiply divide power min max apply".split()
)
UNARY_FUNCTIONS: Final = frozenset(
    [
        f"jax.numpy.{n}"
        for n in (
            "tanh exp log log1p expm1 sin cos tan sqrt abs absolute negative square "
            "sign floor ceil round exp2 log2 log10 reciprocal arctan arcsin arccos "
            "sinh cosh arctanh logical_not isnan isfinite isinf rint trunc fix cbrt "
            "arcsinh arccosh conj conjugate real imag positive deg2rad rad2deg "
            "degrees radians sinc signbit nan_to_num roll flip fliplr flipud triu "
            "tril"
        ).split()
    ]
    + [
        f"{module}.{n}"
        for module in ("jax.nn", "jax._src.nn.functions")
        for n in (
            "relu relu6 gelu sigmoid silu swish elu celu selu softplus soft_sign "
            "leaky_relu hard_tanh hard_sigmoid log_sigmoid softmax log_softmax "
            "standardize glu mish squareplus sparse_plus"
        ).split()
    ]
    + [
        f"{module}.{n}"
        for module in ("jax.lax", "jax._src.lax.lax")
        for n in (
            "rsqrt sqrt cbrt exp exp2 expm1 log log1p logistic tanh sin cos tan "
            "sinh cosh asin acos atan asinh acosh atanh abs neg sign floor ceil "
            "round square reciprocal integer_pow is_finite convert_element_type"
        ).split()
    ]
)
REDUCTIONS: Final = frozenset(
    (
        "sum mean max min prod var std any all amax amin nansum nanmean nanmax "
        "nanmin nanprod nanstd nanvar median nanmedian average ptp count_nonzero "
        "argmax argmin nanargmax nanargmin"
    ).split()
)
# Norms reduce their axes as sums do (``ord`` changes the value, not the shape).
# Reductions outside ``jax.numpy``'s namespace, with ``axis`` and ``keepdims``.
NORMS: Final = frozenset(
    {
        "jax.numpy.linalg.norm",
        "jax.numpy.linalg.vector_norm",
        "jax.nn.logsumexp",
        "jax._src.ops.special.logsumexp",
        "jax.scipy.special.logsumexp",
    }
)
BINARY_FUNCTIONS: Final = frozenset(
    f"jax.numpy.{n}"
    for n in (
        "add subtract multiply divide true_divide maximum minimum power "
        "greater less greater_equal less_equal equal not_equal"
    ).split()
)


class Names:
    """The definitions' full names of the public names above, resolved on demand.

    **Arguments:** `lookup`, mypy's ``lookup_fully_qualified`` of the plugin.

    **Returns:** a resolver: ``names[PARA]`` is the full name of the class that
    ``cdl.Para`` is.

    >>> names = Names(lambda name: None)
    >>> names[PARA]
    'cdl._para.Para'
    """

    def __init__(self, lookup: Callable[[str], SymbolTableNode | None]) -> None:
        self._lookup = lookup
        self._found: dict[str, str] = {}

    def info(self, public: str) -> TypeInfo | None:
        """The class a public name stands for, None while it is not loaded."""
        for name in (public, DEFINED_IN.get(public)):
            try:
                node = self._lookup(name) if name else None
            except (KeyError, AssertionError):
                node = None
            if node is not None and isinstance(node.node, TypeInfo):
                self._found[public] = node.node.fullname
                return node.node
        return None

    def __getitem__(self, public: str) -> str:
        if public not in self._found:
            self.info(public)
        return self._found.get(public, DEFINED_IN.get(public, public))

    def list_folds(self) -> frozenset[str]:
        """The definitions' names of the folds of lists."""
        return frozenset(self[n] for n in LIST_FOLDS)


# The batch axis that ``jax.vmap`` adds to a function's signature: a named dimension
# of the mapped function (`._jax_ops`), bound at its calls (`._calls`).
VMAP_AXIS: Final = "vmap"


def is_vmap_axis(name: str) -> bool:
    """Whether `name` is a batch axis that ``jax.vmap`` added (``vmap``, ``vmap2``)."""
    return name.startswith(VMAP_AXIS) and name[len(VMAP_AXIS) :] in ("", *"23456789")
