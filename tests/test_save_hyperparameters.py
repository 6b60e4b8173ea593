"""cdl.load calls build with the hyperparameters cdl.save was given, types and all."""

import json
from pathlib import Path

import jax
import pytest

import cdl
from cdl.optics._checkpoint import sealed


def build(sizes: tuple[int, ...], table: dict[int, str]) -> cdl.Para:  # type: ignore[type-arg]
    # Builders use tuples as tuples and read tables by their keys: JSON gave
    # back a list for (3, 5) and {"1": "tanh"} for {1: "tanh"} (a KeyError).
    assert isinstance(sizes, tuple), sizes
    assert table[1] == "tanh"
    k1, k2 = jax.random.split(jax.random.key(0))
    return (
        cdl.Linear(*sizes[:2], key=k1) >> cdl.Tanh() >> cdl.Linear(*sizes[1:], key=k2)
    )


def test_tuples_and_keys_that_are_not_strings_come_back_as_given(
    tmp_path: Path,
) -> None:
    given = {
        "sizes": (3, 5, 2),
        "table": {1: "tanh", (0, 1): [None, (1.5,)], "__cdl_tuple__": 2},
    }
    model = build(**given)  # type: ignore[arg-type]
    cdl.save(tmp_path / "m.cdl", model, **given)
    seen: dict[str, object] = {}

    def spy(**hyperparameters: object) -> cdl.Para:  # type: ignore[type-arg]
        seen.update(hyperparameters)
        return build(**hyperparameters)  # type: ignore[arg-type]

    back = cdl.load(tmp_path / "m.cdl", spy)
    assert seen == given
    assert type(seen["sizes"]) is tuple
    assert bool((back.factors[0].weight == model.factors[0].weight).all())  # type: ignore[attr-defined]


def test_a_file_written_with_lists_loads_as_before(tmp_path: Path) -> None:
    model = cdl.Linear(3, 5, key=jax.random.key(0))
    cdl.save(tmp_path / "m.cdl", model, sizes=[3, 5])
    data = (tmp_path / "m.cdl").read_bytes()
    header = json.loads(data.split(b"\n")[2])
    assert header["hyperparameters"] == {"sizes": [3, 5]}
    # And a file whose header a tagless writer made: what JSON holds, as is.
    body = json.dumps({"hyperparameters": {"sizes": [3, 5]}}).encode()
    arrays = data.split(b"\n", 3)[3]
    (tmp_path / "old.cdl").write_bytes(sealed(body + b"\n" + arrays))
    back = cdl.load(
        tmp_path / "old.cdl", lambda sizes: cdl.Linear(*sizes, key=jax.random.key(1))
    )
    assert bool((back.weight == model.weight).all())


def test_a_set_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="lists, tuples and dicts of them"):
        cdl.save(tmp_path / "m.cdl", cdl.Bias(2), names={"a"})
