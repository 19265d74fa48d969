"""What `select results` and the report print (selector/results.py), cell by cell, on a small
hand-written sweep: the paper's table with its "formatted (%)" and "after saturation (pts)"
columns and its caption, the --by-run table, and the summary `select train` ends with.

    python -m pytest tests/test_results_table.py -q

Every expected string is derived here in plain Python from the facts below (the training
accuracy of every step, every evaluation sample), never by calling the code under test; the
facts are chosen so that every displayed number is exact (eighths and quarters, no rounding
ties), and a few cells are also written out literally. One store is built for the module.
"""

import json
import statistics
from datetime import datetime, timedelta

import pytest

from selector.store import Store

T0 = datetime(2025, 1, 1, 12, 0, 0)
EVAL_STEPS = (0, 5, 10, 15)

# An evaluation of 8 samples of one problem on benchmark "b": C = correct and formatted (boxed),
# c = correct but not formatted, W = wrong and formatted, w = wrong and not formatted.
# Training: the number correct of 4 rollouts at steps 1, 2, ...
#   run_id: (label, group, seed, status, training, {step: samples})
RUNS = {
    "pi1-s1": ("pi1", "1-shot", 1, "finished", "234444444444444",
               {0: "CCcWWwww", 5: "CCCCcWWw", 10: "CCCCCCWw", 15: "CCCCWWWW"}),
    "pi1-s2": ("pi1", "1-shot", 2, "finished", "123444444444444",
               {0: "CcWWwwww", 5: "CCCWWWww", 10: "CCCCCWWW", 15: "CCCCcWWW"}),
    "pi1-s3": ("pi1", "1-shot", 3, "finished", "444444444444444",
               {0: "CCcwwwww", 5: "CCCCCCCW", 10: "CCCCCWWW", 15: "CCCCCWWW"}),
    "pi2-s1": ("pi2", "1-shot", 1, "finished", "044444444444444",
               {0: "CCWWWWww", 5: "CCCWWWWW", 10: "CCCCWWWW", 15: "CCCCCCWW"}),
    "pi2-s2": ("pi2", "1-shot", 2, "failed", "22222",
               {0: "CcWWWWww", 5: "CCCCWWWw"}),
    "{pi1,pi2}-s1": ("{pi1,pi2}", "few-shot", 1, "finished", "012343210123432",
                     {0: "CCWWWWWw", 5: "CCWWWWWW", 10: "CCCCWWWw", 15: "CCCWWWWc"}),
    "pi9-s1": ("pi9", "bottom", 1, None, "", {}),  # planned, never started
}
ITEMS = [("pi1", "1-shot"), ("pi2", "1-shot"), ("{pi1,pi2}", "few-shot"), ("pi9", "bottom")]
PLAN = [run_id for seed in (1, 2, 3) for label, _ in ITEMS for run_id in RUNS
        if RUNS[run_id][0] == label and RUNS[run_id][2] == seed]  # the sweep's order: by seed, then item


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("results") / "s"
    store = Store.open(root, create=True)
    started = {r: v for r, v in RUNS.items() if v[3]}
    with store.writer("facts") as w:
        w.append("runs", [{"run_id": r, "kind": "one_shot", "pool": "p", "model": "m", "grader_version": "g",
                           "config": json.dumps({"seed": v[2], "examples": [v[0]]}), "code_version": "0",
                           "created_at": T0, "host": "h"} for r, v in started.items()])
        w.append("run_events", [{"run_id": r, "event_time": T0 + timedelta(minutes=m), "status": s, "detail": ""}
                                for r, v in started.items() for m, s in ((0, "running"), (5, v[3]))])
        w.append("rollouts", [{"run_id": r, "attempt": 0, "step": step, "epoch": 1, "example_id": v[0], "batch_index": 0,
                               "sample_index": k, "completion": "", "correct": k < int(c), "completion_tokens": 1}
                              for r, v in started.items() for step, c in enumerate(v[4], 1) for k in range(4)])
        w.append("eval_samples", [{"run_id": r, "attempt": 0, "step": step, "benchmark": "b", "problem_id": "p1",
                                   "sample_index": k, "completion": "", "extracted": "", "correct": ch in "Cc",
                                   "formatted": ch in "CW", "completion_tokens": 1, "grader_version": "g"}
                                  for r, v in started.items() for step, spec in v[5].items() for k, ch in enumerate(spec)])
        w.append("sweeps", [{"sweep": "sx", "position": i, "run_id": r, "label": RUNS[r][0], "grp": RUNS[r][1],
                             "seed": RUNS[r][2], "examples": "[]", "config": "{}", "command": "", "options": "{}",
                             "created_at": T0, "dry_run": False} for i, r in enumerate(PLAN)])
    return Store.open(root)


