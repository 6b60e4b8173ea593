"""Transformers as composites: pre-norm blocks, a GPT-style decoder and a ViT.

A block is two residual connections, ``copy >> (f @ id) >> add``, one around
attention and one around a per-position MLP, each after a `LayerNorm`:

>>> import jax, jax.numpy as jnp, cdl
>>> from cdl.architectures import transformer_block
>>> block = transformer_block(16, 4, causal=True, key=jax.random.key(0))
>>> block.label, block.dom, block.cod
('DecoderBlock(16, heads=4)', float[n,16], float[n,16])
>>> cdl.draw(block.body).boxes()[:2]
['LayerNorm(16, 1e-05)', 'SelfAttention(16, heads=4, causal)']
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int, PRNGKeyArray

from .._para import Compose, Para
from .._reparam import Reparam, tie
from ..nn import (
    Block,
    Conv2d,
    Each,
    Embedding,
    Gelu,
    LayerNorm,
    LearnedPositions,
    Linear,
    Reshape,
    SelfAttention,
    SequenceMean,
    Transpose,
    residual,
)
from ..nn._arguments import flag, positive_int, prng_key
from . import _messages
from ._find import layers_of


def _attention_sizes(builder: str, dim: object, heads: object) -> tuple[int, int]:
    """`dim` and `heads` as ints, checked and named as the builder's own."""
    d = positive_int(builder, "dim", dim)
    h = positive_int(builder, "heads", heads)
    if d % h:
        raise ValueError(_messages.heads_not_dividing(builder, d, h))
    return d, h


def transformer_block(
    dim: int,
    heads: int,
    *,
    causal: bool = False,
    rotary: bool = False,
    mlp_ratio: int = 4,
    activation: Para[Any, Any] | None = None,
    key: PRNGKeyArray,
) -> Block[Any, Any]:
    """A pre-norm transformer block on sequences ``float[n, dim]``.

    ``residual(LayerNorm >> SelfAttention) >> residual(LayerNorm >> each(MLP))``,
    the MLP ``Linear(dim, mlp_ratio·dim) >> Gelu >> Linear(mlp_ratio·dim, dim)``
    applied at every position.

    **Arguments:** `dim`, `heads` (dividing `dim`); keyword `causal` (a decoder
    block), `rotary` (rotary positions in the attention), `mlp_ratio` (4),
    `activation` (the MLP's, `Gelu()` unless given), `key`.

    **Returns:** a `cdl.Block` named ``DecoderBlock`` or ``EncoderBlock``.

    >>> import jax
    >>> transformer_block(8, 2, key=jax.random.key(0)).label
    'EncoderBlock(8, heads=2)'
    """
    dim, heads = _attention_sizes("transformer_block", dim, heads)
    causal = flag("transformer_block", "causal", causal)
    rotary = flag("transformer_block", "rotary", rotary)
    hidden = positive_int("transformer_block", "mlp_ratio", mlp_ratio) * dim
    k1, k2, k3 = jax.random.split(prng_key("transformer_block", key), 3)
    attention = SelfAttention(dim, heads, causal=causal, rotary=rotary, key=k1)
    if activation is not None and not isinstance(activation, Para):
        raise TypeError(_messages.not_an_activation(activation))
    act = Gelu() if activation is None else activation
    mlp = Linear(dim, hidden, key=k2) >> act >> Linear(hidden, dim, key=k3)
    body = residual(LayerNorm(dim) >> attention) >> residual(
        LayerNorm(dim) >> Each(mlp)
    )
    kind = "DecoderBlock" if causal else "EncoderBlock"
    return Block(f"{kind}({dim}, heads={heads})", body)


def _embedding(vocab: int, dim: int, key: PRNGKeyArray) -> Embedding[Any]:
    """An embedding table with entries drawn from N(0, 0.02²), as in GPT-2."""
    table = Embedding(vocab, dim, key=key)
    scaled: Embedding[Any] = eqx.tree_at(lambda e: e.table, table, 0.02 * table.table)
    return scaled


