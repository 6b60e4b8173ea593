"""Ragged lists as a new user batches them: elements that are pytrees (a dict of
features per element), and lists with an empty one first."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl

RNG = np.random.default_rng(0)


def _element() -> dict[str, np.ndarray]:
    return {"a": RNG.normal(size=2).astype(np.float32), "b": np.float32(RNG.normal())}


LISTS = [[_element() for _ in range(n)] for n in (3, 0, 2)]
TOTAL = cdl.cata(
    cdl.ListAlgebra(jnp.float32(0.0), lambda p: p[0]["a"].sum() * p[0]["b"] + p[1])
)


def test_lists_of_pytree_elements_pad_leaf_by_leaf() -> None:
    # np.asarray of a list of dicts is an object array: JAX raised "Error
    # interpreting argument to stage as a JAX value" from inside jnp.asarray.
    batch = cdl.batch_lists(LISTS, pad=True)
    assert batch.length.tolist() == [3, 0, 2]
    assert jax.tree.map(jnp.shape, batch.values) == {"a": (3, 3, 2), "b": (3, 3)}
    expected = [sum(float(e["a"].sum() * e["b"]) for e in xs) for xs in LISTS]
    np.testing.assert_allclose(jax.vmap(TOTAL)(batch), expected, rtol=1e-5)


def test_lists_given_as_pytrees_of_arrays_batch_alike() -> None:
    # The documented pytree list (a dict of arrays with the elements on the
    # leading axis) was refused with a hint that built a dict of PaddedLists.
    trees = [
        {
            "a": np.stack([e["a"] for e in xs]) if xs else np.zeros((0, 2), np.float32),
            "b": np.array([e["b"] for e in xs], np.float32),
        }
        for xs in LISTS
    ]
    batch, same = cdl.batch_lists(trees, pad=True), cdl.batch_lists(LISTS, pad=True)
    assert jax.tree.all(jax.tree.map(np.array_equal, batch.values, same.values))
    stacked = cdl.batch_lists([trees[0], trees[0]])
    assert jax.tree.map(jnp.shape, stacked) == {"a": (2, 3, 2), "b": (2, 3)}


@pytest.mark.parametrize(
    ("lists", "message"),
    [
        ([LISTS[0], [[1.0, 2.0]]], "list 1 is a list of plain elements, but the batch"),
        (
            [LISTS[0], [{"a": np.ones(2)}]],
            r"list 1 is of structure PyTreeDef\({'a': \*}\)",
        ),
        (
            [{"a": np.ones(3), "b": np.ones(2)}],
            r"leaves have shapes \[\(3,\), \(2,\)\]",
        ),
        ([[{"a": 1.0}, {"b": 1.0}]], "list 0 holds elements of different structures"),
    ],
)
def test_lists_of_unlike_pytrees_are_named(lists: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cdl.batch_lists(lists, pad=True)


def test_unlike_elements_name_the_list_compared_with() -> None:
    # List 0 is empty: the shape compared with is list 1's, which was called list 0's.
    with pytest.raises(
        ValueError, match=r"list 2 has elements of shape \(3,\), but list 1's"
    ):
        cdl.batch_lists([[], [np.ones(2)], [np.ones(3)]], pad=True)


def test_a_rose_node_with_too_many_children_says_so() -> None:
    # It said "takes 5 fields, but 2 were given" of a payload and a list.
    (node,) = cdl.RoseF(4).patterns
    leaf = node(1.0, [])
    with pytest.raises(TypeError, match=r"takes at most 4 children, but 5 were given"):
        node(1.0, [leaf] * 5)
    with pytest.raises(TypeError, match=r"at most 4 children, but 5 .*cdl\.RoseF\(5\)"):
        node(1.0, *[leaf] * 5)
    assert len(node(1.0, [leaf] * 4).children) == 4


@pytest.mark.parametrize("count", [5, -1])
def test_a_rose_unfold_counting_past_its_arity_raises(count: int) -> None:
    # The count was clamped to 0..3: five children became three, silently.
    rose = cdl.RoseF(3)
    tally = cdl.Algebra(
        rose,
        Node=lambda p: 1.0 + jnp.sum(jnp.where(p[1][1], p[1][0], 0.0)),
        carrier=jnp.float32(0),
    )

    def step(n: jax.Array) -> tuple:
        kids = jnp.stack([n - 1] * 3)
        return 0, {"Node": jnp.float32(0)}, kids, jnp.where(n > 0, count, 0)

    unfold = cdl.hylo(tally, cdl.Coalgebra(rose, step), max_depth=4, max_width=16)
    with pytest.raises(Exception, match=r"count of children outside .*Node: 0\.\.3"):
        unfold(jnp.int32(2))
    fine = cdl.Coalgebra(
        rose,
        lambda n: (
            0,
            {"Node": jnp.float32(0)},
            jnp.stack([n - 1] * 3),
            jnp.minimum(n, 3),
        ),
    )
    assert float(cdl.hylo(tally, fine, max_depth=5, max_width=64)(jnp.int32(3))) == 16.0


def test_validation_lists_beside_padded_lists_are_padded_alike() -> None:
    # docs/learning.md passes validation=(held_lists, held_labels) beside
    # cdl.batch_lists(lists, pad=True); it was a DataError asking to pad them.
    from cdl.optics import Adam, Learner, SoftmaxCrossEntropy, fit

    rng = np.random.default_rng(1)
    lists = [rng.normal(size=(n, 2)).astype(np.float32) for n in (0, 3, 1, 4, 2, 5)]
    labels = np.array([0, 1, 0, 1, 1, 0])
    keys = jax.random.split(jax.random.key(0), 3)
    fold = cdl.cata(cdl.ListAlgebra(jnp.zeros(4), cdl.GRUCell(2, 4, key=keys[0])))
    model = fold >> cdl.Linear(4, 2, key=keys[1])
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(1e-2))
    settings = {"epochs": 1, "batch_size": 3, "key": keys[2], "progress": False}
    padded = cdl.batch_lists(lists, pad=True)
    held = (lists[:3], labels[:3])
    plain = fit(learner, model, padded, labels, validation=held, **settings)
    batched = (cdl.batch_lists(lists[:3], pad=True), labels[:3])
    expected = fit(learner, model, padded, labels, validation=batched, **settings)
    assert plain.history == expected.history
    with pytest.raises(
        ValueError, match="validation data: list 1 has elements of shape"
    ):
        fit(
            learner,
            model,
            padded,
            labels,
            validation=([lists[1], np.ones((2, 3))], labels[:2]),
            **settings,
        )


def test_padded_lists_keep_float64_where_x64_is_on() -> None:
    # batch_lists cast float64 to float32 always: 1e-10 + 1.0 then read 1.0 in a
    # fold that folds the unpadded float64 array exactly.
    total = cdl.cata(cdl.ListAlgebra(0.0, lambda p: p[0] + p[1]))
    with jax.enable_x64(True):
        batch = cdl.batch_lists([[1e-10, 1.0], [2.0]], pad=True)
        assert batch.values.dtype == jnp.float64
        assert float(jax.vmap(total)(batch)[0]) == 1.0 + 1e-10
    assert cdl.batch_lists([[1e-10, 1.0], [2.0]], pad=True).values.dtype == jnp.float32
    assert cdl.batch_lists([[1, 2], [3]], pad=True).values.dtype == jnp.int32
