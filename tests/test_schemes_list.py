"""List schemes against a plain-Python reference recursion, on random lists."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jax.test_util import check_grads
from jaxtyping import Array, Float, Int

import cdl

Vec = Float[Array, "3"]
Scalar = Float[Array, ""]
Index = Int[Array, ""]


class Affine(cdl.Para[tuple[Vec, Vec], Vec]):
    """``cons(e, a) = tanh(W e + s * a)``: a nonlinear cell, so order matters."""

    w: Float[Array, "3 3"]
    s: Scalar

    def __call__(self, x: tuple[Vec, Vec]) -> Vec:
        e, a = x
        return jnp.tanh(self.w @ e + self.s * a)


class Linear2(cdl.Para[tuple[Vec, Vec], Vec]):
    """``cons(e, a) = P e + m a``: linear, for fusion."""

    p: Float[Array, "3 3"]
    m: Scalar

    def __call__(self, x: tuple[Vec, Vec]) -> Vec:
        e, a = x
        return self.p @ e + self.m * a


def ref_cata(nil, cons, xs):
    acc = nil
    for x in reversed(list(xs)):
        acc = cons((x, acc))
    return acc


def ref_foldl(nil, cons, xs):
    acc = nil
    for x in xs:
        acc = cons((x, acc))
    return acc


lists = st.integers(0, 8).flatmap(
    lambda n: st.lists(
        st.lists(st.floats(-2, 2, width=32), min_size=3, max_size=3),
        min_size=n,
        max_size=n,
    )
)
seeds = st.integers(0, 2**16)


def make(seed: int) -> tuple[Array, Affine]:
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    cell = Affine(jax.random.normal(k1, (3, 3)), jax.random.uniform(k2))
    return jax.random.normal(k3, (3,)), cell


def as_array(xs: list[list[float]]) -> Array:
    return jnp.asarray(np.asarray(xs, np.float32).reshape(len(xs), 3))


@settings(max_examples=12, deadline=None)
@given(lists, seeds)
def test_cata_is_the_right_fold(xs, seed):
    nil, cell = make(seed)
    arr = as_array(xs)
    got = cdl.cata(cdl.ListAlgebra(nil, cell))(arr)
    np.testing.assert_allclose(got, ref_cata(nil, cell, arr), rtol=1e-5, atol=1e-5)


@settings(max_examples=12, deadline=None)
@given(lists, seeds)
def test_cata_universal_property(xs, seed):
    # cata(alg) ∘ in = alg ∘ ListF(cata(alg)): on nil and on every cons.
    nil, cell = make(seed)
    alg = cdl.ListAlgebra(nil, cell)
    fold = cdl.cata(alg)
    arr = as_array(xs)
    if len(xs) == 0:
        np.testing.assert_allclose(fold(arr), alg(None))
    else:
        np.testing.assert_allclose(
            fold(arr), alg((arr[0], fold(arr[1:]))), rtol=1e-5, atol=1e-5
        )


@settings(max_examples=12, deadline=None)
@given(lists, seeds)
def test_foldl_is_the_left_fold_and_cata_of_the_reverse(xs, seed):
    nil, cell = make(seed)
    alg = cdl.ListAlgebra(nil, cell)
    arr = as_array(xs)
    got = cdl.foldl(alg)(arr)
    np.testing.assert_allclose(got, ref_foldl(nil, cell, arr), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got, cdl.cata(alg)(arr[::-1]), rtol=1e-5, atol=1e-5)


@settings(max_examples=12, deadline=None)
@given(lists, seeds)
def test_cata_fusion(xs, seed):
    # h: A -> B with h . cons1 = cons2 . (id x h) and h(nil1) = nil2
    # gives h . cata(alg1) = cata(alg2). Here h(a) = Q a, cons1 = P e + m a,
    # cons2 = Q P e + m b.
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    p, q = jax.random.normal(k1, (3, 3)), jax.random.normal(k2, (3, 3))
    nil = jax.random.normal(k3, (3,))
    m = jnp.float32(0.7)
    alg1 = cdl.ListAlgebra(nil, Linear2(p, m))
    alg2 = cdl.ListAlgebra(q @ nil, Linear2(q @ p, m))
    arr = as_array(xs)
    np.testing.assert_allclose(
        q @ cdl.cata(alg1)(arr), cdl.cata(alg2)(arr), rtol=1e-4, atol=1e-4
    )


class Countdown(cdl.Para[Scalar, tuple[Scalar, Scalar]]):
    def __call__(self, s: Scalar) -> tuple[Scalar, Scalar]:
        return jnp.sin(s) * s, s - 1


class Mix(cdl.Para[tuple[Scalar, Scalar], Scalar]):
    def __call__(self, x: tuple[Scalar, Scalar]) -> Scalar:
        e, a = x
        return jnp.tanh(e - 0.5 * a)


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 9), st.integers(1, 12))
def test_ana_cata_duality_and_hylo(start, max_size):
    coalg = cdl.ListCoalgebra(Countdown(), lambda s: s <= 0)
    unfolded = cdl.ana(coalg, max_size)(jnp.float32(start))
    # Plain-Python unfold.
    ref, s = [], float(start)
    while s > 0 and len(ref) < max_size:
        ref.append(np.sin(np.float32(s)) * np.float32(s))
        s -= 1
    assert int(unfolded.length) == len(ref)
    alg = cdl.ListAlgebra(jnp.float32(0.3), Mix())
    assert bool(unfolded.truncated) == (start > max_size)
    if start > max_size:  # cut off: never a silent answer
        np.testing.assert_allclose(unfolded.values[: len(ref)], ref, rtol=1e-5)
        with pytest.raises(Exception, match="cut off at max_size"):
            cdl.cata(alg)(unfolded)
        for accumulate in (False, True):
            hylo = cdl.hylo(alg, coalg, max_size, accumulate=accumulate)
            with pytest.raises(Exception, match="cut off at max_size"):
                hylo(jnp.float32(start))
        return
    np.testing.assert_allclose(unfolded.to_list(), ref, rtol=1e-5, atol=1e-6)
    expected = ref_cata(jnp.float32(0.3), Mix(), [jnp.float32(r) for r in ref])
    np.testing.assert_allclose(cdl.cata(alg)(unfolded), expected, rtol=1e-5)
    np.testing.assert_allclose(
        cdl.hylo(alg, coalg, max_size)(jnp.float32(start)), expected, rtol=1e-5
    )
    left = ref_foldl(jnp.float32(0.3), Mix(), [jnp.float32(r) for r in ref])
    np.testing.assert_allclose(
        cdl.hylo(alg, coalg, max_size, accumulate=True)(jnp.float32(start)),
        left,
        rtol=1e-5,
    )


class Take(eqx.Module):
    xs: Array

    def __call__(self, i):
        return self.xs[i], i + 1


@settings(max_examples=10, deadline=None)
@given(lists)
def test_ana_of_the_destructor_rebuilds_the_list(xs):
    # ana(out) = id: unfolding a list by taking its head gives the list back.
    arr = as_array(xs)
    if len(xs) == 0:
        return

    class Out(cdl.Para[Scalar, tuple[Vec, Scalar]]):
        def __call__(self, i):
            return arr[i.astype(jnp.int32)], i + 1

    coalg = cdl.ListCoalgebra(Out(), lambda i: i >= len(xs))
    rebuilt = cdl.ana(coalg, len(xs) + 2)(jnp.float32(0))
    assert int(rebuilt.length) == len(xs)
    np.testing.assert_array_equal(rebuilt.values[: len(xs)], arr)


class Para3(cdl.Para[tuple[Scalar, tuple[cdl.Suffix, Scalar]], Scalar]):
    def __call__(self, x):
        e, (tail, acc) = x
        return acc * 0.5 + e * tail.length + jnp.where(tail.length > 0, tail[0], 0.0)


class Hist(cdl.Para[tuple[Scalar, tuple[Scalar, Scalar, Scalar]], Scalar]):
    def __call__(self, x):
        e, (a, b, c) = x
        return jnp.tanh(e + 0.5 * a - 0.3 * b + 0.2 * c)


class Zyg(cdl.Para[tuple[Scalar, tuple[Scalar, Scalar]], Scalar]):
    def __call__(self, x):
        e, (b, a) = x
        return a + e * b


class Helper(cdl.Para[tuple[Scalar, Scalar], Scalar]):
    def __call__(self, x):
        return x[0] + x[1] ** 2 * 0.1


scalars = st.lists(st.floats(-2, 2, width=32), min_size=0, max_size=10)


@settings(max_examples=12, deadline=None)
@given(scalars)
def test_para_histo_zygo_mutu_match_the_reference(xs):
    arr = jnp.asarray(np.asarray(xs, np.float32))
    n = len(xs)
    # para: the cell sees the original tail.
    ref = jnp.float32(1.0)
    for i in reversed(range(n)):
        rest = n - i - 1
        nxt = arr[i + 1] if rest > 0 else 0.0
        ref = ref * 0.5 + arr[i] * rest + nxt
    if n > 0:  # the cell reads the tail's head, which an empty array lacks
        np.testing.assert_allclose(
            cdl.para(jnp.float32(1.0), Para3())(arr), ref, rtol=1e-5, atol=1e-5
        )
    # histo: results on the last three tails.
    results = [jnp.float32(0.2)]  # results[k] = result on the last k elements
    for i in reversed(range(n)):
        hist = [
            results[len(results) - 1 - j]
            if len(results) - 1 - j >= 0
            else jnp.float32(0.2)
            for j in range(3)
        ]
        results.append(Hist()((arr[i], tuple(hist))))
    np.testing.assert_allclose(
        cdl.histo(jnp.float32(0.2), Hist(), depth=3)(arr),
        results[-1],
        rtol=1e-5,
        atol=1e-6,
    )
    # zygo and mutu: the helper's result on the tail.
    helper = cdl.ListAlgebra(jnp.float32(0.5), Helper())
    b, a = jnp.float32(0.5), jnp.float32(0.0)
    for x in reversed(list(arr)):
        b, a = Helper()((x, b)), Zyg()((x, (b, a)))
    np.testing.assert_allclose(
        cdl.zygo(helper, jnp.float32(0.0), Zyg())(arr), a, rtol=1e-5, atol=1e-5
    )


def test_padded_batches_fold_like_each_list():
    nil, cell = make(3)
    alg = cdl.ListAlgebra(nil, cell)
    rows = [
        np.random.default_rng(i).normal(size=(n, 3)) for i, n in enumerate([4, 1, 0, 6])
    ]
    batch = cdl.batch_lists([r.tolist() if len(r) else [] for r in rows], pad=True)
    for fold in (cdl.cata(alg), cdl.foldl(alg)):
        got = jax.jit(jax.vmap(fold))(batch)
        for row, out in zip(rows, got, strict=True):
            np.testing.assert_allclose(
                out,
                fold(jnp.asarray(row, jnp.float32).reshape(-1, 3)),
                rtol=1e-5,
                atol=1e-5,
            )


def test_ragged_batch_without_mask_is_rejected():
    with pytest.raises(ValueError, match="different lengths \\[2, 1\\]"):
        cdl.batch_lists([[1.0, 2.0], [3.0]])


def test_nil_outside_the_carrier_is_rejected():
    cell = cdl.GRUCell(3, 4, key=jax.random.key(0))
    with pytest.raises(TypeError, match="nil lives in f32\\[5\\]"):
        cdl.ListAlgebra(jnp.zeros(5), cell)


def test_wrong_element_space_names_the_scheme():
    fold = cdl.cata(
        cdl.ListAlgebra(jnp.zeros(4), cdl.GRUCell(3, 4, key=jax.random.key(0)))
    )
    with pytest.raises(
        cdl.SpaceError, match="cata\\(GRUCell\\(3, 4\\)\\) expects input float\\[n,3\\]"
    ):
        fold(jnp.zeros((5, 2)))


@pytest.mark.parametrize("cell_type", [cdl.ElmanCell, cdl.GRUCell])
def test_gradients_match_finite_differences(cell_type):
    cell = cell_type(2, 3, key=jax.random.key(0))
    xs = jax.random.normal(jax.random.key(1), (5, 2))

    def loss(w_h, nil):
        alg = cdl.ListAlgebra(nil, eqx.tree_at(lambda c: c.w_h, cell, w_h))
        return cdl.cata(alg)(xs).sum()

    jax.config.update("jax_enable_x64", False)
    check_grads(
        loss, (cell.w_h, jnp.full(3, 0.1)), order=1, modes=["rev"], atol=2e-2, rtol=2e-2
    )


def test_weights_are_shared_across_steps():
    cell = cdl.ElmanCell(2, 3, key=jax.random.key(0))
    fold = cdl.foldl(cdl.ListAlgebra(jnp.zeros(3), cell))
    assert len(jax.tree.leaves(fold)) == len(jax.tree.leaves(cell)) + 1
    grads = jax.grad(lambda f: f(jnp.ones((4, 2))).sum())(fold)
    assert grads.algebra.cons.w_h.shape == (3, 3)


def test_lstm_carrier_is_a_pair():
    cell = cdl.LSTMCell(2, 3, key=jax.random.key(0))
    alg = cdl.ListAlgebra((jnp.zeros(3), jnp.zeros(3)), cell)
    xs = jnp.ones((4, 2))
    h, c = cdl.foldl(alg)(xs)
    ref = ref_foldl((jnp.zeros(3), jnp.zeros(3)), cell, xs)
    np.testing.assert_allclose(h, ref[0], rtol=1e-5)
    np.testing.assert_allclose(c, ref[1], rtol=1e-5)


def test_futu_and_apo_match_the_reference():
    pairs = jnp.array([[7, 2], [5, 0], [9, 3], [1, 1]])

    class Expand(cdl.Para[Index, tuple[Index, Int[Array, "3"], Index]]):
        def __call__(self, i):
            value, count = pairs[i]
            return count, jnp.full(3, value), i + 1

    out = cdl.futu(Expand(), lambda i: i >= 4, max_size=6)(jnp.int32(0))
    assert out.to_list() == [7, 7, 9, 9, 9, 1]
    cut = cdl.futu(Expand(), lambda i: i >= 4, max_size=5)(jnp.int32(0))
    assert bool(cut.truncated)
    with pytest.raises(ValueError, match="cut off at its capacity 5"):
        cut.to_list()
    xs = jnp.arange(6.0)

    class Step(cdl.Para[Index, tuple[Scalar, Index]]):
        def __call__(self, i):
            return -xs[i], i + 1

    coalg = cdl.ListCoalgebra(Step(), lambda i: i >= 6)
    # Haskell's form: the element of the finishing seed, then the finished tail.
    tail = lambda i: cdl.PaddedList(jnp.roll(xs, -i - 1), 5 - i)  # noqa: E731
    got = cdl.apo(coalg, lambda i: i == 2, tail, max_size=6)(jnp.int32(0))
    assert [float(v) for v in got.to_list()] == [-0.0, -1.0, -2.0, 3.0, 4.0, 5.0]
    short = cdl.apo(coalg, lambda i: i == 2, tail, max_size=5)(jnp.int32(0))
    assert bool(short.truncated)


def test_batch_lists_keeps_floats_among_ints():
    batch = cdl.batch_lists([[1, 2], [0.5]], pad=True)
    np.testing.assert_allclose(batch.values, [[1.0, 2.0], [0.5, 0.0]])
    assert batch.values.dtype == jnp.float32


@pytest.mark.parametrize("length", [-1, 4])
def test_padded_list_length_outside_its_capacity_is_rejected(length):
    with pytest.raises(ValueError, match=f"capacity 3, not {length}"):
        cdl.PaddedList(jnp.zeros(3), jnp.int32(length))
    with pytest.raises(ValueError, match=f"capacity 3, not {length}"):
        cdl.PaddedList(jnp.zeros((2, 3)), jnp.array([1, length]))


@pytest.mark.parametrize("length", [-1, 4])
def test_padded_list_length_built_under_jit_is_checked_when_folded(length):
    total = cdl.cata(cdl.ListAlgebra(jnp.float32(0.0), cdl.Add()))
    fold = eqx.filter_jit(lambda n: total(cdl.PaddedList(jnp.ones(3), n)))
    assert fold(jnp.int32(2)) == 2.0
    with pytest.raises(eqx.EquinoxRuntimeError, match="length is outside 0..3"):
        fold(jnp.int32(length))


@pytest.mark.parametrize("length", [2.0, jnp.float32(2.0)])
def test_padded_list_length_must_be_an_integer(length):
    with pytest.raises(TypeError, match="integer count, not of dtype float32"):
        cdl.PaddedList(jnp.ones(3), length)


def test_batch_lists_rejects_no_lists_and_elements_of_different_shapes():
    for pad in (False, True):
        with pytest.raises(ValueError, match="at least one list"):
            cdl.batch_lists([], pad=pad)
        with pytest.raises(ValueError, match="list 1 has elements of shape \\(4,\\)"):
            cdl.batch_lists([np.ones((2, 3)), np.ones((2, 4))], pad=pad)


def test_para_reads_a_guarded_suffix_of_an_empty_list():
    def cell(p):
        x, (rest, acc) = p
        return x + jnp.where(rest.length > 0, rest[0], 0.0) + acc

    f = cdl.para(jnp.float32(0.0), cell)
    assert f(jnp.array([1.0, 2.0])) == 5.0  # 2 + 0 + 0, then 1 + 2 + 2
    assert f(jnp.zeros((0,))) == 0.0


@pytest.mark.parametrize("count", [-2, 5])
def test_futu_refuses_a_count_outside_its_block(count):
    unfold = cdl.futu(
        lambda i: (jnp.int32(count), jnp.full(3, i), i + 1),
        lambda i: i >= 2,
        max_size=10,
    )
    with pytest.raises(eqx.EquinoxRuntimeError, match="between 0 and its block's 3"):
        unfold(jnp.int32(0))


# upwards on lists: the fold of every suffix (scanr).

_suffix_alg = cdl.ListAlgebra(0.0, lambda p: jnp.tanh(p[0] - 2.0 * p[1]))
_every_suffix = jax.jit(jax.vmap(cdl.upwards(_suffix_alg)))


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(-2, 2, width=32), min_size=0, max_size=6),
        min_size=3, max_size=3,
    )
)  # fmt: skip
def test_upwards_of_a_list_is_the_fold_of_every_suffix(lists):
    def fold(xs):  # plain recursion: cons(x0, cons(x1, ... nil))
        return 0.0 if not xs else np.tanh(xs[0] - 2.0 * fold(xs[1:]))

    width = 6  # one shape for every example: one compile
    values = np.zeros((len(lists), width), np.float32)
    for row, xs in zip(values, lists, strict=True):
        row[: len(xs)] = xs
    lengths = np.array([len(xs) for xs in lists], np.int32)
    out = np.asarray(_every_suffix(cdl.PaddedList(values, lengths)))
    for row, xs in zip(out, lists, strict=True):
        want = [fold(xs[i:]) for i in range(len(xs))] + [0.0] * (width - len(xs))
        np.testing.assert_allclose(row, want, rtol=1e-5, atol=1e-6)


def test_upwards_needs_an_algebra():
    with pytest.raises(TypeError, match="upwards needs a cdl.Algebra .* not float"):
        cdl.upwards(1.0)


def test_an_annotated_function_cell_is_checked_as_a_learned_cell_is():
    def step(p: tuple[Float[Array, "3"], Float[Array, "4"]]) -> Float[Array, "4"]:
        return jnp.tanh(p[1] + p[0].sum())  # would broadcast a carrier of 5

    xs = jnp.ones((2, 3))
    assert cdl.cata(cdl.ListAlgebra(jnp.zeros(4), step))(xs).shape == (4,)
    with pytest.raises(TypeError, match=r"nil lives in f32\[5\].*carrier float\[4\]"):
        cdl.ListAlgebra(jnp.zeros(5), step)
    with pytest.raises(
        cdl.SpaceError, match=r"cata\(step\) expects input float\[n,3\], but"
    ):
        cdl.cata(cdl.ListAlgebra(jnp.zeros(4), step))(jnp.ones((2, 6)))
    # an unannotated function stays open: its carrier is found by tracing
    assert cdl.cata(cdl.ListAlgebra(jnp.zeros(5), lambda p: p[1] + 1))(xs).shape == (5,)


def test_a_python_list_of_elements_is_folded_as_their_stack():
    total = cdl.cata(cdl.ListAlgebra(jnp.zeros(2), lambda p: p[0] + 2 * p[1]))
    items = [jnp.array([1.0, 2.0]), np.array([3.0, 4.0]), jnp.array([0.5, 0.0])]
    np.testing.assert_allclose(total(items), total(jnp.stack(items)))
    with pytest.raises(ValueError, match=r"element 1 of the Python list is f32\[2,4\]"):
        total([jnp.zeros((3, 4)), jnp.zeros((2, 4))])
    with pytest.raises(ValueError, match="an empty Python list has no element shape"):
        total([])


def test_a_batch_of_lists_given_to_one_fold_points_to_vmap():
    fold = cdl.cata(cdl.ListAlgebra(0.0, lambda p: p[0] + p[1]))
    batch = cdl.batch_lists([[1.0, 2.0], [3.0]], pad=True)
    with pytest.raises(TypeError, match=r"batch shape \(2,\).*jax.vmap\(fold\)"):
        fold(batch)
    assert jax.vmap(fold)(batch).tolist() == [3.0, 3.0]


def test_a_history_fixed_to_int_by_its_nil_is_named_as_other_folds_are():
    xs = jnp.array([0.5, 1.5, 2.5])
    with pytest.raises(cdl.SpaceError, match=r"must return i32\[\], but returned f32"):
        cdl.histo(jnp.int32(0), lambda p: p[0] + p[1][0], 3)(xs)
    # A Python number takes the cell's dtype, through every entry of the history.
    assert float(cdl.histo(0, lambda p: p[0] + p[1][1], 3)(xs)) == 0.5 + 2.5


def test_list_zygo_with_a_list_algebra_as_main_fold_says_what_it_takes():
    helper = cdl.ListAlgebra(0, lambda p: p[1] + 1)
    with pytest.raises(TypeError, match=r"zygo\(helper, nil, cons\)"):
        cdl.zygo(helper, cdl.ListAlgebra(0.0, lambda p: p[0] + p[1]))


def test_a_stochastic_cell_gets_a_key_per_step():
    gru = cdl.GRUCell(3, 4, key=jax.random.key(0))
    cell = gru >> cdl.Dropout(0.5)
    algebra = cdl.ListAlgebra(jnp.zeros(4), cell)
    xs, key = jnp.ones((6, 3)), jax.random.key(1)
    fold, every = cdl.cata(algebra), cdl.upwards(algebra)
    assert fold.stochastic and cdl.foldl(algebra).stochastic
    with pytest.raises(ValueError, match="needs a PRNG key"):
        fold(xs)
    np.testing.assert_array_equal(fold(xs, key=key), fold(xs, key=key))
    assert not np.array_equal(fold(xs, key=key), fold(xs, key=jax.random.key(2)))
    dropped = np.asarray(every(xs, key=key)) == 0
    assert len({tuple(row) for row in dropped}) > 1  # not one mask for every step
    quiet = cdl.inference_mode(fold)
    assert not quiet.stochastic
    plain = cdl.cata(cdl.ListAlgebra(jnp.zeros(4), gru))
    np.testing.assert_allclose(quiet(xs), plain(xs), rtol=1e-6)
