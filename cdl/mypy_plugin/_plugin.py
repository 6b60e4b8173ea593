"""cdl's mypy plugin: the dispatch from the names mypy asks about to the hooks.

Each feature lives in its own module: `._annotations` (jaxtyping annotations as shaped
types), `._morphisms` (``>>``, ``@``, application and algebras of `Para` maps),
`._jax_ops` (shape rules of jax operations). The names they answer for are in
`._names`; the shape algebra in `._shapes`. This module only routes: every hook is
guarded, so a failure inside the plugin falls back to mypy's own answer.
"""

import functools
import hashlib
import pathlib
from collections.abc import Callable
from typing import Any, TypeVar

from mypy.checker import SetNothingToAny
from mypy.nodes import (
    Decorator,
    Expression,
    FuncDef,
    MemberExpr,
    MypyFile,
    NameExpr,
    SymbolNode,
    TypeAlias,
    TypeInfo,
    Var,
    get_member_expr_fullname,
)
from mypy.options import Options
from mypy.plugin import (
    AnalyzeTypeContext,
    AttributeContext,
    ClassDefContext,
    FunctionContext,
    FunctionSigContext,
    MethodContext,
    MethodSigContext,
    Plugin,
    ReportConfigContext,
)
from mypy.types import CallableType, FunctionLike, Instance, Type, get_proper_type

from . import (
    _actions,
    _aliases,
    _annotations,
    _builders,
    _calls,
    _context,
    _einops,
    _eqx_layers,
    _fields,
    _grad,
    _indexing,
    _instances,
    _jax_ops,
    _jit,
    _jit_args,
    _lambdas,
    _layers,
    _lifts,
    _linalg,
    _morphisms,
    _named_tuples,
    _printing,
    _redefine,
    _unknown,
    _updates,
)
from ._names import (
    ANNOTATED,
    ARRAY,
    BINARY_FUNCTIONS,
    BINARY_UFUNC_CALL,
    CHECKPOINT,
    ELEMENTWISE_METHODS,
    ERASED_TYPE_VARIABLES,
    GRADS,
    INDEX_UPDATES,
    JIT,
    KEEP_BODY,
    LIFT,
    LIST_ALGEBRA,
    MORPHISM_METHODS,
    NORMS,
    PARA,
    PARTIAL,
    PARTIAL_CALL,
    REDUCTIONS,
    REPLACE,
    TREE_ALGEBRA,
    TREE_TABLE,
    UNARY_FUNCTIONS,
    UNARY_METHODS,
)
from ._types import (
    ARRAY_CLASS,
    Env,
    ModuleConstants,
    array_dims,
    callee_name,
    use_module_constants,
)

_Ctx = TypeVar("_Ctx")
_Call = TypeVar("_Call", FunctionContext, MethodContext)
_Out = TypeVar("_Out")
_Sig = TypeVar("_Sig", FunctionSigContext, MethodSigContext)


@functools.cache
def sources_digest(package: pathlib.Path) -> str:
    """A digest of the plugin's sources in `package`, every module of it.

    >>> len(sources_digest(pathlib.Path(__file__).resolve().parent))
    16
    """
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


