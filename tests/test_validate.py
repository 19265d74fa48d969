"""`select validate` (selector/validate.py): the stratified sample, Spearman's rho and its
bootstrap interval, the plan as a sweep, and the whole experiment end to end on a tiny sample.

    python -m pytest tests/test_validate.py -q

Planning and the statistics need no torch; the end-to-end test (slow) trains the tiny model on
the real TRL path: a history run over 12 toy problems, its ranking, then 1-shot runs on 4 sampled
examples, their evaluations, the correlations, and the report's validation section.
"""

import json
import math

import numpy as np
import pytest
from cli_harness import rank_made_up_history

from selector.errors import UserError
from selector.validate import ValidateOptions, rankdata, spearman, spearman_interval, strata

# A ranking of 12 examples e1..e12 (e1 = pi1); e3 and e11 are planted (kinds wrong-gold, unreachable).
RANKING = [{"rank": k, "example_id": f"e{k}"} for k in range(1, 13)]
PLANTED = {"e3": "wrong-gold", "e11": "unreachable"}

STRATA = [
    # (options, expected (label, stratum) list, why)
    (dict(top=2, spread=0, bottom=1, planted=0), [("pi1", "top"), ("pi2", "top"), ("pi12", "bottom")],
     "top skips nothing before a planted one; bottom leaves the planted pi11 out"),
    (dict(top=3, spread=0, bottom=0, planted=0), [("pi1", "top"), ("pi2", "top"), ("pi4", "top")],
     "the planted pi3 is not a top example"),
    (dict(top=1, spread=3, bottom=1, planted=0),
     [("pi1", "top"), ("pi5", "middle"), ("pi7", "middle"), ("pi9", "middle"), ("pi12", "bottom")],
     "evenly spaced among the 8 plain examples between the strata (positions 2, 4, 6 of 8)"),
    (dict(top=0, spread=0, bottom=0, planted=3), [("pi3", "planted"), ("pi11", "planted")],
     "each kind in turn, best-ranked first; only 2 exist"),
    (dict(top=1, spread=0, bottom=0, planted=1), [("pi1", "top"), ("pi3", "planted")],
     "kinds in the order their best example ranks: wrong-gold (pi3) first"),
]


@pytest.mark.parametrize("opts,expected,why", STRATA, ids=[f"case{i}" for i in range(len(STRATA))])
def test_strata(opts, expected, why):
    items = strata(RANKING, PLANTED, ValidateOptions(**opts))
    assert [(it.label, it.grp) for it in items] == expected, why
    assert all(it.examples == [f"e{it.label[2:]}"] for it in items)


@pytest.mark.parametrize("opts,message", [
    (dict(top=6, spread=4, bottom=2), "more than the 10 ranked examples"),
    (dict(top=0, spread=0, bottom=0, planted=0), "samples no example"),
    (dict(top=-1), "--top must be >= 0"),
])
def test_strata_rejects_impossible_samples(opts, message):
    with pytest.raises(UserError, match=message):
        strata(RANKING, PLANTED, ValidateOptions(**opts))


SPEARMAN = [
    # (x, y, expected rho, why)
    ([1, 2, 3, 4], [10, 20, 30, 40], 1.0, "monotone"),
    ([1, 2, 3, 4], [4, 3, 2, 1], -1.0, "reversed"),
    ([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], 0.8, "1 - 6*4/(5*24)"),
    ([0, 0, 1, 2], [1, 2, 3, 4], math.sqrt(0.9), "ties take their average rank: 4.5 / sqrt(4.5 * 5)"),
    ([1, 1, 1, 1], [1, 2, 3, 4], float("nan"), "a constant score says nothing"),
    ([1, 2], [1, 2], float("nan"), "fewer than 3 examples"),
]


@pytest.mark.parametrize("x,y,expected,why", SPEARMAN, ids=[s[3][:20] for s in SPEARMAN])
def test_spearman(x, y, expected, why):
    got = spearman(x, y)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected), (x, y, got, why)


def test_rankdata_averages_ties():
    assert rankdata([3, 1, 3, 2]).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_spearman_interval_is_seeded_and_brackets_a_strong_relation():
    rng = np.random.default_rng(1)
    x = np.arange(30)
    y = x + rng.normal(0, 5, 30)
    lo, hi = spearman_interval(x, y, 500, seed=3)
    assert (lo, hi) == spearman_interval(x, y, 500, seed=3)
    assert 0.5 < lo < spearman(x, y) < hi <= 1.0
    noise_lo, noise_hi = spearman_interval(x, rng.normal(0, 1, 30), 500)
    assert noise_lo < 0 < noise_hi


