"""Rankings in the store (selector/ranking.py): what is recorded, once; what a pi name resolves to
through the pool's latest ranking; a comma list of names as example ids.

    python -m pytest tests/test_ranking_store.py -q
"""

import hashlib

import pytest

from selector.errors import UserError
from selector.pools import Example, Pool
from selector.ranking import ranking_id, record_ranking, resolve_examples, resolve_name
from selector.score import Ranked
from selector.store import Store, code_version

RANKED = [Ranked(1, "c", 0.5, 1, 2), Ranked(2, "a", 0.25, 1, 3), Ranked(3, "b", float("nan"), 3, 3)]


@pytest.fixture
def store(tmp_path):
    return Store.open(tmp_path / "s", create=True)


def test_ranking_id_is_a_digest_of_run_score_bootstrap_and_code():
    key = f"run|lim|20|3|{code_version()}"
    assert ranking_id("run", "lim", 20, 3) == "rank-lim-" + hashlib.sha256(key.encode()).hexdigest()[:12]
    ids = {ranking_id(*args) for args in (("run", "lim", 20, 3), ("run2", "lim", 20, 3), ("run", "variance", 20, 3),
                                          ("run", "lim", 21, 3), ("run", "lim", 20, 4))}
    assert len(ids) == 5


def test_a_ranking_is_recorded_row_by_row_and_only_once(store):
    rid = record_ranking(store, "run", "pool", "variance", RANKED, 20, 3)
    assert rid == ranking_id("run", "variance", 20, 3)
    rows = store.ranking(rid)
    got = [(r["rank"], r["example_id"], r["ci_low"], r["ci_high"], r["run_id"], r["pool"], r["score"], r["n_bootstrap"],
            r["seed"], r["code_version"]) for r in rows]
    assert got == [(k.rank, k.example_id, k.ci_low, k.ci_high, "run", "pool", "variance", 20, 3, code_version()) for k in RANKED]
    assert [r["value"] for r in rows][:2] == [0.5, 0.25] and rows[2]["value"] != rows[2]["value"]  # NaN kept
    assert record_ranking(store, "run", "pool", "variance", RANKED[:1], 20, 3) == rid  # already there: nothing new
    assert store.rows("SELECT count(*) AS n FROM rankings")[0]["n"] == 3


def _pool():
    return Pool("pool", "test", [Example(x, ({"role": "user", "content": x},), "1") for x in ("a", "b", "c", "d")], {})


def test_pi_names_resolve_through_the_pools_latest_ranking_of_that_score(store):
    assert resolve_name(None, "pool", "variance", " b ") == ("b", None)  # an id stands for itself, store or not
    from selector.pools import rank_hint

    with pytest.raises(UserError) as e:
        resolve_name(store, "pool", "variance", "pi1")
    assert str(e.value) == f"no variance ranking of pool 'pool' in the store yet, so pi1 means nothing; run {rank_hint('pool')} first"
    record_ranking(store, "run", "pool", "variance", RANKED, 0, 0)
    example, ranking = resolve_name(store, "pool", "variance", "pi2")
    assert example == "a" and [r["example_id"] for r in ranking] == ["c", "a", "b"]
    assert resolve_name(store, "pool", "variance", "d")[0] == "d"
    with pytest.raises(UserError, match=r"pi4: the variance ranking of 'pool' has pi1\.\.pi3"):
        resolve_name(store, "pool", "variance", "pi4")
    with pytest.raises(UserError, match="no lim ranking"):
        resolve_name(store, "pool", "lim", "pi1")
    with pytest.raises(UserError, match="unknown score 'nope'"):
        resolve_name(store, "pool", "nope", "a")


def test_a_comma_list_of_names_becomes_example_ids_each_once(store):
    record_ranking(store, "run", "pool", "variance", RANKED, 0, 0)
    assert resolve_examples(store, _pool(), "pi1, d,,pi3", "variance") == ["c", "d", "b"]
    for names, message in (("pi1,c", "--examples names an example twice (pi1,c)"),
                           (" , ", "--examples is empty; give pi names (pi1,pi13) or example ids"),
                           ("zz", "example id 'zz' is not in pool 'pool' (4 examples)")):
        with pytest.raises(UserError) as e:
            resolve_examples(store, _pool(), names, "variance")
        assert str(e.value) == message