class CdlPlugin(Plugin):
    """Shape checks for cdl morphisms and the jax operations in their bodies.

    mypy makes one from its options; each ``get_*_hook`` answers for the names the
    plugin checks and leaves every other name to mypy and the other plugins.

    **Arguments:** `options`, mypy's options.

    **Returns:** the plugin.

    >>> from mypy.options import Options
    >>> plugin = CdlPlugin(Options())
    >>> plugin.set_modules({})
    >>> plugin.get_method_hook("jax._src.basearray.Array.__matmul__") is not None
    True
    >>> plugin.get_function_hook("builtins.len") is None
    True
    """

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.env = Env(self.lookup_fully_qualified)
        self._callees: dict[str, bool] = {}
        self._array_callees: dict[str, bool] = {}
        self._array_values: dict[str, bool] = {}
        self._variadics: dict[str, bool] = {}
        self._decorated: dict[str, bool] = {}
        self._sized_returns: dict[str, FuncDef | None] = {}
        # ``disable_error_code = shape`` turns off all that the plugin adds: named
        # dimensions are then unknown sizes, not rigid ones that mypy compares.
        self._rigid = "shape" not in options.disable_error_code
        self._aliases = _aliases.Aliases({}, options)
        self._arrays = _printing.ArrayAnnotations()

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        """The digest of the plugin's sources, kept in mypy's cache of each module.

        mypy re-checks a module when this changes; of a plugin it otherwise tracks
        only the entry module, so a newer cdl whose other plugin modules changed
        would leave results of the older plugin in the cache.
        """
        return sources_digest(pathlib.Path(__file__).resolve().parent)

    def set_modules(self, modules: dict[str, MypyFile]) -> None:
        """Keep mypy's trees: module-level constants and aliases are read from them."""
        super().set_modules(modules)
        use_module_constants(ModuleConstants(modules))
        self._aliases = _aliases.Aliases(modules, self.options)

    def _lookup(self, fullname: str) -> SymbolNode | None:
        """What `fullname` names, if mypy knows it already.

        mypy names a method after the class of the object it is called on
        (``Sub.sample`` for a ``sample`` that ``Sub`` inherits), so a member not
        found in its class is looked up along the class's bases.
        """
        found = self._lookup_exact(fullname)
        if found is not None:
            return found
        cls, _, member = fullname.rpartition(".")
        owner = self._lookup_exact(cls) if cls else None
        if not isinstance(owner, TypeInfo):
            return None
        inherited = owner.get(member)
        return None if inherited is None else inherited.node

    def _lookup_exact(self, fullname: str) -> SymbolNode | None:
        try:
            found = self.lookup_fully_qualified(fullname)
        except (KeyError, AssertionError):
            return None
        return None if found is None else found.node

    def _names_dimensions(self, fullname: str) -> bool:
        """Whether the callee `fullname` is user code with named dimensions.

        The plugin claims only these calls: another plugin later in the chain (mypy's
        own for ``functools.partial``, say) keeps every other name.
        """
        if fullname not in self._callees:
            node = self._lookup(fullname)
            self._callees[fullname] = node is not None and _calls.names_dimensions(node)
        return self._callees[fullname]

    def _array_value(self, fullname: str) -> bool:
        """Whether `fullname` is a variable holding a function of arrays.

        Its calls are claimed so that mypy's errors name it (`._calls.named_value`).
        """
        if fullname not in self._array_values:
            node = self._lookup(fullname)
            typ = get_proper_type(node.type) if isinstance(node, Var) else None
            self._array_values[fullname] = isinstance(
                typ, CallableType
            ) and _calls.takes_arrays(typ)
        return self._array_values[fullname]

    def _variadic(self, fullname: str) -> bool:
        """Whether the callee `fullname` is generic in a ``TypeVarTuple``.

        Its calls are claimed so that an ``Any`` in their type context, which mypy
        cannot use for such a callee, is dropped (`._context`).
        """
        if fullname not in self._variadics:
            self._variadics[fullname] = _context.variadic(self._lookup(fullname))
        return self._variadics[fullname]

    def _returns_array(self, fullname: str) -> bool:
        """Whether the callee `fullname` is declared to return an array.

        Its calls are claimed so that the name they re-bind takes the new shape
        (`._redefine`).
        """
        if fullname not in self._array_callees:
            node = self._lookup(fullname)
            self._array_callees[fullname] = (
                node is not None and _redefine.returns_array(node)
            )
        return self._array_callees[fullname]

    def _cdl_operator(self, cls: str, method: str) -> bool:
        """Whether `method` of the morphism class `cls` is cdl's own.

        A user's class that defines ``>>`` (or ``@``, ``then``, ``tensor``) itself is
        left to the signature it declares.
        """
        info = self.env.para(cls)
        if info is None:
            return False
        owner = info.get_containing_type_info(method)
        return (
            method == "__call__" or owner is None or owner.fullname.startswith("cdl.")
        )

    # the dispatch ------------------------------------------------------------------

    def _analyze_hook(
        self, fullname: str
    ) -> Callable[[AnalyzeTypeContext], Type] | None:
        rigid = self._rigid
        if fullname in ANNOTATED:
            return lambda ctx: _annotations.analyze_jaxtyping(ctx, rigid=rigid)
        node = self._lookup(fullname)
        expr = self._aliases.definition(fullname, node)
        if isinstance(node, TypeAlias) and expr is not None:
            return lambda ctx: _aliases.expand(ctx, node, expr, rigid=rigid)
        return None

    def _base_class_hook(
        self, fullname: str
    ) -> Callable[[ClassDefContext], None] | None:
        para = self.env.names[PARA]
        if fullname == para:
            return lambda ctx: _annotations.shape_para_base(
                para, ctx, lambda expr: self._alias_of(ctx, expr)
            )
        return None

    def _alias_of(self, ctx: ClassDefContext, expr: Expression) -> Expression | None:
        """The definition of the jaxtyping alias that `expr` names (None: not one)."""
        name = (
            expr.name
            if isinstance(expr, NameExpr)
            else get_member_expr_fullname(expr)
            if isinstance(expr, MemberExpr)
            else None
        )
        found = (
            ctx.api.lookup_qualified(name, expr, suppress_errors=True) if name else None
        )
        node = found.node if found is not None else None
        if not isinstance(node, TypeAlias):
            return None
        return self._aliases.definition(node.fullname, node)

    def _may_be_jitted(self, fullname: str) -> bool:
        """Whether `fullname` may be a jitted function (a decorated one or a value).

        A local name (``jax.jit(f)(x)`` calls a value named after `f`) may be one
        too; whether it is one is read from its signature at the call. A name
        whose type is known and not jitted is left to the other plugins (mypy's
        own has hooks for some decorated functions); one not yet inferred (a
        function decorated below its first call) is asked again.
        """
        if "." not in fullname:
            return True
        if fullname in self._decorated:
            return self._decorated[fullname]
        node = self._lookup(fullname)
        var = node.var if isinstance(node, Decorator) else node
        if not isinstance(var, Var):
            self._decorated[fullname] = False
            return False
        typ = get_proper_type(var.type) if var.type is not None else None
        if typ is None:
            return True
        found = isinstance(typ, FunctionLike) and _jit_args.jitted(typ) is not None
        self._decorated[fullname] = found
        return found

    def _returning_sized(
        self, fullname: str, hook: Callable[[_Call], Type] | None
    ) -> Callable[[_Call], Type] | None:
        """`hook`, whose result also carries the sizes of what the callee returns.

        For a function or method declared to return a class whose fields name
        dimensions (`._instances.returned`).
        """
        if fullname not in self._sized_returns:
            self._sized_returns[fullname] = _instances.returns_sized(
                self._lookup(fullname)
            )
        func = self._sized_returns[fullname]
        if func is None:
            return hook
        env, checked = self.env, hook

        def run(ctx: _Call) -> Type:
            result = ctx.default_return_type if checked is None else checked(ctx)
            return _instances.returned(env, ctx, func, result)

        return run

    def _function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        hook = self._returning_sized(fullname, self._function_return_hook(fullname))
        if not self._may_be_jitted(fullname):
            return hook
        return _jit_args.converting(self.env, hook)

    def _function_return_hook(
        self, fullname: str
    ) -> Callable[[FunctionContext], Type] | None:
        env = self.env
        if fullname == _jit_args.FILTER_JIT:
            return lambda ctx: _jit_args.mark_filter_jit(
                ctx, _calls.instantiate(env, ctx)
            )
        if fullname in _einops.FUNCTIONS:
            kind = _einops.FUNCTIONS[fullname]
            return lambda ctx: _einops.einops_call(env, ctx, kind)
        if fullname in _jax_ops.FUNCTION_RULES:
            rule = _jax_ops.FUNCTION_RULES[fullname]
            return lambda ctx: _calls.forget_foreign(ctx.api, rule(env, ctx))
        if fullname in _linalg.DECOMPOSITIONS:
            return lambda ctx: _linalg.decomposition(env, ctx, fullname)
        if fullname in NORMS or (
            fullname.startswith("jax.numpy.") and fullname[10:] in REDUCTIONS
        ):
            return lambda ctx: _jax_ops.reduce_fn(env, ctx)
        if fullname in UNARY_FUNCTIONS:
            return lambda ctx: _jax_ops.same_as_first(env, ctx)
        if fullname in BINARY_FUNCTIONS:
            return lambda ctx: _jax_ops.broadcast_fn(env, ctx, fullname)
        if fullname == JIT:
            return lambda ctx: _calls.forget_foreign(ctx.api, _jit.jit(env, ctx))
        if fullname in GRADS:
            value = GRADS[fullname]
            return lambda ctx: _calls.forget_foreign(
                ctx.api, _grad.grad(ctx, with_value=value)
            )
        if fullname in CHECKPOINT:
            return lambda ctx: _calls.forget_foreign(ctx.api, _jit.checkpoint(ctx))
        if fullname == PARTIAL:
            return lambda ctx: _jit.partial(env, ctx)
        if fullname == env.names[LIFT]:
            return lambda ctx: _lifts.lift(env, ctx)
        if fullname in KEEP_BODY:
            return lambda ctx: _lifts.keep_body(env, ctx)
        if fullname == TREE_TABLE:
            return lambda ctx: _layers.forest(env, ctx)
        if fullname in _actions.BUILDERS:
            return lambda ctx: _actions.action(env, ctx, fullname)
        builder = _builders.builder_name(fullname)
        if builder is not None:
            return lambda ctx: _builders.build(env, ctx, builder)
        info = env.para(fullname)
        if info is not None and (info.defn.type_vars or fullname.startswith("cdl.")):
            return lambda ctx: _morphisms.construct(env, ctx, info)
        if fullname == _eqx_layers.INFERENCE_MODE:
            return _eqx_layers.inference_mode
        if fullname in _eqx_layers.CONSTRUCTORS:
            return lambda ctx: _eqx_layers.construct(
                env, ctx, fullname, _calls.instantiate(env, ctx)
            )
        if fullname.startswith(_UNSHAPED) or self._names_dimensions(fullname):
            return lambda ctx: _calls.instantiate(env, ctx)
        if fullname == REPLACE:
            return lambda ctx: _calls.instantiate_pending(env, ctx)
        if "." not in fullname:  # a local name, or a value called at once
            return lambda ctx: (
                _lambdas.vmapped_call(env, ctx) or _calls.instantiate_pending(env, ctx)
            )
        if self._mapped_lambda(fullname):
            return lambda ctx: (
                _lambdas.vmapped_call(env, ctx) or ctx.default_return_type
            )
        return _default_return if self._returns_array(fullname) else None

    def _mapped_lambda(self, fullname: str) -> bool:
        """Whether `fullname` is a name bound to ``jax.vmap`` of a lambda."""
        node = self._lookup(fullname)
        return isinstance(node, Var) and _lambdas.is_mapped(node.type)

    def _function_signature_hook(
        self, fullname: str
    ) -> Callable[[FunctionSigContext], FunctionLike] | None:
        hook = self._function_sig_hook(fullname)
        return _jit_args.noting(hook) if self._may_be_jitted(fullname) else hook

    def _function_sig_hook(
        self, fullname: str
    ) -> Callable[[FunctionSigContext], FunctionLike] | None:
        env = self.env
        if fullname == _jit_args.FILTER_JIT:
            return _jit_args.without_context
        if fullname in ERASED_TYPE_VARIABLES:
            names = ERASED_TYPE_VARIABLES[fullname]
            return lambda ctx: _jax_ops.erase(ctx.default_signature, names)
        if fullname == env.names[LIST_ALGEBRA]:
            return lambda ctx: _morphisms.list_algebra(env, ctx)
        if fullname == env.names[TREE_ALGEBRA]:
            return lambda ctx: _morphisms.tree_algebra(env, ctx)
        if fullname == REPLACE:
            return _calls.relax_replace
        if "." not in fullname:  # a local name: ``cls(rows)`` in a class method
            return _calls.relax_constructor
        if self._names_dimensions(fullname):
            return _calls.relax
        return _calls.named_value if self._array_value(fullname) else None

    def _method_signature_hook(
        self, fullname: str
    ) -> Callable[[MethodSigContext], FunctionLike] | None:
        hook = self._method_sig_hook(fullname)
        return _jit_args.noting(hook) if self._may_be_jitted(fullname) else hook

    def _method_sig_hook(
        self, fullname: str
    ) -> Callable[[MethodSigContext], FunctionLike] | None:
        env = self.env
        cls, _, method = fullname.rpartition(".")
        if method == "__call__" and cls in env.names.list_folds():
            # mypy checks the kind of list (array or PaddedList), the plugin its shape.
            return None
        if method in MORPHISM_METHODS and self._cdl_operator(cls, method):
            composes = method != "__call__"
            return lambda ctx: _calls.relax(
                ctx, _morphisms.relax_first(env, ctx, composes=composes)
            )
        return _calls.relax if self._names_dimensions(fullname) else None

    def _method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        hook = self._method_return_hook(fullname)
        if not self._may_be_jitted(fullname):
            return hook
        return _jit_args.converting(self.env, hook)

    def _method_return_hook(
        self, fullname: str
    ) -> Callable[[MethodContext], Type] | None:
        env = self.env
        cls, _, method = fullname.rpartition(".")
        if method in MORPHISM_METHODS and self._cdl_operator(cls, method):
            if method in ("__rshift__", "then"):
                return lambda ctx: _morphisms.then(env, ctx)
            if method in ("__matmul__", "tensor"):
                return lambda ctx: _morphisms.tensor(env, ctx)
            return lambda ctx: _morphisms.apply(env, ctx)
        if method == "_replace" and _named_tuples.is_named_tuple(self.env.info(cls)):
            return _named_tuples.replaced
        if fullname in INDEX_UPDATES:
            return lambda ctx: _updates.index_update(env, ctx)
        if fullname == PARTIAL_CALL:
            return lambda ctx: _jax_ops.partial_vmap_call(env, ctx)
        if fullname == BINARY_UFUNC_CALL:
            return lambda ctx: _jax_ops.broadcast_fn(env, ctx, callee_name(ctx.context))
        if fullname in _eqx_layers.CALLS:
            return lambda ctx: _eqx_layers.call(env, ctx)
        if cls != env.names[ARRAY]:
            if self._names_dimensions(fullname):
                return lambda ctx: _calls.instantiate(env, ctx)
            return _default_return if self._returns_array(fullname) else None
        if method in ("__matmul__", "__rmatmul__"):
            reverse = method == "__rmatmul__"
            return lambda ctx: _jax_ops.array_matmul(env, ctx, reverse=reverse)
        if method in ELEMENTWISE_METHODS:
            return lambda ctx: _jax_ops.array_broadcast(env, ctx)
        if method in UNARY_METHODS:
            return _jax_ops.same_as_object
        if method in REDUCTIONS:
            return lambda ctx: _jax_ops.reduce(env, ctx, array_dims(ctx.type), 0)
        rule = _ARRAY_METHODS.get(method)
        return None if rule is None else lambda ctx: rule(env, ctx)

    def _attribute_hook(
        self, fullname: str
    ) -> Callable[[AttributeContext], Type] | None:
        if fullname == self.env.names[ARRAY] + ".T":
            return lambda ctx: _redefine.redefine(
                ctx, _jax_ops.array_t(self.env, _unknown.erase_unknown(ctx))
            )
        if fullname == self.env.names[ARRAY] + ".mT":
            return lambda ctx: _redefine.redefine(
                ctx, _jax_ops.array_mt(self.env, _unknown.erase_unknown(ctx))
            )
        cls, _, name = fullname.rpartition(".")
        info = self.env.info(cls)
        if info is None:
            return None
        if fullname in _eqx_layers.WEIGHTS:
            return lambda ctx: _eqx_layers.weight(self.env, ctx)
        hook = self._field_hook(info, name)
        if not _instances.declared_sized(info, name):
            return hook
        # ``net.enc`` of a module given to ``Net(enc=...)`` with its sizes.
        inner = hook if hook is not None else _default_attribute
        return lambda ctx: _instances.part(ctx, name) or inner(ctx)

    def _field_hook(
        self, info: TypeInfo, name: str
    ) -> Callable[[AttributeContext], Type] | None:
        built = (
            _fields.built_in_init(info, name)
            if _fields.declared_morphism(info, name, self.env.names[PARA])
            or _eqx_layers.declared_layer(info, name)
            or _instances.declared_sized(info, name)
            else None
        )
        if built is not None:
            owner = info if _calls.carries_symbols(info) else None
            init, value = built
            return lambda ctx: _eqx_layers.built_by(
                self.env, _fields.field_type(ctx, init, value, owner=owner), value
            )
        index = _named_tuples.field_index(info, name)
        if index is not None and _calls.carries_symbols(info):
            return lambda ctx: _calls.forget_attribute(
                _named_tuples.field(ctx, index), info
            )
        if index is not None:
            return lambda ctx: _named_tuples.field(ctx, index).default_attr_type
        if _calls.carries_symbols(info):
            return lambda ctx: _calls.forget_attribute(ctx, info)
        if _inferred_attribute(info, name):
            # ``self.array = array`` in ``__init__``: the parameter's symbols are
            # __init__'s, unknown sizes wherever else the attribute is read.
            return lambda ctx: _calls.forget_foreign(ctx.api, ctx.default_attr_type)
        return None

    # the hooks mypy calls: a failure inside the plugin never stops mypy ---------

    def get_type_analyze_hook(
        self, fullname: str
    ) -> Callable[[AnalyzeTypeContext], Type] | None:
        """Jaxtyping's ``Float[Array, "b 784"]`` becomes ``Array[b, 784]``.

        An annotation naming ``Array`` is read as mypy reads it; the plugin only
        makes sure, first, that messages write an unshaped array ``Array``.
        """
        if fullname == self.env.names[ARRAY] and not self._arrays.reading:
            return self._arrays.analyze
        return _guard(self._analyze_hook(fullname), _annotations.analyze_plain)

    def get_base_class_hook(
        self, fullname: str
    ) -> Callable[[ClassDefContext], None] | None:
        """Shapes in the declared spaces of a `Para` subclass."""
        return _guard(self._base_class_hook(fullname), lambda ctx: None)

    def get_function_hook(
        self, fullname: str
    ) -> Callable[[FunctionContext], Type] | None:
        """Constructors of generic morphisms and shape-aware jax functions."""
        hook = _guard(_redefining(self._function_hook(fullname)), _default_return)
        if " of " not in fullname:
            return hook
        # A callee of no full name, as ``super().__call__`` (``__call__ of Base``).
        return _guard(_calls.super_result(hook), _default_return)

    def get_function_signature_hook(
        self, fullname: str
    ) -> Callable[[FunctionSigContext], FunctionLike] | None:
        """Shape-changing generic functions and the carriers of algebras."""
        hook = self._function_signature_hook(fullname)
        if self._variadic(fullname):
            hook = _without_any_context(hook)
        return _guard(hook, lambda ctx: ctx.default_signature)

    def get_method_signature_hook(
        self, fullname: str
    ) -> Callable[[MethodSigContext], FunctionLike] | None:
        """Let the plugin, not mypy's invariance, judge what a morphism accepts."""
        hook = self._method_signature_hook(fullname)
        if self._variadic(fullname):
            hook = _without_any_context(hook)
        return _guard(hook, lambda ctx: ctx.default_signature)

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        """Composition, application of morphisms, and shape rules of array methods."""
        return _guard(_redefining(self._method_hook(fullname)), _default_return)

    def get_attribute_hook(
        self, fullname: str
    ) -> Callable[[AttributeContext], Type] | None:
        """``x.T`` reverses the shape of `x`."""
        return _guard(self._attribute_hook(fullname), lambda ctx: ctx.default_attr_type)


