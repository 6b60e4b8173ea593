"""Builders take sizes given as NumPy ints."""

import equinox as eqx
import jax
import numpy as np

from cdl.architectures import vit


def test_vit_takes_numpy_int_sizes() -> None:
    # Sizes read from a config array (np.int64) failed deep inside:
    # "Reshape(16, np.int64(16)): the target must be positive ints ...".
    key = jax.random.key(0)
    i = np.int64
    a = vit(i(16), i(4), i(1), i(10), i(16), i(1), i(2), key=key)
    b = vit(16, 4, 1, 10, 16, 1, 2, key=key)
    assert eqx.tree_equal(a, b)
    x = jax.random.normal(key, (1, 16, 16))
    np.testing.assert_array_equal(a(x), b(x))


def test_generate_at_a_tiny_temperature_takes_the_most_likely_token() -> None:
    # 1e-45 and 5e-324 are positive, but flushed to 0 in float32 the logits / T
    # were inf and NaN, and every sampled token came back 0.
    import jax.numpy as jnp

    from cdl.architectures import generate, gpt

    key = jax.random.key(0)
    model = gpt(vocab=11, dim=8, heads=1, depth=1, max_length=6, key=key)
    prompt = jnp.array([1, 2, 3])
    greedy = generate(model, prompt, 6, key=key, temperature=0.0)
    assert (greedy[3:] != 0).all()  # so that zeros would be caught
    tiny = generate(model, prompt, 6, key=key, temperature=5e-324)
    np.testing.assert_array_equal(tiny, greedy)
    run = jax.jit(lambda t: generate(model, prompt, 6, key=key, temperature=t))
    np.testing.assert_array_equal(run(1e-45), greedy)  # traced, too
    # An ordinary temperature still draws from softmax(logits / T): the last
    # token equals a draw made by hand with the same key.
    tokens = run(0.7)
    k = key
    for _ in range(3):  # one split per drawn token: the third draws token 5
        k, draw = jax.random.split(k)
    logits = model(tokens)[4]  # causal: position 4 reads tokens 0..4 only
    assert int(tokens[5]) == int(jax.random.categorical(draw, logits / 0.7))
