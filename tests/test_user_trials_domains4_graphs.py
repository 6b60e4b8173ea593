"""Graphs refuse features that are not real numbers, units that are not numbers,
switches that are not bools, and `unbatch` of something that is not a graph."""

import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.graphs import (
    Graph,
    Max,
    Monoid,
    Propagate,
    Semiring,
    Sum,
    aggregate,
    clrs,
    unbatch,
)

_S, _R = jnp.array([0]), jnp.array([1])


def test_complex_or_text_features_are_refused() -> None:
    # A complex table was cast to float32, its imaginary part dropped without a
    # word; strings failed inside JAX ("Error interpreting argument to stage").
    with pytest.raises(Exception, match="node features must be real numbers") as e:
        Graph(_S, _R, num_nodes=2, nodes=jnp.ones((2, 1)) * (1 + 2j))
    assert "imaginary part" in str(e.value)
    with pytest.raises(Exception, match=r"edge features must be real numbers.*<U1"):
        Graph(_S, _R, num_nodes=2, edges=np.array(["a"]))
    with pytest.raises(Exception, match="edge features must be real numbers"):
        Graph.from_edge_list([(0, 1)], 2, edges=np.array([1j]))
    # Real tables are taken as before (ints and bools as float32).
    g = Graph(_S, _R, num_nodes=2, nodes=[[1], [2]], edges=[True])
    assert g.nodes is not None and g.nodes.dtype == jnp.float32
    assert g.edges is not None and g.edges.dtype == jnp.float32


def test_a_unit_that_is_not_a_number_is_refused_when_built() -> None:
    # Monoid(jnp.add, "a") was built and failed at its first fold with
    # "could not convert string to float"; None with "not a valid value".
    for bad in ("a", None, 1j):
        with pytest.raises(TypeError, match="the unit must be one real number"):
            Monoid(jnp.add, bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="the unit must be one real number"):
            Semiring(Sum(), jnp.multiply, bad)  # type: ignore[arg-type]
    g = Graph.from_edge_list([(0, 1), (2, 1)], 3)
    folded = aggregate(g, jnp.array([4, 6]), Monoid(jnp.gcd, 0))
    assert folded.tolist() == [0, 2, 0]


def test_switches_take_only_bools() -> None:
    # keep="no" and undirected="no" were read as True.
    with pytest.raises(TypeError, match="Propagate: keep must be True or False"):
        Propagate(keep="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="undirected must be True or False"):
        Graph.from_edge_list([(0, 1)], 2, undirected="no")  # type: ignore[arg-type]
    assert Propagate(keep=np.bool_(False)).keep is False


def test_unbatch_names_what_is_not_a_graph() -> None:
    # It raised AttributeError: 'int' object has no attribute 'n_node'.
    with pytest.raises(TypeError, match="unbatch needs a cdl.graphs.Graph"):
        unbatch(3)  # type: ignore[arg-type]


def test_bellman_ford_refuses_weights_that_are_not_real_numbers() -> None:
    # Complex weights lost their imaginary parts (a ComplexWarning, then pointers
    # from the real parts); text failed inside np.isfinite.
    with pytest.raises(ValueError, match="weights must be real numbers.*complex128"):
        clrs.bellman_ford(np.array([[0, 1j], [1, 0]]), 0)
    with pytest.raises(ValueError, match="weights must be real numbers.*<U1"):
        clrs.bellman_ford(np.array([["a", "b"], ["c", "d"]]), 0)
    assert clrs.bellman_ford(np.array([[0, 2], [2, 0]]), 0).tolist() == [0, 0]


def test_readout_of_integer_features_gives_the_aggregations_dtype() -> None:
    # Readout(Mean()) of an int table failed with "must return i32[g,1], but
    # returned f32[2,1]": its signature tied the output's dtype to the input's,
    # though a mean (or log-sum-exp) of ints is a float, as aggregate gives it.
    from cdl.graphs import LogSumExp, Mean, Readout, batch

    g = batch([Graph.from_edge_list([(0, 1)], 3), Graph.from_edge_list([], 2)])
    x = jnp.array([[1], [2], [4], [3], [3]], jnp.int32)
    mean = Readout(Mean())((g, x))
    assert mean.dtype == jnp.float32
    assert np.allclose(np.asarray(mean)[:, 0], [7 / 3, 3.0])
    assert Readout(LogSumExp())((g, x)).dtype == jnp.float32
    assert Readout(Sum())((g, x)).dtype == jnp.int32  # a sum of ints stays int
    assert Readout(Sum())((g, x))[:, 0].tolist() == [7, 6]
    space = Readout(Mean()).output_space(cdl.space_of((g, x)))
    assert repr(space) == "f32[g,1]"


def test_an_empty_value_the_rows_cannot_hold_is_refused() -> None:
    # empty=1.5 for int messages was cut to 1, -1 for uint8 ones wrapped to 255.
    g = Graph.from_edge_list([(0, 1), (1, 2)], 3)
    ints = jnp.array([3, 2], jnp.int32)
    with pytest.raises(ValueError, match="empty must be one number.*int32.*1.5"):
        aggregate(g, ints, Sum(), empty=1.5)
    with pytest.raises(ValueError, match="uint8"):
        aggregate(g, ints.astype(jnp.uint8), Sum(), empty=-1)
    with pytest.raises(ValueError, match="empty must be one number"):
        aggregate(g, ints.astype(jnp.float32), Sum(), empty=[0.0, 1.0])  # type: ignore[arg-type]
    assert aggregate(g, ints, Sum(), empty=7).tolist() == [7, 3, 2]
    floats = aggregate(g, ints.astype(jnp.float32), Sum(), empty=0.1)
    assert np.allclose(floats, [0.1, 3.0, 2.0])


def test_max_of_bools_has_false_as_its_identity() -> None:
    # Max().identity(bool) was True (-inf cast to bool), so aggregate(...,
    # empty=True) took True for what the fold already gives and left False.
    g = Graph.from_edge_list([(0, 1), (1, 2)], 3)
    flags = jnp.array([True, False])
    assert Max().identity(jnp.bool_).tolist() is False
    assert aggregate(g, flags, Max()).tolist() == [False, True, False]
    assert aggregate(g, flags, Max(), empty=True).tolist() == [True, True, False]


def test_a_graph_mask_of_the_wrong_kind_or_length_is_refused() -> None:
    # Any value was cast to bool ("a", 0.5 and 2 all became True), and a mask
    # with more entries than the graph has graphs was kept as it was.
    s, r = jnp.array([0]), jnp.array([1])
    for bad in (["a"], [0.5], [2]):
        with pytest.raises(Exception, match="graph_mask must be booleans"):
            Graph(s, r, num_nodes=2, graph_mask=bad)
    with pytest.raises(Exception, match="1 node counts but 2 graph_mask entries"):
        Graph(s, r, num_nodes=2, graph_mask=[True, False])
    assert Graph(s, r, num_nodes=2, graph_mask=[0]).graph_mask.tolist() == [False]
