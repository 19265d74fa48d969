"""The store's newer derived numbers (selector/store/views.sql) on a few hand-written facts, each
expected value computed here in plain Python from the same facts: the share of formatted answers
and the accuracy among them (eval_format, run_format_summary, sweep_base_formatted), post-saturation
generalization (run_post_saturation), a sweep's items beyond final accuracy (sweep_detail), the
1-shot gains (validation_gain), the latest validation (validation_latest), the paper grading mode's
ungraded samples, and a store whose older parts lack a column.

    python -m pytest tests/test_view_details.py -q

One store is built once for the module (a few hundred rows); every test only reads it.
"""

import json
import statistics
from datetime import datetime, timedelta

import pytest

from selector.store import Store

T0 = datetime(2025, 1, 1, 12, 0, 0)
BENCHMARKS = ("b1", "b2")

# Each evaluated (run, step, benchmark): one problem, four samples, one letter each:
# C = correct and formatted, c = correct, not formatted, W = wrong and formatted, w = wrong, not formatted.
EVALS = {
    # saturates at step 2 (rollouts below); test accuracy 0.25, 0.375, 0.625, 0.875, 1.0
    "pi1-s1": {0: ("CWWw", "cWWW"), 1: ("CCWW", "CWWW"), 2: ("CCCw", "CCWw"), 3: ("CCCC", "CCCw"), 4: ("CCCC", "CCCc")},
    # saturates at step 1, first evaluated after it at step 2; ends below that
    "pi1-s2": {0: ("CCWW", "CWWW"), 2: ("CCCW", "CCWW"), 4: ("CCWw", "CWww")},
    # never saturates
    "pi1-s3": {0: ("CWWW", "CCWW"), 2: ("CCCC", "CCCW")},
    # evaluated at steps 0 and 1 only; no rollouts
    "pi2-s1": {0: ("WWWW", "CWWW"), 1: ("CCWw", "CWWW")},
    # nothing formatted before training
    "few-s1": {0: ("cwww", "wwww"), 3: ("CCCW", "CCWW")},
    # an evaluation of the base model only, in no sweep
    "base-only": {0: ("CCWw", "CWWW")},
}
# Training accuracy per step (8 rollouts each): the 5-step mean first reaches 0.9 at step 2, 1, never, 1.
ROLLOUTS = {"pi1-s1": [7, 8, 8, 8], "pi1-s2": [8, 8, 8, 8], "pi1-s3": [4, 4], "few-s1": [8]}
SATURATION = {"pi1-s1": 2, "pi1-s2": 1, "pi1-s3": None, "few-s1": 1}
# The sweep: (label, group, seed, examples, run_id or None for a planned run that never started).
SWEEP = [("pi1", "1-shot", 1, ["e1"], "pi1-s1"), ("pi1", "1-shot", 2, ["e1"], "pi1-s2"), ("pi1", "1-shot", 3, ["e1"], "pi1-s3"),
         ("pi2", "1-shot", 1, ["e2"], "pi2-s1"), ("{pi1,pi2}", "few-shot", 1, ["e1", "e2"], "few-s1"),
         ("pi3", "1-shot", 1, ["e3"], None)]
# validations: (validation, created_at offset in seconds, score)
VALIDATIONS = [("v1", 0, "variance"), ("v1", 0, "lim"), ("v1", 60, "variance"), ("v1", 60, "lim"),
               ("v2", 30, "variance"), ("v2", 30, "lim"), ("v2", 10, "variance")]