# Libraries of higher-order functions: what their calls return forgets the symbols of
# the callables given to them (``jax.jit(f)``, ``eqx.filter_grad(loss)``).
_UNSHAPED = ("jax.", "equinox.", "optax.")

_ARRAY_METHODS: dict[str, Callable[[Env, MethodContext], Type]] = {
    "reshape": _jax_ops.array_reshape,
    "__getitem__": _indexing.array_index,
    "transpose": _jax_ops.array_transpose,
    **{
        name: _jax_ops.axes_hook(name)
        for name in ("swapaxes", "squeeze", "ravel", "flatten")
    },
}


def _inferred_attribute(info: TypeInfo, name: str) -> bool:
    """Whether `name` of the user class `info` is an attribute typed by assignment."""
    if info.fullname.startswith(("cdl.", "builtins.", "jax.", "equinox.", "numpy.")):
        return False
    node = info.names.get(name)
    var = node.node if node is not None else None
    return isinstance(var, Var) and var.is_inferred and not var.is_classvar


def _redefining(
    hook: Callable[[_Call], Type] | None,
) -> Callable[[_Call], Type] | None:
    """`hook`, whose result also re-binds the name it is assigned to.

    The hook sees an operand that reads a name of unknown shape as of any shape.
    """
    if hook is None:
        return None
    checked = hook
    return lambda ctx: _redefine.redefine(
        ctx, _no_never(checked(_unknown.erase_unknown(ctx)))
    )


