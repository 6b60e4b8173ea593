"""Laws of lenses, of the derivative functors, and optimisers against optax."""

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings

import cdl
from cdl.optics import (
    SGD,
    AdaGrad,
    Adam,
    AdversarialCost,
    BinaryCrossEntropy,
    Lens,
    MeanSquaredError,
    Momentum,
    Nesterov,
    RMSProp,
    SoftmaxCrossEntropy,
    at,
    first,
    forward_derivative,
    from_optax,
    reverse_derivative,
    second,
    split_parameters,
)

SETTINGS = settings(max_examples=10, deadline=None)


def close(a: object, b: object, tol: float = 1e-6) -> bool:
    leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(leaves_a) == len(leaves_b)
    return all(
        np.allclose(x, y, rtol=tol, atol=tol)
        for x, y in zip(leaves_a, leaves_b, strict=True)
    )


# ---------------------------------------------------------------- lawful lenses

Source = tuple[dict[str, jax.Array], jax.Array]

LAWFUL = {
    "first": first(),
    "second": second(),
    "first>>w": first() >> at(lambda s: s["w"]),
    "first>>b": first() >> at(lambda s: s["b"]),
    "first@second": Lens(
        lambda s: (s[0]["w"], s[1]),
        lambda s, a: ({"w": a[0], "b": s[0]["b"]}, a[1]),
    ),
}

floats = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@st.composite
def sources(draw: st.DrawFn) -> Source:
    w, b, c = (jnp.array(draw(floats)) for _ in range(3))
    return {"w": w, "b": b}, c


def view_like(lens: Lens[Source, object], s: Source, draw: st.DrawFn) -> object:
    return jax.tree.map(lambda _: jnp.array(draw(floats)), lens.get(s))


@pytest.mark.parametrize("name", sorted(LAWFUL))
@SETTINGS
@given(data=st.data())
def test_lens_laws(name: str, data: st.DataObject) -> None:
    lens = LAWFUL[name]
    s = data.draw(sources())
    a1 = view_like(lens, s, data.draw)
    a2 = view_like(lens, s, data.draw)
    assert close(lens.put(s, lens.get(s)), s, 0)  # get-put
    assert close(lens.get(lens.put(s, a1)), a1, 0)  # put-get
    assert close(lens.put(lens.put(s, a1), a2), lens.put(s, a2), 0)  # put-put


@st.composite
def nested_sources(draw: st.DrawFn, depth: int = 3) -> object:
    if depth == 0 or draw(st.booleans()):
        return jnp.array(draw(floats))
    return (draw(nested_sources(depth - 1)), draw(nested_sources(depth - 1)))


@st.composite
def focused_lenses(draw: st.DrawFn) -> tuple[object, object, object, object]:
    """A random source, a random lawful composite focusing inside it, two views."""
    s = draw(nested_sources())
    lens, node = None, s
    while isinstance(node, tuple):
        if draw(st.booleans()) and lens is not None:
            break
        side = draw(st.sampled_from([0, 1]))
        step = first() if side == 0 else second()
        lens = step if lens is None else lens >> step
        node = node[side]
    if lens is None:
        lens = at(lambda t: t)
    if draw(st.booleans()):
        lens = lens >> at(lambda t: t)  # the identity, as a lens
    views = [jax.tree.map(lambda _: jnp.array(draw(floats)), node) for _ in range(2)]
    return lens, s, views[0], views[1]


@SETTINGS
@given(focused_lenses())
def test_random_composites_of_lawful_lenses_are_lawful(case: tuple) -> None:
    lens, s, a1, a2 = case
    assert close(lens.put(s, lens.get(s)), s, 0)  # get-put
    assert close(lens.get(lens.put(s, a1)), a1, 0)  # put-get
    assert close(lens.put(lens.put(s, a1), a2), lens.put(s, a2), 0)  # put-put