def _run_id(label, seed):
    return {(lb, s): r for lb, _, s, _, r in SWEEP}.get((label, seed)) or f"{label}-s{seed}"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("details") / "s"
    store = Store.open(root, create=True)
    with store.writer("facts") as w:
        rows = []
        for run_id, by_step in EVALS.items():
            for step, codes in by_step.items():
                for bench, code in zip(BENCHMARKS, codes):
                    for k, ch in enumerate(code):
                        # base-only's b1 problem was graded by two grader versions (g1 the older)
                        grader = "g1" if (run_id, bench, k) == ("base-only", "b1", 1) else "g2"
                        rows.append({"run_id": run_id, "attempt": 0, "step": step, "benchmark": bench, "problem_id": f"{bench}-p",
                                     "sample_index": k, "completion": "", "extracted": "", "correct": ch in "Cc",
                                     "formatted": ch in "CW", "completion_tokens": 1, "grader_version": grader,
                                     # the paper's rules grade b1 only (as the toy benchmark has none)
                                     "correct_paper": ch in "Cc" if bench == "b1" else None, "extracted_paper": None})
        w.append("eval_samples", rows)
        w.append("rollouts", [{"run_id": run_id, "attempt": 0, "step": step, "epoch": 1, "example_id": "e", "batch_index": 0,
                               "sample_index": k, "completion": "", "correct": k < n, "completion_tokens": 1}
                              for run_id, per_step in ROLLOUTS.items() for step, n in enumerate(per_step, 1) for k in range(8)])
        w.append("sweeps", [{"sweep": "sv", "position": i, "run_id": _run_id(label, seed), "label": label, "grp": grp, "seed": seed,
                             "examples": json.dumps(examples), "config": "{}", "command": "", "options": "{}", "created_at": T0,
                             "dry_run": False} for i, (label, grp, seed, examples, _) in enumerate(SWEEP)])
        w.append("validations", [{"validation": v, "score": score, "gain": "final", "run_id": "sv", "examples": 3,
                                   "runs_finished": 3, "spearman": 0.5, "ci_low": 0.0, "ci_high": 1.0, "n_bootstrap": 10,
                                   "seed": 0, "created_at": T0 + timedelta(seconds=t), "code_version": "0"}
                                  for v, t, score in VALIDATIONS])
    return Store.open(root)


# --------------------------------------------------------------------------- expected values, by hand


def _mean(values):
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def _sd(values):
    values = [v for v in values if v is not None]
    return statistics.stdev(values) if len(values) > 1 else None


def _acc(code):
    return sum(ch in "Cc" for ch in code) / len(code)


def _formatted_rate(code):
    return sum(ch in "CW" for ch in code) / len(code)


def _accuracy_formatted(code):
    formatted = [ch for ch in code if ch in "CW"]
    return formatted.count("C") / len(formatted) if formatted else None


def _accuracy(run_id, step):
    """eval_average: the mean over benchmarks of the (one) problem's share correct."""
    return _mean(_acc(c) for c in EVALS[run_id][step])


def _format_summary(run_id):
    """(base_formatted, final_formatted, base_formatted_rate, final_formatted_rate) of one run."""
    by_step = EVALS.get(run_id)
    if by_step is None:
        return (None,) * 4
    af = {s: _mean(_accuracy_formatted(c) for c in codes) for s, codes in by_step.items()}
    fr = {s: _mean(_formatted_rate(c) for c in codes) for s, codes in by_step.items()}
    last = max((s for s in by_step if s > 0), default=None)
    return (af.get(0), af[last] if last is not None else None, fr.get(0), fr[last] if last is not None else None)


def _post_saturation(run_id):
    """(saturation_step, at_step, at_saturation, final, after_saturation), or None if it never saturated."""
    sat = SATURATION.get(run_id)
    if sat is None:
        return None
    steps = sorted(EVALS[run_id])
    at = min(s for s in steps if s >= sat)
    final = _accuracy(run_id, steps[-1])
    return sat, at, _accuracy(run_id, at), final, final - _accuracy(run_id, at)


def _summary(run_id):
    """(base, final, best) of one run."""
    by_step = EVALS.get(run_id)
    if by_step is None:
        return None, None, None
    trained = sorted(s for s in by_step if s > 0)
    return _accuracy(run_id, 0), _accuracy(run_id, trained[-1]), max(_accuracy(run_id, s) for s in trained)


def _approx(x):
    return None if x is None else pytest.approx(x, abs=1e-12)


def _sweep_runs():
    return [r for *_, r in SWEEP if r is not None]


# --------------------------------------------------------------------------- the views


def test_the_facts_are_as_designed():
    # The cases the views must tell apart: distinct accuracies where the choice of step matters.
    accs = [_accuracy("pi1-s1", s) for s in range(5)]
    assert accs == [0.25, 0.375, 0.625, 0.875, 1.0]
    assert _post_saturation("pi1-s1") == (2, 2, 0.625, 1.0, 0.375)
    assert _post_saturation("pi1-s2") == (1, 2, 0.625, 0.375, -0.25)
    assert _format_summary("few-s1")[0] is None and _format_summary("base-only")[1] is None


def test_eval_format_is_the_share_formatted_and_the_accuracy_among_them(store):
    got = {(r["run_id"], r["step"], r["benchmark"]): r for r in store.rows("SELECT * FROM eval_format")}
    want = {(run_id, s, b): code for run_id, by in EVALS.items() for s, codes in by.items() for b, code in zip(BENCHMARKS, codes)}
    assert set(got) == set(want)
    for key, code in want.items():
        row = got[key]
        assert (row["samples"], row["formatted_rate"], row["accuracy_formatted"]) == (
            4, _approx(_formatted_rate(code)), _approx(_accuracy_formatted(code))), (key, code, row)


