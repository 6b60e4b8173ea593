"""jax's own ``Array``, unshaped, is of unknown shape to the plugin, not a scalar.

Where cdl's stubs are not on mypy's path (an editable install, a project that names
the plugin but not the stubs), ``Array`` is jax's class, with no type arguments: an
array mypy knows nothing of. Read as a scalar, it made composites of folds false
``[shape]`` errors (``output f32[] of rnn != input f32[64]``).
"""

from mypy.nodes import Block, ClassDef, SymbolTable, TypeInfo
from mypy.types import Instance, LiteralType

from cdl.mypy_plugin._shapes import Arr, Star
from cdl.mypy_plugin._types import ARRAY_CLASS, array_dims, space_of


def _jax_array() -> TypeInfo:
    """A stand-in for jax's ``Array`` class: not generic."""
    module, name = ARRAY_CLASS.rsplit(".", 1)
    info = TypeInfo(SymbolTable(), ClassDef(name, Block([])), module)
    info._fullname = ARRAY_CLASS
    return info


def test_a_bare_unshaped_array_has_an_unknown_shape() -> None:
    bare = Instance(_jax_array(), [])
    assert space_of(bare) == Arr((Star(None),))
    assert array_dims(bare) == (Star(None),)


def test_a_shape_the_plugin_wrote_on_it_is_read() -> None:
    info = _jax_array()
    int_info = TypeInfo(SymbolTable(), ClassDef("int", Block([])), "builtins")
    int_type = Instance(int_info, [])
    shaped = Instance(info, [LiteralType(64, int_type)])
    assert space_of(shaped) == Arr((64,))
