"""Plain-Equinox twins of the architectures, built from a cdl model's weights.

Each twin is the same network written the way an Equinox user writes it:
`equinox.nn` layers in a module whose ``__call__`` is hand-written. Built from a
cdl model, it holds the same numbers, so both compute the same function; tests
compare them to 1e-5 and the benchmark times their training steps.

>>> import equinox as eqx, jax, jax.numpy as jnp
>>> from cdl.architectures import gpt
>>> model = gpt(11, 16, 1, 2, 8, key=jax.random.key(0))
>>> twin = gpt_twin(model)
>>> run = eqx.filter_jit(lambda m, x: m(x))
>>> tokens = jnp.array([1, 2, 3])
>>> bool(jnp.allclose(run(model, tokens), run(twin, tokens), atol=1e-5))
True
"""

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from .._reparam import Reparam
from ..nn import (
    BatchNorm,
    Block,
    Conv2d,
    ConvTranspose2d,
    Embedding,
    LayerNorm,
    LearnedPositions,
    Linear,
    MaxPool2d,
    SelfAttention,
)
from ._find import layers_of

_KEY = jax.random.key(0)
_M = TypeVar("_M")


def _shell(layer: Callable[..., _M], *args: Any, **kwargs: Any) -> _M:
    """An Equinox layer's structure with abstract arrays, to be filled with weights.

    No random weights are drawn (each new shape would compile a sampler).
    """
    shell: _M = eqx.filter_eval_shape(layer, *args, **kwargs)
    return shell


def _linear(layer: Linear[Any, Any]) -> eqx.nn.Linear:
    twin = _shell(
        eqx.nn.Linear,
        layer.in_dim,
        layer.out_dim,
        use_bias=layer.bias is not None,
        key=_KEY,
    )
    if layer.bias is None:
        weighted: eqx.nn.Linear = eqx.tree_at(lambda t: t.weight, twin, layer.weight)
        return weighted
    both: eqx.nn.Linear = eqx.tree_at(
        lambda t: (t.weight, t.bias), twin, (layer.weight, layer.bias)
    )
    return both


def _norm(layer: LayerNorm[Any]) -> eqx.nn.LayerNorm:
    twin = eqx.nn.LayerNorm(layer.dim, eps=layer.eps)
    norm: eqx.nn.LayerNorm = eqx.tree_at(
        lambda t: (t.weight, t.bias), twin, (layer.weight, layer.bias)
    )
    return norm


def _attention(layer: SelfAttention[Any, Any]) -> eqx.nn.MultiheadAttention:
    twin = _shell(eqx.nn.MultiheadAttention, layer.heads, layer.dim, key=_KEY)
    attention: eqx.nn.MultiheadAttention = eqx.tree_at(
        lambda t: (
            t.query_proj.weight,
            t.key_proj.weight,
            t.value_proj.weight,
            t.output_proj.weight,
        ),
        twin,
        (
            layer.query_proj.weight,
            layer.key_proj.weight,
            layer.value_proj.weight,
            layer.output_proj.weight,
        ),
    )
    return attention


def _conv(layer: Conv2d[Any, Any]) -> eqx.nn.Conv2d:
    twin = _shell(
        eqx.nn.Conv2d,
        layer.in_channels,
        layer.out_channels,
        layer.kernel_size,
        stride=layer.stride,
        padding=layer.padding,
        key=_KEY,
    )
    bias = layer.bias.reshape(-1, 1, 1)
    conv: eqx.nn.Conv2d = eqx.tree_at(
        lambda t: (t.weight, t.bias), twin, (layer.weight, bias)
    )
    return conv


def _conv_transpose(layer: ConvTranspose2d[Any, Any]) -> eqx.nn.ConvTranspose2d:
    twin = _shell(
        eqx.nn.ConvTranspose2d,
        layer.in_channels,
        layer.out_channels,
        layer.kernel_size,
        stride=layer.stride,
        padding=layer.padding,
        output_padding=layer.output_padding,
        key=_KEY,
    )
    bias = layer.bias.reshape(-1, 1, 1)
    up: eqx.nn.ConvTranspose2d = eqx.tree_at(
        lambda t: (t.weight, t.bias), twin, (layer.weight, bias)
    )
    return up


def _unwrap(model: Any) -> Any:
    return model.base() if isinstance(model, Reparam) else model


class TwinBlock(eqx.Module):
    """A pre-norm transformer block in plain Equinox."""

    norm1: eqx.nn.LayerNorm
    attention: eqx.nn.MultiheadAttention
    norm2: eqx.nn.LayerNorm
    up: eqx.nn.Linear
    down: eqx.nn.Linear
    causal: bool = eqx.field(static=True)

    def __call__(self, x: Array) -> Array:
        """Attend, then transform each position, both residual."""
        n = x.shape[0]
        mask = jnp.tril(jnp.ones((n, n), bool)) if self.causal else None
        h = jax.vmap(self.norm1)(x)
        x = x + self.attention(h, h, h, mask=mask)
        h = jax.vmap(self.norm2)(x)
        return x + jax.vmap(self.down)(jax.nn.gelu(jax.vmap(self.up)(h)))