def _no_never(typ: Type) -> Type:
    """`typ`, an array of sizes mypy could not infer (``Never``) of unknown sizes.

    mypy infers ``Never`` for a shape bound only by an argument of an invalid type
    (``key: jr.PRNGKey``, a function); it would then ask for an annotation of the
    name the call is assigned to, an error on a line that has none.
    """
    proper = get_proper_type(typ)
    if not isinstance(proper, Instance) or proper.type.fullname != ARRAY_CLASS:
        return typ
    args = [arg.accept(SetNothingToAny()) for arg in proper.args]
    return proper.copy_modified(args=args)


def _without_any_context(
    hook: Callable[[_Sig], FunctionLike] | None,
) -> Callable[[_Sig], FunctionLike]:
    """`hook` (or mypy's own signature), checked without ``Any`` in its context."""

    def run(ctx: _Sig) -> FunctionLike:
        _context.drop_any(ctx)
        return ctx.default_signature if hook is None else hook(ctx)

    return run


def _guard(
    hook: Callable[[_Ctx], _Out] | None, fallback: Callable[[_Ctx], _Out]
) -> Callable[[_Ctx], _Out] | None:
    """`hook`, falling back to mypy's own answer if the plugin fails on a program."""
    if hook is None:
        return None
    checked = hook

    def run(ctx: _Ctx) -> _Out:
        try:
            _printing.install(getattr(ctx, "api", None))
            return checked(ctx)
        except Exception:  # a plugin bug must not stop type checking
            return fallback(ctx)

    return run


def _default_attribute(ctx: AttributeContext) -> Type:
    return ctx.default_attr_type


def _default_return(ctx: FunctionContext | MethodContext) -> Type:
    return ctx.default_return_type