# --------------------------------------------------------------------------- expected values, by hand


def _acc(spec):
    return sum(ch in "Cc" for ch in spec) / len(spec)


def _acc_formatted(spec):
    formatted = [ch for ch in spec if ch in "CW"]
    return formatted.count("C") / len(formatted)


def _saturation(training):
    """The first step whose training accuracy, averaged with the 4 steps before it, is >= 0.9."""
    accs = [int(c) / 4 for c in training]
    return next((i + 1 for i in range(len(accs)) if statistics.fmean(accs[max(0, i - 4):i + 1]) >= 0.9), None)


def _run(run_id):
    """base, final, final_step, best, best_step, base formatted, final formatted, saturation step,
    after saturation (or None) of one run."""
    _, _, _, _, training, evals = RUNS[run_id]
    trained = [s for s in sorted(evals) if s > 0]
    if not evals:
        return dict.fromkeys(("base", "final", "final_step", "best", "best_step", "base_fmt", "final_fmt", "sat", "after"))
    best = max(_acc(evals[s]) for s in trained)
    sat = _saturation(training)
    after = None
    if sat is not None:
        first = min(s for s in evals if s >= sat)
        after = _acc(evals[trained[-1]]) - _acc(evals[first])
    return {"base": _acc(evals[0]), "final": _acc(evals[trained[-1]]), "final_step": trained[-1], "best": best,
            "best_step": min(s for s in trained if _acc(evals[s]) == best), "base_fmt": _acc_formatted(evals[0]),
            "final_fmt": _acc_formatted(evals[trained[-1]]), "sat": sat, "after": after}


def _item(label):
    return [_run(r) for r in RUNS if RUNS[r][0] == label]


def _pct(x):
    return "" if x is None else f"{100 * x:.1f}"


def _mean_sd(values):
    """"mean ± sample sd" of the values that are there, the mean alone for one, "" for none."""
    values = [v for v in values if v is not None]
    if not values:
        return ""
    return _pct(statistics.fmean(values)) + (f" ± {100 * statistics.stdev(values):.1f}" if len(values) > 1 else "")


def _base():
    return statistics.fmean(r["base"] for r in map(_run, RUNS) if r["base"] is not None)


COLUMNS = ["run", "group", "finished", "final (%)", "best (%)", "vs base", "formatted (%)", "after saturation (pts)"]
CAPTION = ("accuracy = mean over b; final = last evaluated step, best = best evaluated step; mean ± sd over seeds; "
           "formatted = final accuracy among answers in the right format (boxed); after saturation = test accuracy at "
           "the last evaluation minus at the first one after training accuracy saturated (5-step mean >= 90%), mean "
           "over the runs that saturated (k/n)")


def test_the_facts_are_the_designed_ones():
    # The hand computations above, on the cases the facts were written for.
    assert [_saturation(RUNS[r][4]) for r in RUNS] == [6, 7, 1, 6, None, None, None]
    assert [_run(r)["after"] for r in ("pi1-s1", "pi1-s2", "pi1-s3", "pi2-s1")] == [-0.25, 0.0, -0.25, 0.25]
    assert PLAN == ["pi1-s1", "pi2-s1", "{pi1,pi2}-s1", "pi9-s1", "pi1-s2", "pi2-s2", "pi1-s3"]