def gpt(
    vocab: int,
    dim: int,
    depth: int,
    heads: int,
    max_length: int,
    *,
    tied: bool = True,
    key: PRNGKeyArray,
) -> Para[Any, Any]:
    """A GPT-style decoder: next-token logits at every position of ``integer[n]``.

    ``each(Embedding) >> LearnedPositions >> DecoderBlock × depth >> LayerNorm >>
    each(Linear(dim, vocab))``; with `tied`, the read-out's weight is the
    embedding table, a 2-cell (`cdl.tie`) from one parameter to both places (as a
    parameter the read-out's weight is then None; ``layers_of(model, Linear,
    applied=True)[-1].weight`` is the table).

    **Arguments:** `vocab`, `dim`, `depth`, `heads`, `max_length` (the longest
    sequence); keyword `tied` (True) and `key`.

    **Returns:** the morphism ``integer[n] → float[n, vocab]`` (``n <= max_length``).

    >>> import jax
    >>> model = gpt(11, 16, 2, 4, 32, key=jax.random.key(0))
    >>> model.dom, model.cod
    (integer[n], float[n,11])
    """
    positive_int("gpt", "vocab", vocab)
    dim, heads = _attention_sizes("gpt", dim, heads)
    positive_int("gpt", "depth", depth)
    positive_int("gpt", "max_length", max_length)
    flag("gpt", "tied", tied)
    keys = jax.random.split(prng_key("gpt", key), depth + 3)
    blocks = [transformer_block(dim, heads, causal=True, key=k) for k in keys[3:]]
    model: Para[Any, Any] = Each(_embedding(vocab, dim, keys[0])) >> LearnedPositions(
        max_length, dim, key=keys[1]
    )
    for block in blocks:
        model = model >> block
    model = (
        model >> LayerNorm(dim) >> Each(Linear(dim, vocab, use_bias=False, key=keys[2]))
    )
    if not tied:
        return model
    tied_model: Para[Any, Any] = tie(model, _embedding_table, _readout_weight)
    return tied_model


# The tie's two places are named functions, not lambdas: they are static metadata
# of the tied model, so two builds compare equal and share one pytree structure.
def _embedding_table(model: Para[Any, Any]) -> Any:
    """The table of a GPT's embedding, the source of its tie."""
    return layers_of(model, Embedding)[0].table


def _readout_weight(model: Para[Any, Any]) -> Any:
    """The weight of a GPT's read-out, the place its tie fills."""
    return layers_of(model, Linear)[-1].weight


