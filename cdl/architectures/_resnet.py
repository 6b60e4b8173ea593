"""Residual networks for images, with batch normalisation's state on a wire.

`BatchNorm` maps ``x × State → y × State``; a layer without state joins the
chain as ``f @ id`` (`with_state`), so a ResNet is a composite of morphisms
``A × State → B × State``. A basic block copies its input, runs the body on one
copy and the shortcut on the other, threading the state through both, and adds:

>>> import equinox as eqx, jax, jax.numpy as jnp, cdl
>>> from cdl.architectures import basic_block
>>> block, state = eqx.nn.make_with_state(basic_block)(4, 8, 2, key=jax.random.key(0))
>>> block.label
'BasicBlock(4→8, stride 2)'
>>> block.output_space(cdl.space_of((jnp.ones((4, 8, 8)), state)))
(float[8,4,4] × State)
"""

from collections.abc import Sequence
from typing import Any

import jax
from jaxtyping import PRNGKeyArray

from .._para import Para, Tensor
from .._space import ProductSpace, Space
from .._structure import Copy, Fst, Identity
from ..nn import BatchNorm, Block, Conv2d, GlobalAvgPool, Linear, MaxPool2d, Relu
from ..nn._arguments import positive_int, prng_key
from . import _messages
from ._wiring import AddWithState, Regroup


class _WithState(Tensor[Any, Any, Any, Any]):
    """``f @ id``, the state passed along: a `Tensor` whose hint is `f`'s.

    A convolution given a channels-last image says so; a ResNet, whose first
    factor is its stem's ``conv @ id``, passes the image part of its input on to
    the convolution's hint (`cdl.fit` gives the image alone).
    """

    def __init__(self, f: Para[Any, Any]) -> None:
        super().__init__(f, Identity())

    def input_hint(self, given: Space) -> str:
        """That of `f`, on the first component of `given` (or on `given`)."""
        if isinstance(given, ProductSpace) and len(given.factors) == 2:
            given = given.factors[0]
        hint: str = self.factors[0].input_hint(given)
        return hint


def with_state(f: Para[Any, Any]) -> Para[Any, Any]:
    """`f` on the first component, the state passed along: ``f @ id``.

    **Arguments:** `f`, a morphism ``A → B``.

    **Returns:** the morphism ``A × S → B × S``, a `cdl.Tensor` that passes on
    `f`'s word on a refused input (a convolution's on a channels-last image).

    >>> import cdl
    >>> with_state(cdl.Relu()).label
    '(Relu() @ id)'
    """
    if not isinstance(f, Para):
        raise TypeError(_messages.not_a_morphism("with_state: f", f))
    stateful: Para[Any, Any] = _WithState(f)
    return stateful


def residual_with_state(
    body: Para[Any, Any], shortcut: Para[Any, Any] | None = None
) -> Para[Any, Any]:
    """``x ↦ body(x) + shortcut(x)`` for morphisms ``X × S → Y × S``.

    ``copy >> (fst @ id) >> (id @ body) >> regroup >> (shortcut @ id) >> add``:
    the input is copied, the body runs on one copy with the state, the shortcut
    on the other with the state the body returned, and the outputs are added.

    **Arguments:** `body`; `shortcut` (the identity unless given); both map
    ``X × S`` to ``Y × S``.

    **Returns:** the residual morphism ``X × S → Y × S``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> f = with_state(cdl.Linear(2, 2, key=jax.random.key(0)))
    >>> y, s = residual_with_state(f)((jnp.ones(2), "state"))
    >>> s, y.shape
    ('state', (2,))
    """
    for name, part in (("body", body), ("shortcut", shortcut)):
        if part is not None and not isinstance(part, Para):
            raise TypeError(
                _messages.not_a_morphism(f"residual_with_state: {name}", part)
            )
    other: Para[Any, Any] = Identity() if shortcut is None else shortcut
    block: Para[Any, Any] = (
        Copy()
        >> (Fst() @ Identity())
        >> (Identity() @ body)
        >> Regroup()
        >> (other @ Identity())
        >> AddWithState()
    )
    return block


def conv_bn(
    c_in: int, c_out: int, kernel: int, stride: int, *, key: PRNGKeyArray
) -> Para[Any, Any]:
    """A convolution followed by batch normalisation, on ``x × State``.

    **Arguments:** `c_in`, `c_out`, `kernel` (odd; padded to keep the size at
    stride 1), `stride`; keyword `key`.

    **Returns:** ``with_state(Conv2d) >> BatchNorm``.

    >>> import jax
    >>> conv_bn(3, 8, 3, 1, key=jax.random.key(0)).label
    '(Conv2d(3→8, 3×3) @ id) >> BatchNorm(8)'
    """
    for name, value in (("c_in", c_in), ("c_out", c_out), ("stride", stride)):
        positive_int("conv_bn", name, value)
    if positive_int("conv_bn", "kernel", kernel) % 2 == 0:
        raise ValueError(_messages.even_kernel(kernel))
    key = prng_key("conv_bn", key)
    conv = Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, key=key)
    return with_state(conv) >> BatchNorm(c_out)