def _block(block: Block[Any, Any], causal: bool) -> TwinBlock:
    norms = layers_of(block, LayerNorm)
    (attention,) = layers_of(block, SelfAttention)
    up, down = [
        layer
        for layer in layers_of(block, Linear)
        if not any(layer is p for p in _projections(attention))
    ]
    return TwinBlock(
        _norm(norms[0]), _attention(attention), _norm(norms[1]),
        _linear(up), _linear(down), causal,
    )  # fmt: skip


def _projections(layer: SelfAttention[Any, Any]) -> tuple[Linear[Any, Any], ...]:
    return (layer.query_proj, layer.key_proj, layer.value_proj, layer.output_proj)


class TwinGPT(eqx.Module):
    """The GPT-style decoder in plain Equinox; the read-out is the embedding."""

    embedding: eqx.nn.Embedding
    positions: Array
    blocks: tuple[TwinBlock, ...]
    norm: eqx.nn.LayerNorm
    head: eqx.nn.Linear | None

    def __call__(self, tokens: Array) -> Array:
        """Next-token logits at every position."""
        x = jax.vmap(self.embedding)(tokens) + self.positions[: tokens.shape[0]]
        for block in self.blocks:
            x = block(x)
        x = jax.vmap(self.norm)(x)
        if self.head is None:
            return x @ self.embedding.weight.T
        return jax.vmap(self.head)(x)


def gpt_twin(model: Any) -> TwinGPT:
    """The plain-Equinox twin of a `gpt`, holding its weights.

    **Arguments:** `model`, built by `cdl.architectures.gpt` (tied or not).

    **Returns:** a `TwinGPT`; tied models read out with the embedding table.

    >>> import jax
    >>> from cdl.architectures import gpt
    >>> model = gpt(5, 8, 1, 2, 4, tied=False, key=jax.random.key(0))
    >>> gpt_twin(model).head.weight.shape
    (5, 8)
    """
    tied = isinstance(model, Reparam)
    base = _unwrap(model)
    (embedding,) = layers_of(base, Embedding)
    (positions,) = layers_of(base, LearnedPositions)
    table = eqx.tree_at(
        lambda t: t.weight,
        _shell(eqx.nn.Embedding, embedding.num, embedding.dim, key=_KEY),
        embedding.table,
    )
    blocks = tuple(_block(b, causal=True) for b in layers_of(base, Block))
    head = None if tied else _linear(layers_of(base, Linear)[-1])
    return TwinGPT(
        table, positions.table, blocks, _norm(layers_of(base, LayerNorm)[-1]), head
    )


class TwinViT(eqx.Module):
    """The ViT-style classifier in plain Equinox."""

    patches: eqx.nn.Conv2d
    positions: Array
    blocks: tuple[TwinBlock, ...]
    norm: eqx.nn.LayerNorm
    head: eqx.nn.Linear

    def __call__(self, image: Array) -> Array:
        """Class logits of one image."""
        x = self.patches(image)
        x = x.reshape(x.shape[0], -1).T + self.positions
        for block in self.blocks:
            x = block(x)
        return self.head(jnp.mean(jax.vmap(self.norm)(x), axis=0))


def vit_twin(model: Any) -> TwinViT:
    """The plain-Equinox twin of a `vit`, holding its weights.

    **Arguments:** `model`, built by `cdl.architectures.vit`.

    **Returns:** a `TwinViT`.

    >>> import jax
    >>> from cdl.architectures import vit
    >>> len(vit_twin(vit(4, 2, 1, 3, 8, 2, 2, key=jax.random.key(0))).blocks)
    2
    """
    (positions,) = layers_of(model, LearnedPositions)
    return TwinViT(
        _conv(layers_of(model, Conv2d)[0]),
        positions.table,
        tuple(_block(b, causal=False) for b in layers_of(model, Block)),
        _norm(layers_of(model, LayerNorm)[-1]),
        _linear(layers_of(model, Linear)[-1]),
    )


def _batch_norm(layer: BatchNorm[Any]) -> eqx.nn.BatchNorm:
    twin = eqx.nn.BatchNorm(
        layer.channels, layer.axis_name, layer.eps, momentum=layer.momentum,
        mode="batch",
    )  # fmt: skip
    norm: eqx.nn.BatchNorm = eqx.tree_at(
        lambda t: (t.weight, t.bias), twin, (layer.weight, layer.bias)
    )
    return norm


class TwinBasicBlock(eqx.Module):
    """ResNet's basic block in plain Equinox, state passed by hand."""

    conv1: eqx.nn.Conv2d
    bn1: eqx.nn.BatchNorm
    conv2: eqx.nn.Conv2d
    bn2: eqx.nn.BatchNorm
    shortcut: tuple[eqx.nn.Conv2d, eqx.nn.BatchNorm] | None

    def __call__(self, x: Array, state: eqx.nn.State) -> tuple[Array, eqx.nn.State]:
        """Two convolutions and the shortcut, added, then a relu."""
        y, state = self.bn1(self.conv1(x), state)
        y, state = self.bn2(self.conv2(jax.nn.relu(y)), state)
        if self.shortcut is not None:
            conv, bn = self.shortcut
            x, state = bn(conv(x), state)
        return jax.nn.relu(x + y), state