def test_tensor_of_lawful_lenses_is_lawful() -> None:
    lens = first() @ second()
    s = ((jnp.array(1.0), jnp.array(2.0)), (jnp.array(3.0), jnp.array(4.0)))
    a = (jnp.array(5.0), jnp.array(6.0))
    assert close(lens.put(s, lens.get(s)), s, 0)
    assert close(lens.get(lens.put(s, a)), a, 0)


def test_lens_composition_is_associative() -> None:
    s = (((jnp.array(1.0), 2.0), 3.0), 4.0)
    left = (first() >> first()) >> first()
    right = first() >> (first() >> first())
    assert left.get(s) == right.get(s)
    assert close(left.put(s, jnp.array(9.0)), right.put(s, jnp.array(9.0)), 0)


def test_unlawful_lens_breaks_put_get() -> None:
    # A gradient lens is not lawful: reading back what was written fails.
    lens = reverse_derivative(cdl.Tanh())
    x, dy = jnp.array([0.5]), jnp.array([2.0])
    _, dx = lens.put(None, x, dy)
    assert not np.allclose(lens.get(None, dx), dy)


# ------------------------------------------------------------ derivative functors


@st.composite
def mlps(draw: st.DrawFn) -> tuple[cdl.Para, cdl.Para, int, jax.Array]:
    sizes = [draw(st.integers(1, 5)) for _ in range(3)]
    seed = draw(st.integers(0, 2**16))
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    activation = draw(st.sampled_from([cdl.Tanh(), cdl.Relu(), cdl.Sigmoid()]))
    f = cdl.Linear(sizes[0], sizes[1], key=k1) >> activation
    g = cdl.Linear(sizes[1], sizes[2], key=k2)
    return f, g, sizes[2], jax.random.normal(k3, (sizes[0],))


@SETTINGS
@given(mlps())
def test_reverse_derivative_is_a_functor(case: tuple) -> None:
    f, g, out, x = case
    dy = jnp.linspace(-1.0, 1.0, out)
    composite = reverse_derivative(f >> g)
    composed = reverse_derivative(f) >> reverse_derivative(g)
    pf, pg = split_parameters(f)[0], split_parameters(g)[0]
    p_fg = split_parameters(f >> g)[0]
    assert close(composite.get(p_fg, x), composed.get((pf, pg), x))
    dp_whole, dx_whole = composite.put(p_fg, x, dy)
    dp_parts, dx_parts = composed.put((pf, pg), x, dy)
    assert close(dx_whole, dx_parts)
    assert close(dp_whole, dp_parts)  # same leaves, in the same order


@SETTINGS
@given(mlps())
def test_reverse_derivative_preserves_the_tensor(case: tuple) -> None:
    f, g, out, x = case
    y = jnp.cos(jnp.arange(out, dtype=jnp.float32))
    pf, pg = split_parameters(f)[0], split_parameters(g)[0]
    whole = reverse_derivative(f @ g)
    parts = reverse_derivative(f) @ reverse_derivative(g)
    p_whole = split_parameters(f @ g)[0]
    x2 = (x, jnp.sin(jnp.arange(g.in_dim, dtype=jnp.float32)))
    dz = (jnp.ones_like(f(x)), y)
    assert close(whole.get(p_whole, x2), parts.get((pf, pg), x2))
    dp_whole, dx_whole = whole.put(p_whole, x2, dz)
    dp_parts, dx_parts = parts.put((pf, pg), x2, dz)
    assert close(dx_whole, dx_parts)
    assert close(dp_whole, dp_parts)


@SETTINGS
@given(mlps())
def test_reverse_derivative_is_the_gradient(case: tuple) -> None:
    f, g, out, x = case
    model = f >> g
    params, _ = split_parameters(model)
    dp, dx = reverse_derivative(model).put(params, x, jnp.ones(out))
    grads = eqx.filter_grad(lambda m: m(x).sum())(model)
    assert close(dp, split_parameters(grads)[0])
    assert close(dx, jax.grad(lambda v: model(v).sum())(x))