# --------------------------------------------------------------------------- the sweep table


def test_every_cell_of_the_sweep_table(store):
    from selector.results import sweep_table

    table, cols, caption = sweep_table(store, "sx")
    assert cols == COLUMNS
    assert caption == CAPTION
    base = _base()
    want = [{"run": "base model", "group": "", "finished": "", "final (%)": _pct(base), "best (%)": "", "vs base": "",
             "formatted (%)": _pct(statistics.fmean(r["base_fmt"] for r in map(_run, RUNS) if r["base_fmt"] is not None))}]
    for label, grp in ITEMS:
        runs = [r for r in RUNS if RUNS[r][0] == label]
        got = _item(label)
        finals = [g["final"] for g in got if g["final"] is not None]
        saturated = [g for g in got if g["after"] is not None]
        if saturated:
            afters = [g["after"] for g in saturated]
            after = (f"{100 * statistics.fmean(afters):+.1f}"
                     + (f" ± {100 * statistics.stdev(afters):.1f}" if len(afters) > 1 else "")
                     + f" ({len(saturated)}/{len(runs)}, step {statistics.fmean(g['sat'] for g in saturated):.0f})")
        else:
            after = "never saturated" if finals else ""
        want.append({"run": label, "group": grp, "finished": f"{sum(RUNS[r][3] == 'finished' for r in runs)}/{len(runs)}",
                     "final (%)": _mean_sd(finals), "best (%)": _mean_sd([g["best"] for g in got]),
                     "vs base": f"{100 * (statistics.fmean(finals) - base):+.1f}" if finals else "",
                     "formatted (%)": _mean_sd([g["final_fmt"] for g in got]), "after saturation (pts)": after})
    assert table == want


def test_the_sweep_table_as_written_out(store):
    # The same table, read off the facts by hand once (a check on the derivation above):
    # base = mean of the 6 runs' step 0 = (3 + 2 + 3 + 2 + 2 + 2) / 48; pi1's runs saturate at steps
    # 6, 7 and 1 (mean 4.67), so their first evaluations after it are at steps 10, 10 and 5.
    from selector.results import sweep_table

    table, _, _ = sweep_table(store, "sx")
    assert [list(r.values()) for r in table] == [
        ["base model", "", "", "29.2", "", "", "44.2"],
        ["pi1", "1-shot", "3/3", "58.3 ± 7.2", "75.0 ± 12.5", "+29.2", "56.5 ± 6.3", "-16.7 ± 14.4 (3/3, step 5)"],
        ["pi2", "1-shot", "1/2", "62.5 ± 17.7", "62.5 ± 17.7", "+33.3", "66.1 ± 12.6", "+25.0 (1/2, step 6)"],
        ["{pi1,pi2}", "few-shot", "1/1", "50.0", "50.0", "+20.8", "42.9", "never saturated"],
        ["pi9", "bottom", "0/1", "", "", "", "", ""],
    ]


def test_sweep_rows_carry_formatted_and_saturation_numbers_unformatted(store):
    from selector.results import sweep_rows

    rows = {r["run"]: r for r in sweep_rows(store, "sx")}
    for label, _ in ITEMS:
        got = _item(label)
        fmt = [g["final_fmt"] for g in got if g["final_fmt"] is not None]
        sat = [g for g in got if g["after"] is not None]
        afters = [g["after"] for g in sat]
        want = {"final_formatted": statistics.fmean(fmt) if fmt else None,
                "final_formatted_sd": statistics.stdev(fmt) if len(fmt) > 1 else None,
                "saturated": len(sat), "saturation_step": statistics.fmean(g["sat"] for g in sat) if sat else None,
                "after_saturation": statistics.fmean(afters) if afters else None,
                "after_saturation_sd": statistics.stdev(afters) if len(afters) > 1 else None}
        assert {k: rows[label][k] for k in want} == {k: None if v is None else pytest.approx(v, abs=1e-12)
                                                      for k, v in want.items()}, label