@pytest.fixture
def ranked12(tmp_path, pool12):
    """A store holding a variance ranking of the 12-example toy pool (one is planted: toy-0007)."""
    root, _ = rank_made_up_history(tmp_path, pool12, epochs=6, bootstrap=0)
    return pool12, str(root)


def test_plan_is_a_stored_sweep_and_prints_train_commands(ranked12, capsys):
    from selector.cli.validate import ValidateConfig, main
    from selector.store import Store

    pool, store = ranked12
    cfg = ValidateConfig(pool=pool, store=store, preset="toy", top=2, spread=2, bottom=1, planted=1, seeds="1,2",
                         launcher="print")
    got = main(cfg)
    plan = Store.open(store).sweep_plan(got["validation"])
    # variance grows with the example's position, so pi1 = toy-0012 ... pi12 = toy-0001; toy-0007 (pi6) is planted
    assert [(p["label"], p["grp"], p["seed"]) for p in plan[:6]] == [
        ("pi1", "top", 1), ("pi2", "top", 1), ("pi7", "middle", 1), ("pi9", "middle", 1), ("pi12", "bottom", 1),
        ("pi6", "planted", 1)]
    assert json.loads(plan[5]["examples"]) == ["toy-0007"]  # the pool's planted example (unreachable)
    assert len(plan) == 12 and [p["seed"] for p in plan] == [1] * 6 + [2] * 6
    commands = capsys.readouterr().out.strip().splitlines()
    assert len(commands) == 12 and all(c.startswith("selector train ") and c.endswith("--resume") for c in commands)
    # the same command again finds the stored plan; nothing finished yet, so no correlations
    again = main(cfg)
    assert again["validation"] == got["validation"] and "correlations" not in again


def test_validate_needs_a_ranking(tmp_path, pool12):
    from selector.cli.validate import ValidateConfig, main

    with pytest.raises(UserError, match="rank the pool first"):
        main(ValidateConfig(pool=pool12, store=str(tmp_path / "none")))


TINY = "prompts_per_step=4,num_generations=4,max_completion_length=12"


@pytest.mark.slow
def test_validate_end_to_end_on_a_tiny_sample(tmp_path, pool12, tiny_model, capsys):
    """History run, ranking, base pass rate, 1-shot runs on 4 sampled examples, correlations,
    stored and drawn: the whole experiment on the real TRL path in seconds."""
    pytest.importorskip("trl", reason="needs the train extra: pip install -e '.[train]'")
    from analysis.report import build
    from selector.cli.rank import RankConfig
    from selector.cli.rank import main as rank
    from selector.cli.validate import ValidateConfig, main
    from selector.score import SCORES
    from selector.store import Store

    store = str(tmp_path / "store")
    common = dict(pool=pool12, store=store, preset="toy", model=tiny_model, set=TINY)
    rank(RankConfig(**common, max_steps=6, eval_steps=0, bootstrap=0, json=True))
    rank(RankConfig(**common, score="base-pass-rate", pass_samples=4, json=True))
    got = main(ValidateConfig(**common, top=2, spread=0, bottom=1, planted=1, seeds="1", max_steps=2, eval_steps=2,
                              eval_limit=3, n_bootstrap=50, json=True))
    s = Store.open(store)
    assert all(p["status"] == "finished" for p in got["plan"]) and len(got["plan"]) == 4
    assert [e["stratum"] for e in got["examples"]] == ["top", "top", "bottom", "planted"]
    assert all(e["seeds"] == 1 and e["gain"] is not None for e in got["examples"])
    rows = s.rows("SELECT * FROM validation_latest WHERE validation = ? ORDER BY score", [got["validation"]])
    assert sorted((r["score"], r["gain"]) for r in rows) == sorted((n, g) for n in SCORES for g in ("final", "best"))
    base = next(r for r in rows if r["score"] == "base-pass-rate")
    assert base["run_id"].startswith("base_pass-") and base["examples"] == 4
    # gains in the view are final accuracy minus the sweep's base, per run
    g = s.rows("SELECT final, best, base, gain, gain_best FROM validation_gain WHERE sweep = ?", [got["validation"]])
    assert all(r["gain"] == pytest.approx(r["final"] - r["base"]) and r["gain_best"] == pytest.approx(r["best"] - r["base"])
               for r in g)
    printed = capsys.readouterr().out
    corr = json.loads(printed[printed.rindex("\n[\n") + 1:])  # --json: the correlations, printed last
    assert [(c["score"], c["gain"]) for c in corr] == [(n, g) for n in SCORES for g in ("final", "best")]
    sections = {sec.key: sec for sec in build(s, tmp_path / "report")}
    assert sections["validation"].image and (tmp_path / "report" / sections["validation"].image).exists()
    assert sections["history_stats"].table