def generate(
    model: Para[Any, Any],
    prompt: Int[Array, " p"],
    length: int,
    *,
    key: PRNGKeyArray,
    temperature: float = 1.0,
) -> Int[Array, " length"]:
    """Sample a continuation of `prompt` from a decoder, one token at a time.

    The sequence is held in a buffer of `length` tokens; step ``t`` runs the
    (causal) model on the buffer and draws token ``t`` from the logits at
    ``t - 1``, so later, unfilled positions never matter. One `lax.fori_loop`.

    **Arguments:** `model`, ``integer[n] → float[n, vocab]``; `prompt`, at least one
    token; `length`, the total length; keyword `key` and `temperature` (0 means
    the most likely token).

    **Returns:** ``int[length]``, the prompt followed by the sampled tokens; a
    prompt of a narrower integer type (``uint8``, ``uint16``) gives ``int32``, so
    tokens past its range are kept whole.

    >>> import jax, jax.numpy as jnp
    >>> model = gpt(5, 8, 1, 2, 16, key=jax.random.key(0))
    >>> out = generate(model, jnp.array([1, 2]), 6, key=jax.random.key(1))
    >>> out.shape, out[:2].tolist()
    ((6,), [1, 2])
    """
    prompt = jnp.asarray(prompt)
    length = positive_int("generate", "length", length)
    key = prng_key("generate", key)
    if prompt.ndim != 1:
        raise ValueError(_messages.bad_prompt_rank(prompt.shape))
    temperature = _temperature(temperature)
    start = prompt.shape[0]
    if not 0 < start <= length:
        raise ValueError(_messages.bad_prompt(start, length))
    dtype = prompt.dtype
    if jnp.issubdtype(dtype, jnp.integer):  # room for every token of the vocabulary
        dtype = jax.dtypes.canonicalize_dtype(jnp.promote_types(dtype, jnp.int32))
    buffer = jnp.zeros(length, dtype).at[:start].set(prompt)
    logits = jax.eval_shape(model, buffer)
    shape = getattr(logits, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != length:
        label = getattr(model, "label", type(model).__name__)
        given = shape if shape is not None else type(logits).__name__
        raise ValueError(_messages.not_logits(label, length, given))
    _check_tokens(model, prompt)

    def step(t: Any, carry: tuple[Array, Array]) -> tuple[Array, Array]:
        tokens, k = carry
        k, draw = jax.random.split(k)
        logits = model(tokens)[t - 1]
        if not isinstance(temperature, jax.core.Tracer) and temperature == 0:
            token = jnp.argmax(logits)
        else:
            token = _draw(draw, logits, temperature)
        return tokens.at[t].set(token.astype(tokens.dtype)), k

    tokens: Array
    tokens, _ = jax.lax.fori_loop(start, length, step, (buffer, key))
    return tokens


def _first_embedding(model: Any) -> Embedding[Any] | None:
    """The `Embedding` the tokens go into first, if the model starts with one.

    >>> import jax
    >>> _first_embedding(gpt(5, 8, 1, 2, 16, key=jax.random.key(0))).label
    'Embedding(5, 8)'
    """
    while True:
        if isinstance(model, Embedding):
            return model
        if isinstance(model, Reparam):
            model = model.skeleton
        elif isinstance(model, Each):
            model = model.f
        elif isinstance(model, Compose):
            model = model.factors[0]
        else:
            return None


def _check_tokens(model: Any, prompt: Array) -> None:
    """Refuse a concrete prompt token the model's first embedding has no row for.

    Inside the sampling loop such a token fails at run time, in a long report
    from inside the compiled loop; here it is named, with its position.
    """
    embedding = _first_embedding(model)
    if embedding is None or isinstance(prompt, jax.core.Tracer):
        return
    tokens = np.asarray(prompt)
    outside = np.flatnonzero((tokens < 0) | (tokens >= embedding.num))
    if outside.size:
        at = int(outside[0])
        raise ValueError(
            _messages.prompt_outside(
                at, int(tokens[at]), embedding.label, embedding.num
            )
        )


def _draw(key: PRNGKeyArray, logits: Array, temperature: Any) -> Array:
    """A token drawn from ``softmax(logits / temperature)``.

    At temperature 0, and at one so small that ``logits / temperature`` is no
    longer finite (below about 1e-38 in float32, where it is also flushed to 0),
    the token is the limit of those draws: the most likely one.
    """
    zero = temperature == 0
    scaled = logits / jnp.where(zero, 1.0, temperature)
    overflow = jnp.any(jnp.isfinite(logits) & ~jnp.isfinite(scaled))
    drawn = jax.random.categorical(key, jnp.where(overflow, logits, scaled))
    return jnp.where(zero | overflow, jnp.argmax(logits), drawn)


def _temperature(value: Any) -> Any:
    """A sampling temperature as a float >= 0 (NaN refused), or a traced scalar."""
    if isinstance(value, jax.core.Tracer) and jnp.shape(value) == ():
        # known only when the program runs: a negative or NaN one fails there
        bad = jnp.isnan(value) | (value < 0)
        return eqx.error_if(value, bad, _messages.bad_traced_temperature())
    number = (
        float(np.asarray(value))
        if not isinstance(value, bool | str)
        and np.ndim(value) == 0
        and np.isrealobj(value)
        and np.issubdtype(np.asarray(value).dtype, np.number)
        else None
    )
    if number is None or not number >= 0:  # also refuses NaN
        raise ValueError(_messages.bad_temperature(value))
    return number


class _Patches(Conv2d[Any, Any]):
    """A ViT's patch stem: a strided convolution of images of one size only.

    A convolution of stride `patch` takes any image and drops the rows and columns
    its patches do not cover, so a 7×7 image into the stem of a ViT for 6×6 ones
    gives the same 3×3 patches, silently cropped. The stem's domain is the image
    size the ViT was built for, so any other is refused by name.
    """

    height: int = eqx.field(static=True)
    width: int = eqx.field(static=True)

    def __init__(
        self, channels: int, dim: int, patch: int, size: int, *, key: PRNGKeyArray
    ) -> None:
        super().__init__(channels, dim, patch, stride=patch, key=key)
        self.height = self.width = size


def vit(
    image_size: int,
    patch: int,
    channels: int,
    classes: int,
    dim: int,
    depth: int,
    heads: int,
    *,
    key: PRNGKeyArray,
) -> Para[Any, Any]:
    """A ViT-style classifier of images ``float[channels, size, size]``.

    ``Conv2d(patch, stride=patch) >> Reshape >> Transpose`` cuts the image into a
    sequence of patch embeddings, then ``LearnedPositions >> EncoderBlock × depth
    >> LayerNorm >> SequenceMean >> Linear`` reads out the class logits.

    **Arguments:** `image_size` (a multiple of `patch`), `patch`, `channels`,
    `classes`, `dim`, `depth`, `heads`; keyword `key`.

    **Returns:** the morphism ``float[channels, size, size] → float[classes]``;
    an image of another size is refused.

    >>> import jax, jax.numpy as jnp
    >>> model = vit(8, 2, 1, 10, 16, 1, 2, key=jax.random.key(0))
    >>> model.dom, model.cod
    (float[1,8,8], float[10])
    """
    image_size = positive_int("vit", "image_size", image_size)
    patch = positive_int("vit", "patch", patch)
    if image_size % patch:
        raise ValueError(_messages.bad_patch(image_size, patch))
    channels = positive_int("vit", "channels", channels)
    classes = positive_int("vit", "classes", classes)
    dim, heads = _attention_sizes("vit", dim, heads)
    depth = positive_int("vit", "depth", depth)
    count = (image_size // patch) ** 2
    keys = jax.random.split(prng_key("vit", key), depth + 3)
    model: Para[Any, Any] = (
        _Patches(channels, dim, patch, image_size, key=keys[0])
        >> Reshape(dim, count)
        >> Transpose()
        >> LearnedPositions(count, dim, key=keys[1])
    )
    for k in keys[3:]:
        model = model >> transformer_block(dim, heads, key=k)
    return (
        model >> LayerNorm(dim) >> SequenceMean() >> Linear(dim, classes, key=keys[2])
    )
