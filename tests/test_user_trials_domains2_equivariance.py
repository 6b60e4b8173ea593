"""Equivariance checks given elements their monoid does not hold (second round)."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import cdl
from cdl.equivariance._monoid import outside


def _closure(size: int, generators: list[tuple[int, ...]]) -> set[tuple[int, ...]]:
    """Every product of the generators, the identity included, by brute force."""
    found = {tuple(range(size))}
    frontier = list(found)
    while frontier:
        nxt = []
        for x in frontier:
            for g in generators:
                # (g ▷ (x ▷ v))[i] = (x ▷ v)[g[i]] = v[x[g[i]]]
                y = tuple(-1 if j < 0 else x[j] for j in g)
                if y not in found:
                    found.add(y)
                    nxt.append(y)
        frontier = nxt
    return found


@st.composite
def _maps(draw: st.DrawFn, size: int) -> tuple[int, ...]:
    return tuple(
        draw(st.lists(st.integers(-1, size - 1), min_size=size, max_size=size))
    )


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_equivariance_error_refuses_exactly_the_maps_outside_the_monoid(
    data: st.DataObject,
) -> None:
    # A map outside the monoid was measured as if it were an element, and a
    # correct layer looked non-equivariant (C5's layer at a swap: error 1.2).
    size = data.draw(st.integers(1, 4))
    generators = data.draw(st.lists(_maps(size), min_size=1, max_size=2))
    monoid = cdl.Monoid(size, tuple(generators), name="M")
    g = np.array(data.draw(st.one_of(_maps(size), st.sampled_from(generators))))
    if tuple(int(i) for i in g) in _closure(size, generators):
        # an element is measured (the measurement itself: the tests below)
        assert not outside(monoid, g)
    else:
        act = cdl.signal_action(monoid, size)
        with pytest.raises(ValueError, match="is not an element of M"):
            cdl.equivariance_error(
                lambda x: x, act, act, key=jax.random.key(0), elements=[g]
            )


def test_a_swap_is_not_an_element_of_a_cyclic_group() -> None:
    act = cdl.signal_action(cdl.Monoid.cyclic(5), 5, 2)
    layer = lambda x: x + jnp.roll(x, 1, axis=1)  # noqa: E731  (a circular filter)
    swap = np.array([1, 0, 2, 3, 4])
    text = "element 0, [1, 0, 2, 3, 4], is not an element of C5"
    with pytest.raises(ValueError, match=re.escape(text)):
        cdl.equivariance_error(layer, act, act, key=jax.random.key(1), elements=[swap])
    turn = np.array([2, 3, 4, 0, 1])
    assert cdl.is_equivariant(layer, act, act, key=jax.random.key(1), elements=[turn])


def test_any_permutation_is_an_element_of_a_large_symmetric_group() -> None:
    # S_12 has 479,001,600 elements: no enumeration is needed to know it.
    act = cdl.permutation_action(12, (1,))
    perm = np.random.default_rng(0).permutation(12)
    mean = lambda x: jnp.broadcast_to(jnp.mean(x, axis=0), x.shape)  # noqa: E731
    assert cdl.is_equivariant(mean, act, act, key=jax.random.key(0), elements=[perm])
    with pytest.raises(ValueError, match="is not an element of S12"):
        cdl.equivariance_error(
            mean, act, act, key=jax.random.key(0), elements=[np.zeros(12, int)]
        )


_SUMMANDS = {
    "S4": lambda: (
        cdl.permutation_action(4, (3,)),
        cdl.permutation_action(4, (2,), order=2),
    ),
    "shifts": lambda: (
        cdl.signal_action(cdl.Monoid.shifts(4), 4, 2),
        cdl.signal_action(cdl.Monoid.shifts(4), 4, 1),
    ),
}


@settings(max_examples=6, deadline=None)
@given(
    st.sampled_from(sorted(_SUMMANDS)),
    st.sampled_from([jax.nn.relu, jnp.tanh]),
    st.integers(0, 2**31 - 1),
)
def test_pointwise_on_a_direct_sum_of_reindexings_is_equivariant(
    name: str, fn: object, seed: int
) -> None:
    # It was refused: "only actions that reindex entries (IndexAction) ...",
    # though each summand does reindex its entries.
    a, b = _SUMMANDS[name]()
    act = cdl.DirectSum(a, b)
    layer = cdl.Pointwise(act, fn)  # type: ignore[arg-type]
    assert layer.dom == layer.cod
    g = act.monoid.sample(np.random.default_rng(seed))
    x = act.random_input(jax.random.key(seed))
    left, right = layer(act.act(g, x)), act.act(g, layer(x))
    assert all(jnp.allclose(u, v) for u, v in zip(left, right, strict=True))


@pytest.mark.slow
def test_a_network_over_a_direct_sum_with_pointwise_between_layers() -> None:
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    nodes = cdl.permutation_action(3, (1,))
    both = cdl.DirectSum(nodes, cdl.permutation_action(3, (1,), order=2))
    model = (
        cdl.EquivariantLinear(both, both, key=k1)
        >> cdl.Pointwise(both, jax.nn.relu)
        >> cdl.EquivariantLinear(both, nodes, key=k2)
    )
    assert cdl.is_equivariant(model, both, nodes, key=k3)


def test_equivariant_mlp_points_a_direct_sum_hidden_action_to_pointwise() -> None:
    nodes = cdl.permutation_action(3, (1,))
    both = cdl.DirectSum(nodes, cdl.permutation_action(3, (1,), order=2))
    with pytest.raises(ValueError, match="acts on tuples: chain cdl.EquivariantLinear"):
        cdl.equivariant_mlp([nodes, both, nodes], key=jax.random.key(0))
    shifts = _SUMMANDS["shifts"]()
    with pytest.raises(ValueError, match="sigmoid does not commute"):
        cdl.Pointwise(cdl.DirectSum(*shifts), jax.nn.sigmoid)


@pytest.mark.parametrize("fn", [cdl.Relu, 3.0, "relu"])
def test_pointwise_names_a_function_that_is_not_one(fn: object) -> None:
    # The class cdl.Relu was accepted and failed at the first call.
    with pytest.raises(TypeError, match="Pointwise needs a function applied entry"):
        cdl.Pointwise(cdl.permutation_action(3, (1,)), fn)  # type: ignore[arg-type]


def test_monoid_product_and_name_of_the_wrong_kind_are_named() -> None:
    # product(C2, 3): AttributeError 'int' object has no attribute 'size';
    # name=5 was accepted and broke the monoid's repr later.
    with pytest.raises(TypeError, match="Monoid.product needs a cdl.Monoid .* int 3"):
        cdl.Monoid.product(cdl.Monoid.cyclic(2), 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="name must be a string .* int 5"):
        cdl.Monoid(3, ((1, 2, 0),), name=5)  # type: ignore[arg-type]
    assert cdl.Monoid.product(cdl.Monoid.cyclic(2), cdl.Monoid.cyclic(3)).order == 6


def test_monoid_sample_names_its_arguments_and_samples_a_trivial_monoid() -> None:
    shifts = cdl.Monoid.shifts(3)
    rng = np.random.default_rng(0)
    # length=-1 returned the unit silently; an int seed raised AttributeError.
    with pytest.raises(ValueError, match=r"Shift3.sample: length must be .* -1"):
        shifts.sample(rng, -1)
    with pytest.raises(TypeError, match="Shift3.sample needs a NumPy generator"):
        shifts.sample(0)  # type: ignore[arg-type]
    # a monoid without generators drew from an empty list (numpy's "high <= 0")
    assert cdl.Monoid(3, ()).sample(rng, 4).tolist() == [0, 1, 2]