def test_run_format_summary_before_training_and_at_the_last_step(store):
    got = {r["run_id"]: r for r in store.rows("SELECT * FROM run_format_summary")}
    assert set(got) == set(EVALS)
    for run_id, row in got.items():
        want = _format_summary(run_id)
        actual = (row["base_formatted"], row["final_formatted"], row["base_formatted_rate"], row["final_formatted_rate"])
        assert actual == tuple(_approx(x) for x in want), (run_id, want, actual)
    # The designed cases: the last step is not the best, step 1 is a trained step, step 0 is no final.
    assert got["pi1-s1"]["base_formatted"] == pytest.approx(1 / 6) and got["pi1-s1"]["final_formatted_rate"] == 0.875
    assert got["pi2-s1"]["final_formatted"] == pytest.approx(11 / 24)
    assert (got["base-only"]["final_formatted"], got["base-only"]["final_formatted_rate"]) == (None, None)


def test_post_saturation_reads_the_first_evaluation_at_or_after_saturation(store):
    got = {r["run_id"]: r for r in store.rows("SELECT * FROM run_post_saturation")}
    want = {r: _post_saturation(r) for r in EVALS if _post_saturation(r) is not None}
    assert set(got) == set(want) == {"pi1-s1", "pi1-s2", "few-s1"}
    for run_id, row in got.items():
        sat, at, at_acc, final, after = want[run_id]
        actual = (row["saturation_step"], row["at_step"], row["at_saturation"], row["final"], row["after_saturation"])
        assert actual == (sat, at, _approx(at_acc), _approx(final), _approx(after)), (run_id, want[run_id], actual)


def test_sweep_detail_means_and_sample_deviations_over_seeds(store):
    got = {r["label"]: r for r in store.rows("SELECT * FROM sweep_detail WHERE sweep = 'sv'")}
    assert set(got) == {label for label, *_ in SWEEP}
    for label, row in got.items():
        runs = [r for lb, _, _, _, r in SWEEP if lb == label and r is not None]
        finals = [_format_summary(r)[1] for r in runs]
        rates = [_format_summary(r)[3] for r in runs]
        post = [_post_saturation(r) for r in runs if _post_saturation(r) is not None]
        want = {"grp": next(g for lb, g, *_ in SWEEP if lb == label),
                "final_formatted": _approx(_mean(finals)), "final_formatted_sd": _approx(_sd(finals)),
                "final_formatted_rate": _approx(_mean(rates)), "saturated": len(post),
                "saturation_step": _approx(_mean(p[0] for p in post)), "after_saturation": _approx(_mean(p[4] for p in post)),
                "after_saturation_sd": _approx(_sd([p[4] for p in post]))}
        actual = {k: row[k] for k in want}
        assert actual == want, (label, want, actual)
    assert (got["pi1"]["saturated"], got["pi1"]["saturation_step"], got["pi1"]["after_saturation"]) == (2, 1.5, 0.0625)


def test_sweep_base_formatted_averages_the_runs_with_a_formatted_base(store):
    (row,) = store.rows("SELECT * FROM sweep_base_formatted")
    # few-s1 formatted nothing at step 0: left out of both means (its rate, 0, too)
    with_base = [r for r in _sweep_runs() if _format_summary(r)[0] is not None]
    assert with_base == ["pi1-s1", "pi1-s2", "pi1-s3", "pi2-s1"]
    assert (row["sweep"], row["base_formatted"], row["base_formatted_rate"]) == (
        "sv", _approx(_mean(_format_summary(r)[0] for r in with_base)), _approx(_mean(_format_summary(r)[2] for r in with_base)))
    assert row["base_formatted_rate"] == 0.9375


def test_validation_gain_of_each_1_shot_run_against_the_sweeps_base(store):
    got = store.rows("SELECT * FROM validation_gain ORDER BY position")
    one_shot = [(label, seed, examples, r) for label, _, seed, examples, r in SWEEP if len(examples) == 1]
    assert [(r["label"], r["seed"]) for r in got] == [(label, seed) for label, seed, _, _ in one_shot]
    base = _mean(_summary(r)[0] for r in _sweep_runs())
    base_formatted = _mean(_format_summary(r)[0] for r in _sweep_runs())
    for (label, seed, examples, run_id), row in zip(one_shot, got):
        _, final, best = _summary(run_id)
        final_formatted = _format_summary(run_id)[1]
        want = {"run_id": _run_id(label, seed), "example_id": examples[0], "final": _approx(final), "best": _approx(best),
                "base": _approx(base), "gain": _approx(None if final is None else final - base),
                "gain_best": _approx(None if best is None else best - base), "final_formatted": _approx(final_formatted),
                "base_formatted": _approx(base_formatted),
                "gain_formatted": _approx(None if final_formatted is None else final_formatted - base_formatted)}
        actual = {k: row[k] for k in want}
        assert actual == want, (label, seed, want, actual)