@SETTINGS
@given(mlps())
def test_forward_derivative_is_a_functor(case: tuple) -> None:
    f, g, _, x = case
    pf, pg = split_parameters(f)[0], split_parameters(g)[0]
    tf = jax.tree.map(jnp.ones_like, pf)
    tg = jax.tree.map(jnp.ones_like, pg)
    dx = jnp.ones_like(x)
    whole = forward_derivative(f >> g).push(
        split_parameters(f >> g)[0],
        x,
        jax.tree.map(jnp.ones_like, split_parameters(f >> g)[0]),
        dx,
    )
    parts = (forward_derivative(f) >> forward_derivative(g)).push(
        (pf, pg), x, (tf, tg), dx
    )
    assert close(whole, parts, 1e-5)


@SETTINGS
@given(mlps())
def test_forward_and_reverse_derivatives_are_adjoint(case: tuple) -> None:
    # <D f (ẋ), ȳ> == <ẋ, R f (ȳ)>: both modes compute one Jacobian.
    f, g, out, x = case
    model = f >> g
    params, _ = split_parameters(model)
    xdot = jnp.cos(jnp.arange(x.shape[0], dtype=jnp.float32))
    ybar = jnp.sin(jnp.arange(out, dtype=jnp.float32) + 1)
    zero = jax.tree.map(jnp.zeros_like, params)
    _, ydot = forward_derivative(model).push(params, x, zero, xdot)
    _, xbar = reverse_derivative(model).put(params, x, ybar)
    assert np.allclose(ydot @ ybar, xdot @ xbar, rtol=1e-5, atol=1e-5)


def test_batched_reverse_derivative_sums_over_the_batch() -> None:
    f = cdl.Linear(3, 2, key=jax.random.key(1))
    params, _ = split_parameters(f)
    xs = jax.random.normal(jax.random.key(2), (4, 3))
    dys = jnp.ones((4, 2))
    dp, dxs = reverse_derivative(f, batched=True).put(params, xs, dys)
    one = reverse_derivative(f)
    singles = [one.put(params, x, dy) for x, dy in zip(xs, dys, strict=True)]
    assert close(dp, jax.tree.map(lambda *t: sum(t), *[s[0] for s in singles]))
    assert close(dxs, jnp.stack([s[1] for s in singles]))


def test_parallel_para_lens_acts_on_pairs() -> None:
    f, g = cdl.Linear(2, 2, key=jax.random.key(0)), cdl.Tanh()
    lens = reverse_derivative(f) @ reverse_derivative(g)
    p = (split_parameters(f)[0], None)
    x = (jnp.ones(2), jnp.zeros(2))
    (dp, _), (dx1, dx2) = lens.put(p, x, (jnp.ones(2), jnp.ones(2)))
    assert np.allclose(dx1, f.weight.sum(axis=0))
    assert np.allclose(dx2, 1.0)
    assert np.allclose(dp.bias, 1.0)


# ------------------------------------------------------------------------ losses


def test_losses_match_optax_and_their_gradients() -> None:
    key = jax.random.key(3)
    logits = jax.random.normal(key, (5, 4))
    labels = jnp.array([0, 1, 3, 2, 0])
    loss = SoftmaxCrossEntropy()
    expected = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    assert np.allclose(loss.get(labels, logits), expected)
    _, dlogits = loss.put(labels, logits, jnp.array(1.0))
    assert np.allclose(
        dlogits, (jax.nn.softmax(logits) - jax.nn.one_hot(labels, 4)) / 5
    )

    targets = jnp.array([[1.0], [0.0], [1.0], [0.0], [0.5]])
    bce = BinaryCrossEntropy()
    _, dpred = bce.put(targets, logits[:, :1], jnp.array(1.0))
    assert np.allclose(dpred, (jax.nn.sigmoid(logits[:, :1]) - targets) / 5)

    mse = MeanSquaredError()
    dy, dpred = mse.put(targets, logits[:, :1], jnp.array(2.0))
    assert np.allclose(dpred, 2.0 * 2 * (logits[:, :1] - targets) / 5)
    assert np.allclose(dy, -dpred)