def test_the_by_run_table_shows_each_run_in_plan_order(store):
    from selector.results import sweep_table

    table, cols, caption = sweep_table(store, "sx", by_run=True)
    assert cols == ["run", "group", "seed", "status", "base", "final", "final_step", "best", "best_step", "run_id"]
    want = []
    for run_id in PLAN:
        label, grp, seed, status, _, _ = RUNS[run_id]
        r = _run(run_id)
        want.append({"run": label, "group": grp, "seed": seed, "status": status or "planned", "base": _pct(r["base"]),
                     "final": _pct(r["final"]), "final_step": r["final_step"], "best": _pct(r["best"]),
                     "best_step": r["best_step"], "run_id": run_id})
    assert table == want
    assert table[1] == {"run": "pi2", "group": "1-shot", "seed": 1, "status": "finished", "base": "25.0", "final": "75.0",
                        "final_step": 15, "best": "75.0", "best_step": 15, "run_id": "pi2-s1"}
    assert caption == CAPTION


# --------------------------------------------------------------------------- the after-saturation cell


AFTER = [
    # (a sweep_rows row's fields, the cell)
    ({"saturated": 3, "finished": "3/3", "after_saturation": -0.216, "after_saturation_sd": 0.024, "saturation_step": 45.0,
      "final": 0.5}, "-21.6 ± 2.4 (3/3, step 45)"),
    ({"saturated": 1, "finished": "2/4", "after_saturation": 0.05, "after_saturation_sd": None, "saturation_step": 12.4,
      "final": 0.5}, "+5.0 (1/4, step 12)"),
    ({"saturated": 2, "finished": "1/12", "after_saturation": 0.0, "after_saturation_sd": 0.5, "saturation_step": 7.6,
      "final": 0.25}, "+0.0 ± 50.0 (2/12, step 8)"),
    ({"saturated": 0, "finished": "2/2", "after_saturation": None, "after_saturation_sd": None, "saturation_step": None,
      "final": 0.5}, "never saturated"),
    ({"saturated": 0, "finished": "2/2", "after_saturation": None, "after_saturation_sd": None, "saturation_step": None,
      "final": 0.0}, "never saturated"),  # a final accuracy of 0 is still an evaluation
    ({"saturated": 0, "finished": "0/1", "after_saturation": None, "after_saturation_sd": None, "saturation_step": None,
      "final": None}, ""),  # nothing evaluated
    ({"saturated": None, "finished": "0/1", "final": None}, ""),
]


# Plain ids: mutmut passes the node ids on a command line.
@pytest.mark.parametrize("row,cell", AFTER, ids=["sd", "no-sd", "zero", "never", "never-final-0", "not-evaluated", "no-detail"])
def test_the_after_saturation_cell(row, cell):
    from selector.results import _after

    assert _after(row) == cell


def test_an_item_without_a_base_model_row_or_formatted_answers(tmp_path):
    # No evaluation at step 0 and no formatted answer at all: no base row; the columns stay empty.
    from selector.results import sweep_table

    store = Store.open(tmp_path / "s", create=True)
    with store.writer("x") as w:
        w.append("eval_samples", [{"run_id": "r", "attempt": 0, "step": 5, "benchmark": "b", "problem_id": "p1",
                                   "sample_index": k, "completion": "", "extracted": "", "correct": k < 3, "formatted": False,
                                   "completion_tokens": 1, "grader_version": "g"} for k in range(4)])
        w.append("sweeps", [{"sweep": "s", "position": 0, "run_id": "r", "label": "x", "grp": "g", "seed": 1,
                             "examples": "[]", "config": "{}", "command": "", "options": "{}", "created_at": T0,
                             "dry_run": False}])
    table, _, caption = sweep_table(store, "s")
    assert table == [{"run": "x", "group": "g", "finished": "0/1", "final (%)": "75.0", "best (%)": "75.0", "vs base": "",
                      "formatted (%)": "", "after saturation (pts)": "never saturated"}]
    assert caption == "no evaluations recorded yet"  # no run has a base evaluation