def test_validation_latest_keeps_each_validations_latest_computation(store):
    got = sorted((r["validation"], r["created_at"], r["score"]) for r in store.rows("SELECT * FROM validation_latest"))
    latest = {v: max(t for w, t, _ in VALIDATIONS if w == v) for v, _, _ in VALIDATIONS}
    want = sorted((v, T0 + timedelta(seconds=t), score) for v, t, score in VALIDATIONS if t == latest[v])
    assert got == want and len(want) == 4


def test_the_oldest_grader_of_a_problems_samples_is_its_grader(store):
    got = store.rows("SELECT benchmark, grader_version FROM eval_problems WHERE run_id = 'base-only' ORDER BY benchmark")
    assert [tuple(r.values()) for r in got] == [("b1", "g1"), ("b2", "g2")]


def test_in_paper_mode_a_benchmark_without_paper_verdicts_has_no_problems(store):
    paper = Store.open(store.root).set_grading_mode("paper")
    got = {(r["run_id"], r["step"], r["benchmark"]): (r["n"], r["c"]) for r in paper.rows("SELECT * FROM eval_problems")}
    want = {(run_id, s, "b1"): (4, sum(ch in "Cc" for ch in codes[0])) for run_id, by in EVALS.items() for s, codes in by.items()}
    assert got == want
    scores = paper.rows("SELECT DISTINCT benchmark FROM eval_scores")
    assert scores == [{"benchmark": "b1"}]


def test_a_store_whose_older_parts_lack_the_newer_columns(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    store = Store.open(tmp_path / "s", create=True)
    new = [{"run_id": "new", "attempt": 0, "step": 0, "benchmark": "b", "problem_id": "p", "sample_index": k, "completion": "",
            "extracted": "", "correct": k < 1, "formatted": True, "completion_tokens": 1, "grader_version": "g",
            "correct_paper": k < 2, "extracted_paper": "x"} for k in range(4)]
    validation = {"validation": "v-new", "score": "variance", "gain": "final", "run_id": "sv", "examples": 3, "runs_finished": 3,
                  "spearman": 0.5, "ci_low": 0.0, "ci_high": 1.0, "n_bootstrap": 10, "seed": 0, "created_at": T0, "code_version": "0"}
    with store.writer("new") as w:
        w.append("eval_samples", new)
        w.append("validations", [validation])
    # A part written before the paper's columns existed (no correct_paper, extracted_paper).
    old = [{k: v for k, v in dict(r, run_id="old", correct=r["sample_index"] < 3).items() if not k.endswith("_paper")} for r in new]
    (tmp_path / "s" / "eval_samples" / "old").mkdir()
    pq.write_table(pa.Table.from_pylist(old), tmp_path / "s" / "eval_samples" / "old" / "20240101T000000000000-1-old.parquet")
    # A validation written before a column was added (here: runs_finished).
    (tmp_path / "s" / "validations" / "old").mkdir()
    pq.write_table(pa.Table.from_pylist([{k: v for k, v in dict(validation, validation="v-old").items() if k != "runs_finished"}]),
                   tmp_path / "s" / "validations" / "old" / "20240101T000000000000-1-old.parquet")
    store = Store.open(tmp_path / "s")
    got = store.rows("SELECT validation, runs_finished, spearman FROM validation_latest ORDER BY validation")
    assert [tuple(r.values()) for r in got] == [("v-new", 3, 0.5), ("v-old", None, 0.5)]
    assert store.rows("SELECT count(*) AS n, count(correct_paper) AS paper FROM eval_samples_all") == [{"n": 8, "paper": 4}]
    got = store.rows("SELECT run_id, accuracy FROM eval_scores ORDER BY run_id")
    assert [tuple(r.values()) for r in got] == [("new", 0.25), ("old", 0.75)]
    paper = store.rows("SELECT run_id, correct_paper, extracted_paper FROM eval_samples WHERE sample_index = 0 ORDER BY run_id")
    assert [tuple(r.values()) for r in paper] == [("new", True, "x"), ("old", None, None)]