def basic_block(
    c_in: int, c_out: int, stride: int = 1, *, key: PRNGKeyArray
) -> Block[Any, Any]:
    """ResNet's basic block: two 3×3 convolutions with batch norm, plus a shortcut.

    The shortcut is the identity when the shape is kept, else a strided 1×1
    convolution with batch norm (the downsampling shortcut).

    **Arguments:** `c_in`, `c_out`, `stride` (1); keyword `key`.

    **Returns:** a `cdl.Block` ``float[c_in, h, w] × State → float[c_out, h', w']
    × State``; build it with `equinox.nn.make_with_state` for its state.

    >>> import jax
    >>> basic_block(8, 8, key=jax.random.key(0)).label
    'BasicBlock(8→8, stride 1)'
    """
    for name, value in (("c_in", c_in), ("c_out", c_out), ("stride", stride)):
        positive_int("basic_block", name, value)
    k1, k2, k3 = jax.random.split(prng_key("basic_block", key), 3)
    body = (
        conv_bn(c_in, c_out, 3, stride, key=k1)
        >> with_state(Relu())
        >> conv_bn(c_out, c_out, 3, 1, key=k2)
    )
    shortcut = (
        None
        if stride == 1 and c_in == c_out
        else conv_bn(c_in, c_out, 1, stride, key=k3)
    )
    block = residual_with_state(body, shortcut) >> with_state(Relu())
    return Block(f"BasicBlock({c_in}→{c_out}, stride {stride})", block)


def resnet(
    stages: Sequence[int],
    widths: Sequence[int],
    channels: int,
    classes: int,
    *,
    stem: str = "small",
    key: PRNGKeyArray,
) -> Para[Any, Any]:
    """A ResNet of basic blocks: a stem, stages of blocks, pooling and a read-out.

    Each stage after the first halves the height and width in its first block.
    The ``"imagenet"`` stem is a 7×7 convolution of stride 2 and a 3×3 max pool
    of stride 2; the ``"small"`` stem (for 32×32 images or smaller) one 3×3
    convolution.

    **Arguments:** `stages`, the number of blocks per stage; `widths`, the
    channels per stage; `channels` of the images; `classes`; keyword `stem` and
    `key`.

    **Returns:** the morphism ``float[channels, h, w] × State → float[classes] ×
    State``; ``eqx.nn.make_with_state(resnet)(...)`` gives it with its state.

    >>> import equinox as eqx, jax, jax.numpy as jnp
    >>> model, state = eqx.nn.make_with_state(resnet)(
    ...     (1, 1), (8, 16), 1, 10, key=jax.random.key(0))
    >>> batched = jax.vmap(model, axis_name="batch", in_axes=((0, None),),
    ...                    out_axes=(0, None))
    >>> y, state = jax.jit(batched)((jnp.ones((4, 1, 8, 8)), state))
    >>> y.shape
    (4, 10)
    """
    if (
        not isinstance(stages, Sequence)
        or not isinstance(widths, Sequence)
        or len(stages) != len(widths)
        or not stages
    ):
        raise ValueError(_messages.bad_stages(stages, widths))
    if stem not in ("small", "imagenet"):
        raise ValueError(_messages.bad_stem(stem))
    counts = [positive_int("resnet", f"stages[{i}]", n) for i, n in enumerate(stages)]
    for i, w in enumerate(widths):
        positive_int("resnet", f"widths[{i}]", w)
    positive_int("resnet", "channels", channels)
    positive_int("resnet", "classes", classes)
    keys = iter(jax.random.split(prng_key("resnet", key), sum(counts) + 2))
    first = widths[0]
    if stem == "imagenet":
        model = conv_bn(channels, first, 7, 2, key=next(keys)) >> with_state(
            Relu() >> MaxPool2d(3, stride=2, padding=1)
        )
    else:
        model = conv_bn(channels, first, 3, 1, key=next(keys)) >> with_state(Relu())
    width = first
    for index, (count, out) in enumerate(zip(counts, widths, strict=True)):
        for position in range(count):
            stride = 2 if index > 0 and position == 0 else 1
            model = model >> basic_block(width, out, stride, key=next(keys))
            width = out
    readout = GlobalAvgPool() >> Linear(width, classes, key=next(keys))
    return model >> with_state(readout)


def resnet18(channels: int, classes: int, *, key: PRNGKeyArray) -> Para[Any, Any]:
    """ResNet-18 (He et al., 2016): four stages of two basic blocks, 64 to 512 wide.

    It has the ImageNet stem.

    **Arguments:** `channels` of the images, `classes`; keyword `key`.

    **Returns:** the morphism ``float[channels, h, w] × State → float[classes] ×
    State`` (for 3 channels and 1000 classes, torchvision's 11,689,512
    parameters and the convolutions' 4,800 biases).

    >>> import equinox as eqx, jax
    >>> build = eqx.nn.make_with_state(resnet18)
    >>> model, _ = eqx.filter_eval_shape(build, 3, 1000, key=jax.random.key(0))
    >>> sum(x.size for x in jax.tree.leaves(model) if hasattr(x, "size"))
    11694312
    """
    return resnet((2, 2, 2, 2), (64, 128, 256, 512), channels, classes,
                  stem="imagenet", key=key)  # fmt: skip