def test_an_item_planned_while_the_table_is_read_shows_without_its_detail(store):
    # sweep_detail is read before sweep_summary: an item that `select sweep` adds in between has a
    # summary row and no detail row yet; it shows with its detail columns empty.
    from selector.results import sweep_table

    class Later:
        def __getattr__(self, name):
            return getattr(store, name)

        def sweep_summary(self, name):
            return store.sweep_summary(name) + [{"label": "pi5", "grp": "1-shot", "runs": 1, "finished": 0, "base": None,
                                                 "final": None, "final_sd": None, "best": None, "best_sd": None,
                                                 "benchmarks": None}]

    table, _, _ = sweep_table(Later(), "sx")
    assert table[-1] == {"run": "pi5", "group": "1-shot", "finished": "0/1", "final (%)": "", "best (%)": "", "vs base": "",
                         "formatted (%)": "", "after saturation (pts)": ""}
    assert table[:-1] == sweep_table(store, "sx")[0]


# --------------------------------------------------------------------------- what `select train` ends with


def test_run_summary_is_the_last_10_steps_and_the_last_evaluated_step(store):
    from selector.results import run_summary

    training = RUNS["{pi1,pi2}-s1"][4]
    last10 = [int(c) / 4 for c in training[-10:]]
    got = run_summary(store, "{pi1,pi2}-s1")
    assert got == {"run_id": "{pi1,pi2}-s1", "kind": "one_shot", "status": "finished", "last_step": len(training),
                   "train_steps": 10, "train_accuracy": pytest.approx(statistics.fmean(last10), abs=1e-12),
                   "evals": [{"benchmark": "b", "step": 15, "accuracy": _acc(RUNS["{pi1,pi2}-s1"][5][15]), "problems": 1,
                              "samples": 8}]}
    assert got["train_accuracy"] == pytest.approx(0.525)  # (3 + 2 + 1 + 0 + 1 + 2 + 3 + 4 + 3 + 2) / 40


def test_run_summary_of_a_short_run_and_of_an_unknown_one(tmp_path):
    from selector.results import run_summary

    store = Store.open(tmp_path / "s", create=True)
    with store.writer("x") as w:
        w.append("rollouts", [{"run_id": "r", "attempt": 0, "step": step, "epoch": 1, "example_id": "e", "batch_index": 0,
                               "sample_index": k, "completion": "", "correct": k < c, "completion_tokens": 1}
                              for step, c in ((1, 1), (2, 3), (3, 2)) for k in range(4)])
        # Two benchmarks, the later one written first; the last evaluated step is 2 (step 1 only on "a").
        w.append("eval_samples", [{"run_id": "r", "attempt": 0, "step": step, "benchmark": b, "problem_id": p,
                                   "sample_index": k, "completion": "", "extracted": "", "correct": k < c, "formatted": True,
                                   "completion_tokens": 1, "grader_version": "g"}
                                  for step, b, p, n, c in ((2, "z", "q1", 2, 1), (2, "z", "q2", 2, 2), (1, "a", "p1", 4, 4),
                                                           (2, "a", "p1", 4, 1), (0, "a", "p1", 4, 0))
                                  for k in range(n)])
    got = run_summary(store, "r")
    assert got == {"run_id": "r", "kind": None, "status": None, "last_step": 3, "train_steps": 3,
                   "train_accuracy": pytest.approx((1 + 3 + 2) / 12),
                   "evals": [{"benchmark": "a", "step": 2, "accuracy": 0.25, "problems": 1, "samples": 4},
                             {"benchmark": "z", "step": 2, "accuracy": 0.75, "problems": 2, "samples": 2}]}
    assert run_summary(store, "nope") == {"run_id": "nope", "kind": None, "status": None, "last_step": None,
                                          "train_steps": 0, "train_accuracy": None, "evals": []}
