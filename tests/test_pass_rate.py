"""A ranking without a history run: the base model's pass rate over k samples per example
(trainer/pass_rate.py, `select rank --score base-pass-rate`), recorded as a run of kind
`base_pass` whose rollouts the usual views and the ranking read.

    python -m pytest tests/test_pass_rate.py -q
"""

import pytest

from selector.errors import UserError
from selector.pass_rate import PassRateSpec

pytest.importorskip("trl", reason="needs the train extra: pip install -e '.[train]'")

TINY = "max_completion_length=12"


def test_spec_id_is_stable_and_covers_every_setting():
    a = PassRateSpec("toy", None, 32, 0.6, 48)
    assert a.run_id == PassRateSpec("toy", None, 32, 0.6, 48).run_id and a.run_id.startswith("base_pass-toy-k32-s0-")
    for other in (PassRateSpec("toy", None, 16, 0.6, 48), PassRateSpec("toy", None, 32, 1.0, 48),
                  PassRateSpec("toy", "m", 32, 0.6, 48), PassRateSpec("toy", None, 32, 0.6, 48, seed=1)):
        assert other.run_id != a.run_id


def test_base_pass_rate_ranks_from_one_generation_pass(tmp_path, pool12, tiny_model, capsys):
    from selector.cli.rank import RankConfig
    from selector.cli.rank import main as rank
    from selector.store import Store

    store = str(tmp_path / "store")
    cfg = RankConfig(pool=pool12, store=store, model=tiny_model, score="base-pass-rate", pass_samples=4, set=TINY,
                     top=0, json=True)
    rows = rank(cfg)
    s = Store.open(store)
    (run,) = s.runs()
    assert (run["kind"], run["status"]) == ("base_pass", "finished")
    got = s.rows("SELECT example_id, epoch, n, acc FROM epoch_accuracy WHERE run_id = ? ORDER BY example_id", [run["run_id"]])
    assert len(got) == 12 and all(r["epoch"] == 1 and r["n"] == 4 for r in got)
    acc = {r["example_id"]: r["acc"] for r in got}
    assert {r["example_id"]: r["score"] for r in rows} == pytest.approx({k: a * (1 - a) for k, a in acc.items()})
    assert all(r["ci_low"] is None for r in rows)  # one epoch: no bootstrap over epochs
    assert rows[0]["planted"] is not None  # the toy pool's planted column is shown
    # the same command again reuses the run; --compare ranks by the scores of the same source only
    rank(cfg)
    assert len(s.runs()) == 1
    both = rank(RankConfig(run=run["run_id"], store=store, compare=True, score="base-pass-rate", json=True))
    assert "rank_variance" not in both[0] and both[0]["score"] == rows[0]["score"]
    # a base pass-rate run is not a history, and a history score cannot rank it
    with pytest.raises(UserError, match="is a base_pass run"):
        rank(RankConfig(run=run["run_id"], store=store, score="variance"))