def test_adversarial_cost_is_critic_then_loss() -> None:
    critic = (
        cdl.Linear(2, 1, key=jax.random.key(0))
        >> cdl.Tanh()
        >> cdl.Linear(1, 1, key=jax.random.key(1))
    )
    samples = jax.random.normal(jax.random.key(2), (6, 2))
    params, _ = split_parameters(critic)
    cost = AdversarialCost(critic, target=1.0)
    composite = reverse_derivative(critic, batched=True) >> BinaryCrossEntropy()
    loss = cost.get(params, samples)
    assert np.allclose(loss, composite.get((params, jnp.ones((6, 1))), samples))
    dp, dx = cost.put(params, samples, jnp.array(1.0))
    (dp2, _), dx2 = composite.put((params, jnp.ones((6, 1))), samples, jnp.array(1.0))
    assert close(dp, dp2)
    assert close(dx, dx2)


# -------------------------------------------------------------------- optimisers

OPTIMISERS = {
    "sgd": (lambda lr: SGD(lr), lambda lr: optax.sgd(lr)),
    "momentum": (lambda lr: Momentum(lr, 0.9), lambda lr: optax.sgd(lr, 0.9)),
    "nesterov": (
        lambda lr: Nesterov(lr, 0.8),
        lambda lr: optax.sgd(lr, 0.8, nesterov=True),
    ),
    "adagrad": (lambda lr: AdaGrad(lr), lambda lr: optax.adagrad(lr)),
    "rmsprop": (lambda lr: RMSProp(lr), lambda lr: optax.rmsprop(lr)),
    "adam": (lambda lr: Adam(lr), lambda lr: optax.adam(lr)),
    "bridge": (lambda lr: from_optax(optax.adamw(lr)), lambda lr: optax.adamw(lr)),
}


def quadratic_problem(seed: int, n: int) -> tuple[jax.Array, jax.Array, dict]:
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    a = jax.random.normal(k1, (n, n)) / jnp.sqrt(n)
    b = jax.random.normal(k2, (n,))
    params = {"x": jax.random.normal(k3, (n,)), "y": jnp.zeros((2, n))}
    return a, b, params


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 6), lr=st.floats(1e-3, 0.3))
def test_optimiser_trajectories_match_optax(
    name: str, seed: int, n: int, lr: float
) -> None:
    ours, theirs = OPTIMISERS[name][0](lr), OPTIMISERS[name][1](lr)
    a, b, params = quadratic_problem(seed, n)

    def loss(p: dict) -> jax.Array:
        r = a @ p["x"] - b
        return jnp.sum(r**2) + jnp.sum(jnp.tanh(p["y"] + p["x"][None]) ** 2)

    def step(carry: tuple, _: None) -> tuple[tuple, tuple]:
        s_ours, p_ours, s_theirs, p_theirs = carry
        s_ours, p_ours = ours.put((s_ours, p_ours), jax.grad(loss)(p_ours))
        g = jax.grad(loss)(p_theirs)
        updates, s_theirs = theirs.update(g, s_theirs, p_theirs)
        p_theirs = optax.apply_updates(p_theirs, updates)
        return (s_ours, p_ours, s_theirs, p_theirs), (p_ours, p_theirs)

    start = (ours.init(params), params, theirs.init(params), params)
    _, (ours_path, theirs_path) = jax.jit(
        lambda c: jax.lax.scan(step, c, None, length=20)
    )(start)
    assert close(ours_path, theirs_path, 1e-6), name


def test_optimiser_get_is_the_parameters() -> None:
    opt = Adam(0.1)
    params = jnp.ones(3)
    assert opt.get((opt.init(params), params)) is params