class TwinResNet(eqx.Module):
    """A ResNet in plain Equinox, state passed by hand.

    The ImageNet stem ends in a max pool (`pool`); the small stem has none.
    """

    stem: tuple[eqx.nn.Conv2d, eqx.nn.BatchNorm]
    blocks: tuple[TwinBasicBlock, ...]
    head: eqx.nn.Linear
    pool: eqx.nn.MaxPool2d | None = None

    def __call__(self, x: Array, state: eqx.nn.State) -> tuple[Array, eqx.nn.State]:
        """Class logits of one image, and the new state."""
        conv, bn = self.stem
        x, state = bn(conv(x), state)
        x = jax.nn.relu(x)
        if self.pool is not None:
            x = self.pool(x)
        for block in self.blocks:
            x, state = block(x, state)
        return self.head(jnp.mean(x, axis=(1, 2))), state


def resnet_twin(model: Any) -> tuple[TwinResNet, eqx.nn.State]:
    """The plain-Equinox twin of a `resnet`, and its state.

    **Arguments:** `model`, built by `cdl.architectures.resnet` (either stem).

    **Returns:** ``(twin, state)``; the twin of an ImageNet stem has its max pool.

    >>> import jax
    >>> from cdl.architectures import resnet
    >>> twin, _ = resnet_twin(resnet((1,), (4,), 1, 3, key=jax.random.key(0)))
    >>> len(twin.blocks), twin.pool
    (1, None)
    >>> big = resnet((1,), (4,), 1, 3, stem="imagenet", key=jax.random.key(0))
    >>> resnet_twin(big)[0].pool.stride
    (2, 2)
    """
    convs: Iterator[Conv2d[Any, Any]] = iter(layers_of(model, Conv2d))
    norms: Iterator[BatchNorm[Any]] = iter(layers_of(model, BatchNorm))
    stem = (_conv(next(convs)), _batch_norm(next(norms)))
    pools = layers_of(model, MaxPool2d)  # the ImageNet stem's, after its relu
    pool = (
        eqx.nn.MaxPool2d(pools[0].kernel_size, pools[0].stride, pools[0].padding)
        if pools
        else None
    )
    blocks = []
    for block in layers_of(model, Block):
        count = len(layers_of(block, Conv2d))
        conv1, bn1 = _conv(next(convs)), _batch_norm(next(norms))
        conv2, bn2 = _conv(next(convs)), _batch_norm(next(norms))
        shortcut = (
            (_conv(next(convs)), _batch_norm(next(norms))) if count == 3 else None
        )
        blocks.append(TwinBasicBlock(conv1, bn1, conv2, bn2, shortcut))
    head = _linear(layers_of(model, Linear)[-1])
    twin = TwinResNet(stem, tuple(blocks), head, pool)
    return twin, eqx.nn.State(twin)


class TwinLevel(eqx.Module):
    """One level of a U-Net in plain Equinox."""

    encode: tuple[eqx.nn.Conv2d, eqx.nn.Conv2d]
    inner: "TwinLevel | None"
    up: eqx.nn.ConvTranspose2d | None
    decode: tuple[eqx.nn.Conv2d, eqx.nn.Conv2d] | None

    def __call__(self, x: Array) -> Array:
        """Encode; below the top, go down and up and join the skip connection."""
        for conv in self.encode:
            x = jax.nn.relu(conv(x))
        if self.inner is None or self.up is None or self.decode is None:
            return x
        below = self.up(self.inner(eqx.nn.MaxPool2d(2, 2)(x)))
        x = jnp.concatenate([x, below], axis=0)
        for conv in self.decode:
            x = jax.nn.relu(conv(x))
        return x


class TwinUNet(eqx.Module):
    """A U-Net in plain Equinox."""

    top: TwinLevel
    out: eqx.nn.Conv2d

    def __call__(self, x: Array) -> Array:
        """The image mapped through every level, then read out."""
        return self.out(self.top(x))


def unet_twin(model: Any) -> TwinUNet:
    """The plain-Equinox twin of a `unet`, holding its weights.

    **Arguments:** `model`, built by `cdl.architectures.unet`.

    **Returns:** a `TwinUNet`.

    >>> import jax
    >>> from cdl.architectures import unet
    >>> unet_twin(unet(1, 1, 4, 1, key=jax.random.key(0))).out.weight.shape
    (1, 4, 1, 1)
    """
    convs = iter(layers_of(model, Conv2d))
    ups = iter(layers_of(model, ConvTranspose2d))
    depth = len(layers_of(model, ConvTranspose2d))

    def level(d: int) -> TwinLevel:
        encode = (_conv(next(convs)), _conv(next(convs)))
        if d == 0:
            return TwinLevel(encode, None, None, None)
        inner = level(d - 1)
        up = _conv_transpose(next(ups))
        decode = (_conv(next(convs)), _conv(next(convs)))
        return TwinLevel(encode, inner, up, decode)

    top = level(depth)
    return TwinUNet(top, _conv(next(convs)))
