"""The store's derived numbers (selector/store/views.sql) on hand-written facts, each expected value
computed here in plain Python from the same facts: per-benchmark accuracy and pass@n, the
average over benchmarks, base / final / best and the best step's tie rule (the earliest of equal
accuracies, never step 0), a sweep's mean and sample standard deviation over seeds, the base
model's row, pass@k against the binomial formula, epoch accuracy of imported histories, the
first-seen order, a run's latest status and its config's seed and examples, the latest ranking.

    python -m pytest tests/test_view_numbers.py -q

One store is built once for the module (a few hundred rows); every test only reads it.
"""

import json
import math
import random
import re
import statistics
from datetime import datetime, timedelta

import pytest

from selector.store import Store

T0 = datetime(2025, 1, 1, 12, 0, 0)
STEPS = (0, 10, 20, 30)
BENCHMARKS = ("b1", "b2")


def _problems(rng, step, bench, run_seed):
    """(problem_id, n samples, c correct) of one run at one step on one benchmark."""
    n_problems = {"b1": 3, "b2": 5}[bench]
    return [(f"{bench}-{p}", 4, rng.randint(0, 4)) for p in range(n_problems)]


# The sweep: label -> (group, seeds and the status each run ends with; None = planned, not started).
PLAN = [
    ("pi1", "1-shot", {1: "finished", 2: "finished", 3: "finished"}),
    ("pi2", "1-shot", {1: "finished", 2: "failed"}),
    ("{pi1,pi2}", "few-shot", {1: "finished"}),
    ("pi9", "bottom", {1: None}),
]


def _facts():
    """Every fact written, as plain Python: the expected values are computed from this."""
    rng = random.Random(20)
    runs, samples = {}, []
    for label, grp, seeds in PLAN:
        for seed, status in seeds.items():
            run_id = f"{label}-s{seed}"
            runs[run_id] = dict(label=label, grp=grp, seed=seed, status=status)
            if status is None:
                continue
            steps = STEPS if status == "finished" else STEPS[:2]  # a failed run stopped after step 10
            evals = {s: {b: _problems(rng, s, b, seed) for b in BENCHMARKS} for s in steps}
            if run_id == "pi1-s1":
                # The tie rule: steps 10 and 30 reach the same best accuracy; step 0 is higher still
                # and must not count as a training step's best.
                evals[30] = evals[10]
                evals[20] = {b: [(p, n, 0) for p, n, _ in evals[10][b]] for b in BENCHMARKS}
                evals[10] = {b: [(p, n, max(c, 1)) for p, n, c in evals[10][b]] for b in BENCHMARKS}
                evals[30] = evals[10]
                evals[0] = {b: [(p, n, n) for p, n, _ in evals[0][b]] for b in BENCHMARKS}
            for s, by_bench in evals.items():
                for b, problems in by_bench.items():
                    for p, n, c in problems:
                        samples += [(run_id, s, b, p, k, k < c) for k in range(n)]
            runs[run_id]["evals"] = evals
    return runs, samples


RUNS, SAMPLES = _facts()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("views") / "s"
    store = Store.open(root, create=True)
    with store.writer("facts") as w:
        w.append("runs", [{"run_id": r, "kind": "one_shot", "pool": "p", "model": "m", "grader_version": "g",
                           "config": json.dumps({"seed": v["seed"], "examples": [v["label"], "x"]}),
                           "code_version": "0", "created_at": T0, "host": "h"} for r, v in RUNS.items() if v["status"]])
        events = []
        for r, v in RUNS.items():
            if v["status"]:
                events += [{"run_id": r, "event_time": T0, "status": "running", "detail": "attempt 0"},
                           {"run_id": r, "event_time": T0 + timedelta(minutes=5), "status": v["status"], "detail": ""}]
        w.append("run_events", events)
        w.append("eval_samples", [{"run_id": r, "attempt": 0, "step": s, "benchmark": b, "problem_id": p, "sample_index": k,
                                   "completion": "", "extracted": "", "correct": ok, "formatted": True,
                                   "completion_tokens": 1, "grader_version": "g"} for r, s, b, p, k, ok in SAMPLES])
        position = 0
        rows = []
        for seed in (1, 2, 3):
            for label, grp, seeds in PLAN:
                if seed in seeds:
                    rows.append({"sweep": "sw", "position": position, "run_id": f"{label}-s{seed}", "label": label, "grp": grp,
                                 "seed": seed, "examples": "[]", "config": "{}", "command": "", "options": "{}",
                                 "created_at": T0, "dry_run": False})
                    position += 1
        w.append("sweeps", rows)
    return Store.open(root)


# --------------------------------------------------------------------------- expected values, by hand


def _accuracy(problems):
    return sum(c / n for _, n, c in problems) / len(problems)


def _average(by_bench):
    return sum(_accuracy(p) for p in by_bench.values()) / len(by_bench)


def _summary(run_id):
    """(base, final, final_step, best, best_step) of one run, or Nones."""
    evals = RUNS[run_id].get("evals")
    if not evals:
        return (None,) * 5
    avg = {s: _average(b) for s, b in evals.items()}
    trained = [s for s in sorted(avg) if s > 0]
    best = max(avg[s] for s in trained)
    return avg.get(0), avg[trained[-1]], trained[-1], best, min(s for s in trained if avg[s] == best)


def _approx(x):
    return None if x is None else pytest.approx(x, abs=1e-12)


# --------------------------------------------------------------------------- the views


def test_eval_scores_are_mean_accuracy_and_pass_at_n_over_problems(store):
    got = {(r["run_id"], r["step"], r["benchmark"]): r for r in store.rows("SELECT * FROM eval_scores")}
    want = {(run_id, s, b): p for run_id, v in RUNS.items() for s, by in v.get("evals", {}).items() for b, p in by.items()}
    assert set(got) == set(want)
    for key, problems in want.items():
        row = got[key]
        expected = (len(problems), 4, _accuracy(problems), sum(c > 0 for _, _, c in problems) / len(problems))
        actual = (row["problems"], row["samples"], row["accuracy"], row["pass_at_n"])
        assert actual == (expected[0], expected[1], _approx(expected[2]), _approx(expected[3])), (key, expected, actual)


def test_eval_average_is_the_mean_over_benchmarks(store):
    for r in store.rows("SELECT * FROM eval_average"):
        by_bench = RUNS[r["run_id"]]["evals"][r["step"]]
        want = (2, "b1,b2", _average(by_bench))
        assert (r["n_benchmarks"], r["benchmarks"], r["accuracy"]) == (want[0], want[1], _approx(want[2])), (r, want)


def test_run_summary_base_final_and_best_with_the_earliest_best_step(store):
    got = {r["run_id"]: r for r in store.rows("SELECT * FROM run_eval_summary")}
    assert set(got) == {r for r, v in RUNS.items() if v.get("evals")}
    for run_id, row in got.items():
        want = _summary(run_id)
        actual = (row["base"], row["final"], row["final_step"], row["best"], row["best_step"])
        assert actual == (_approx(want[0]), _approx(want[1]), want[2], _approx(want[3]), want[4]), (run_id, want, actual)
    # The designed tie: steps 10 and 30 equal and best, step 0 above both.
    tied = got["pi1-s1"]
    assert (tied["best_step"], tied["final_step"], tied["final"] == tied["best"], tied["base"]) == (10, 30, True, 1.0)


def test_sweep_summary_is_the_mean_and_sample_deviation_over_seeds(store):
    rows = store.sweep_summary("sw")
    assert [r["label"] for r in rows] == [label for label, _, _ in PLAN]  # in plan order
    for (label, grp, seeds), row in zip(PLAN, rows):
        summaries = [_summary(f"{label}-s{s}") for s in seeds]
        finals = [x[1] for x in summaries if x[1] is not None]
        bests = [x[3] for x in summaries if x[3] is not None]
        bases = [x[0] for x in summaries if x[0] is not None]

        def mean(v):
            return statistics.fmean(v) if v else None

        def sd(v):
            return statistics.stdev(v) if len(v) > 1 else None  # sample (n - 1) deviation

        want = {"grp": grp, "runs": len(seeds), "finished": sum(s == "finished" for s in seeds.values()),
                "base": _approx(mean(bases)), "final": _approx(mean(finals)), "final_sd": _approx(sd(finals)),
                "best": _approx(mean(bests)), "best_sd": _approx(sd(bests)), "benchmarks": "b1,b2" if finals else None}
        actual = {k: row[k] for k in want}
        assert actual == want, (label, want, actual)
    pi1 = rows[0]
    # Three seeds: the sample deviation is sqrt(3/2) times the population one, so the two differ.
    finals = [_summary(f"pi1-s{s}")[1] for s in (1, 2, 3)]
    assert pi1["final_sd"] == pytest.approx(statistics.pstdev(finals) * math.sqrt(3 / 2)) and statistics.pstdev(finals) > 0


def test_sweep_results_list_every_planned_run_with_its_status(store):
    got = [(r["label"], r["seed"], r["status"], r["final_step"]) for r in store.sweep_results("sw")]
    want = []
    for seed in (1, 2, 3):
        for label, _, seeds in PLAN:
            if seed in seeds:
                s = _summary(f"{label}-s{seed}")
                want.append((label, seed, seeds[seed] or "planned", s[2]))
    assert got == want


def test_sweep_base_is_the_mean_of_the_runs_step_0(store):
    bases = [_summary(r)[0] for r in RUNS if _summary(r)[0] is not None]
    got = store.sweep_base("sw")
    assert (got["base"], got["runs"], got["benchmarks"]) == (_approx(statistics.fmean(bases)), len(bases), "b1,b2")
    assert store.sweep_base("nope") is None


def test_run_results_read_seed_and_examples_from_the_config(store):
    got = {r["run_id"]: r for r in store.rows("SELECT * FROM run_results")}
    for run_id, v in RUNS.items():
        if not v["status"]:
            assert run_id not in got
            continue
        r = got[run_id]
        s = _summary(run_id)
        assert (r["seed"], r["examples"], r["status"], r["final_step"], r["best_step"]) == (
            v["seed"], f"{v['label']},x", v["status"], s[2], s[4]), (run_id, r)


PASS_AT_K = [(n, c, k) for n in (1, 2, 5, 8) for c in range(0, n + 1) for k in (1, 2, 4, 8)]


def test_pass_at_k_is_one_minus_the_chance_that_k_draws_miss(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    for n, c, k in PASS_AT_K:
        got = store.rows("SELECT pass_at_k(?, ?, ?) AS p", [n, c, k])[0]["p"]
        # Chen et al. 2021: 1 - C(n - c, k) / C(n, k); undefined when k > n.
        want = None if k > n else 1 - math.comb(n - c, k) / math.comb(n, k)
        assert got == _approx(want), (n, c, k, want, got)


# --------------------------------------------------------------------------- histories, order, status, rankings


@pytest.fixture(scope="module")
def history_store(tmp_path_factory):
    store = Store.open(tmp_path_factory.mktemp("hist") / "s", create=True)
    with store.writer("h") as w:
        # An imported history: acc and n per appearance; first_seen is the key's position.
        w.append("history_import", [
            {"run_id": "imp", "example_id": ex, "first_seen": fs, "epoch": e, "acc": acc, "n": 8}
            for ex, fs, accs in (("b", 0, [0.375, 1.0]), ("a", 1, [0.125]))
            for e, acc in enumerate(accs, 1)])
        # Recorded rollouts: step 1 meets y (batch 0) then x (batch 1); step 2 meets z first; x is
        # also met again at step 3 by a later attempt.
        rows = []
        for step, batch, ex, correct in ((1, 0, "y", [1, 0]), (1, 1, "x", [1, 1]), (2, 0, "z", [0, 0]), (2, 1, "y", [1, 1]),
                                         (3, 0, "x", [0, 1])):
            rows += [{"run_id": "rec", "attempt": 0, "step": step, "epoch": (step + 1) // 2, "example_id": ex,
                      "batch_index": batch, "sample_index": k, "correct": bool(c)} for k, c in enumerate(correct)]
        w.append("rollouts", rows)
        w.append("rollouts", [{"run_id": "rec", "attempt": 1, "step": 3, "epoch": 2, "example_id": "x", "batch_index": 0,
                               "sample_index": k, "correct": True} for k in range(2)])
        # Rankings: two of "rec" by variance (the later one wins), one by lim.
        w.append("rankings", [
            {"ranking_id": rid, "run_id": "rec", "pool": "p", "score": score, "rank": r, "example_id": ex, "value": 0.0,
             "n_bootstrap": 0, "seed": 0, "created_at": T0 + timedelta(minutes=minutes), "code_version": "0"}
            for rid, score, minutes, order in (("old", "variance", 0, "xyz"), ("new", "variance", 1, "zyx"), ("l", "lim", 0, "yxz"))
            for r, ex in enumerate(order, 1)])
        # Run events: the latest event wins; at the same time, the status later in the alphabet.
        w.append("runs", [{"run_id": r, "kind": "history", "pool": "p", "model": "m", "config": "{}", "grader_version": "g",
                           "code_version": "0", "created_at": T0, "host": "h"} for r in ("e1", "e2")])
        w.append("run_events", [
            {"run_id": "e1", "event_time": T0, "status": "running", "detail": "a0"},
            {"run_id": "e1", "event_time": T0 + timedelta(seconds=1), "status": "interrupted", "detail": "ctrl-c"},
            {"run_id": "e2", "event_time": T0, "status": "finished", "detail": "x"},
            {"run_id": "e2", "event_time": T0, "status": "failed", "detail": "y"}])
    return Store.open(store.root)


def test_epoch_accuracy_of_an_imported_history_counts_correct_rollouts(history_store):
    got = history_store.rows("SELECT example_id, epoch, n_correct, n, acc FROM epoch_accuracy WHERE run_id = 'imp' "
                             "ORDER BY example_id, epoch")
    want = [("a", 1, 1, 8, 0.125), ("b", 1, 3, 8, 0.375), ("b", 2, 8, 8, 1.0)]  # n_correct = acc x n
    assert [tuple(r.values()) for r in got] == want


def test_epoch_and_step_accuracy_of_recorded_rollouts_use_the_latest_attempt(history_store):
    got = history_store.rows("SELECT example_id, epoch, n_correct, n, acc FROM epoch_accuracy WHERE run_id = 'rec' "
                             "ORDER BY example_id, epoch")
    # x: epoch 1 (step 1) 2/2, epoch 2 (step 3, attempt 1 replaces attempt 0) 2/2; y: epoch 1 = steps 1, 2: 3/4.
    assert [tuple(r.values()) for r in got] == [("x", 1, 2, 2, 1.0), ("x", 2, 2, 2, 1.0), ("y", 1, 3, 4, 0.75),
                                                ("z", 1, 0, 2, 0.0)]
    steps = history_store.rows("SELECT step, example_id, n_correct, n, acc FROM step_accuracy ORDER BY step, example_id")
    assert [tuple(r.values()) for r in steps] == [(1, "x", 2, 2, 1.0), (1, "y", 1, 2, 0.5), (2, "y", 2, 2, 1.0),
                                                  (2, "z", 0, 2, 0.0), (3, "x", 2, 2, 1.0)]


def test_example_order_is_first_step_then_batch_position(history_store):
    got = history_store.rows("SELECT run_id, example_id, first_seen FROM example_order ORDER BY run_id, first_seen")
    assert [tuple(r.values()) for r in got] == [("imp", "b", 0), ("imp", "a", 1),
                                                ("rec", "y", 0), ("rec", "x", 1), ("rec", "z", 2)]


def test_scores_keep_the_latest_ranking_of_each_run_and_score(history_store):
    got = history_store.rows("SELECT score, ranking_id, string_agg(example_id, '' ORDER BY rank) AS o FROM scores "
                             "GROUP BY score, ranking_id ORDER BY score")
    assert [tuple(r.values()) for r in got] == [("lim", "l", "yxz"), ("variance", "new", "zyx")]


def test_run_status_is_the_latest_event_ties_by_status(history_store):
    got = {r["run_id"]: (r["status"], r["detail"]) for r in history_store.rows("SELECT * FROM run_status")}
    assert got == {"e1": ("interrupted", "ctrl-c"), "e2": ("finished", "x")}


# --------------------------------------------------------------------------- the results table (selector/results.py)


def _pct(x):
    return "" if x is None else f"{100 * x:.1f}"


def _shows(text: str, value, signed: bool = False) -> bool:
    """`text` is `value` (a fraction) as a percentage with one decimal: the right digits up to the
    last one's rounding (the views' float sums and the mean computed here may differ in the 15th
    digit, which can move a value at x.x5 either way)."""
    if value is None:
        return text == ""
    return re.fullmatch(r"[+-]\d+\.\d" if signed else r"\d+\.\d", text) is not None and abs(float(text) - 100 * value) <= 0.05 + 1e-9


def _shows_pm(text: str, values: list) -> bool:
    """"mean ± sd" over the seeds (the sample deviation), or the mean alone for one seed."""
    if not values:
        return text == ""
    mean, _, sd = text.partition(" ± ")
    return _shows(mean, statistics.fmean(values)) and (_shows(sd, statistics.stdev(values)) if len(values) > 1 else sd == "")


def test_results_table_shows_mean_plus_minus_sample_sd_and_the_difference_to_base(store):
    from selector.results import sweep_table

    table, cols, caption = sweep_table(store, "sw")
    assert cols == ["run", "group", "finished", "final (%)", "best (%)", "vs base", "formatted (%)",
                    "after saturation (pts)"]
    bases = [_summary(r)[0] for r in RUNS if _summary(r)[0] is not None]
    base = statistics.fmean(bases)
    head, rows = table[0], table[1:]
    assert {k: v for k, v in head.items() if k not in ("final (%)", "formatted (%)")} == {
        "run": "base model", "group": "", "finished": "", "best (%)": "", "vs base": ""}
    assert _shows(head["final (%)"], base), (head, base)
    assert [(r["run"], r["group"]) for r in rows] == [(label, grp) for label, grp, _ in PLAN]
    for (label, grp, seeds), row in zip(PLAN, rows):
        summaries = [_summary(f"{label}-s{s}") for s in seeds]
        finals = [x[1] for x in summaries if x[1] is not None]
        bests = [x[3] for x in summaries if x[3] is not None]
        finished = sum(s == "finished" for s in seeds.values())
        assert row["finished"] == f"{finished}/{len(seeds)}", row
        assert _shows_pm(row["final (%)"], finals), (label, finals, row)
        assert _shows_pm(row["best (%)"], bests), (label, bests, row)
        assert _shows(row["vs base"], statistics.fmean(finals) - base if finals else None, signed=True), (label, row)
    assert "±" in rows[0]["final (%)"] and rows[-1]["final (%)"] == ""  # three seeds; a planned-only item
    assert caption.startswith("accuracy = mean over b1,b2; final = last evaluated step, best = best evaluated step; "
                              "mean ± sd over seeds; formatted = ")


def test_results_by_run_shows_each_runs_numbers_in_plan_order(store):
    from selector.results import sweep_table

    table, cols, _ = sweep_table(store, "sw", by_run=True)
    assert cols == ["run", "group", "seed", "status", "base", "final", "final_step", "best", "best_step", "run_id"]
    planned = [(label, grp, seed, seeds[seed]) for seed in (1, 2, 3) for label, grp, seeds in PLAN if seed in seeds]
    assert len(table) == len(planned)
    for (label, grp, seed, status), row in zip(planned, table):
        base, final, final_step, best, best_step = _summary(f"{label}-s{seed}")
        assert {c: row[c] for c in ("run", "group", "seed", "status", "final_step", "best_step", "run_id")} == {
            "run": label, "group": grp, "seed": seed, "status": status or "planned", "final_step": final_step,
            "best_step": best_step, "run_id": f"{label}-s{seed}"}, row
        assert _shows(row["base"], base) and _shows(row["final"], final) and _shows(row["best"], best), (row, base, final, best)


def test_results_before_a_sweep_show_every_run_oldest_first(store):
    from selector.results import run_rows, run_table

    rows = run_rows(store)
    table, cols, caption = run_table(rows)
    started = sorted(r for r, v in RUNS.items() if v["status"])  # all created at T0: by run id
    assert [r["run_id"] for r in table] == started
    for r in table:
        base, final, final_step, best, best_step = _summary(r["run_id"])
        v = RUNS[r["run_id"]]
        assert (r["seed"], r["examples"], r["final_step"], r["best_step"]) == (v["seed"], f"{v['label']},x", final_step, best_step), r
        assert _shows(r["base (%)"], base) and _shows(r["final (%)"], final) and _shows(r["best (%)"], best), r
    assert caption.startswith("accuracy = mean over b1,b2; base = before training")
    assert run_table([])[2] == "no run has evaluations yet"


RUN_ROWS = [
    # (a run_results row, what the table shows for seed and examples)
    ({"run_id": "h", "kind": "history", "seed": 0, "examples": None, "base": None, "final": None, "best": None,
      "benchmarks": None}, 0, "(whole pool)"),
    ({"run_id": "i", "kind": "imported", "seed": None, "examples": None, "base": None, "final": None, "best": None,
      "benchmarks": None}, "", ""),
    ({"run_id": "e", "kind": "eval", "seed": None, "examples": None, "base": 0.25, "final": None, "best": None,
      "benchmarks": "toy"}, "", ""),
    ({"run_id": "o", "kind": "one_shot", "seed": 2, "examples": "a,b", "base": 0.25, "final": 0.5, "best": 0.625,
      "benchmarks": "b1,b2"}, 2, "a,b"),
]


def test_the_runs_table_fills_seed_examples_and_percentages():
    from selector.results import run_table

    rows = [dict(r, final_step=None, best_step=None, pool="p", status="finished") for r, _, _ in RUN_ROWS]
    table, cols, caption = run_table(rows)
    assert cols == ["run_id", "kind", "pool", "status", "seed", "examples", "base (%)", "final (%)", "final_step", "best (%)",
                    "best_step"]
    for (row, seed, examples), got in zip(RUN_ROWS, table):
        want = {**row, "final_step": None, "best_step": None, "pool": "p", "status": "finished", "seed": seed,
                "examples": examples, "base (%)": _pct(row["base"]), "final (%)": _pct(row["final"]), "best (%)": _pct(row["best"])}
        assert got == want, (row["run_id"], want, got)
    # Two benchmark sets: both named, in order, ';'-separated.
    assert caption == ("accuracy = mean over b1,b2; toy; base = before training, final = last evaluated step, "
                       "best = best evaluated step")


def test_the_sweep_table_uses_the_rows_it_is_given_and_says_when_nothing_is_evaluated(store):
    from selector.results import sweep_rows, sweep_table

    per_run = store.sweep_results("sw")[:2]
    table, _, _ = sweep_table(store, "sw", by_run=True, per_run=per_run)
    assert [r["run_id"] for r in table] == [r["run_id"] for r in per_run]
    assert [r["run"] for r in sweep_rows(store, "sw")] == [label for label, _, _ in PLAN]  # by item, by default
    assert sweep_rows(store, "sw", True, per_run) == sweep_rows(store, "sw", by_run=True)[:2]
    assert sweep_table(store, "nope") == ([], ["run", "group", "finished", "final (%)", "best (%)", "vs base", "formatted (%)",
                                          "after saturation (pts)"],
                                          "no evaluations recorded yet")


# --------------------------------------------------------------------------- edges of the summaries, behaviour, leases


def _eval_rows(run_id, step, problems, grader="g"):
    """problems: [(problem_id, [correct, ...])] at one step on benchmark "b"."""
    return [{"run_id": run_id, "attempt": 0, "step": step, "benchmark": "b", "problem_id": p, "sample_index": k,
             "completion": "", "extracted": "", "correct": ok, "formatted": True, "completion_tokens": 1,
             "grader_version": grader} for p, oks in problems for k, ok in enumerate(oks)]


def test_a_run_evaluated_before_training_only_has_a_base_and_nothing_else(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    with store.writer("x") as w:
        w.append("eval_samples", _eval_rows("only-base", 0, [("p1", [True, False])]))  # `select eval`: step 0 only
        # Steps 0 and 1: step 1 is the last and the best; step 0 ties it and still is not the best step.
        w.append("eval_samples", _eval_rows("one-step", 0, [("p1", [True, False])]) + _eval_rows("one-step", 1, [("p1", [False, True])]))
    got = {r["run_id"]: (r["base"], r["final"], r["final_step"], r["best"], r["best_step"])
           for r in store.rows("SELECT * FROM run_eval_summary")}
    assert got == {"only-base": (0.5, None, None, None, None), "one-step": (0.5, 0.5, 1, 0.5, 1)}


def test_samples_is_the_fewest_per_problem_and_the_grader_the_oldest(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    with store.writer("x") as w:
        w.append("eval_samples", _eval_rows("r", 0, [("p1", [True, True, False, False])], grader="g1")
                 + _eval_rows("r", 0, [("p2", [True, False])], grader="g2"))
    (row,) = store.rows("SELECT * FROM eval_scores")
    # avg@n per problem: (2/4 + 1/2) / 2; pass@n: both problems solved at least once.
    assert (row["problems"], row["samples"], row["accuracy"], row["pass_at_n"], row["grader_version"]) == (2, 2, 0.5, 1.0, "g1")
    problems = store.rows("SELECT problem_id, n, c, grader_version FROM eval_problems ORDER BY problem_id")
    assert [tuple(r.values()) for r in problems] == [("p1", 4, 2, "g1"), ("p2", 2, 1, "g2")]


def test_the_sweeps_view_holds_exactly_the_planned_rows(store):
    planned = sum(len(seeds) for _, _, seeds in PLAN)
    assert store.rows("SELECT count(*) AS n, count(sweep) AS named, bool_or(dry_run) AS dry FROM sweeps") == [
        {"n": planned, "named": planned, "dry": False}]


def _rollout(run_id, step, k, correct, text="x"):
    return {"run_id": run_id, "attempt": 0, "step": step, "epoch": 1, "example_id": "e", "batch_index": 0, "sample_index": k,
            "completion": text, "correct": correct, "completion_tokens": 10 + k}


def test_behaviour_per_step_averages_rollouts_and_keeps_each_metric_apart(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    texts = ["Let me recheck. Recheck!", "fine", "rethink", "fine"]  # 2, 0, 1, 0 reflection words
    with store.writer("x") as w:
        w.append("rollouts", [_rollout("a", 1, k, k < 3, texts[k]) for k in range(4)])
        # Each metric in first and in last place once: a metric read without its name filter would
        # take another's value.
        w.append("metrics", [{"run_id": "a", "attempt": 0, "step": step, "name": n, "value": v}
                             for step, order in ((1, ("entropy", "kl", "reward", "loss")), (2, ("loss", "reward", "kl", "entropy")))
                             for n, v in sorted((("entropy", 0.7), ("kl", 0.01), ("loss", -0.3), ("reward", 0.75)),
                                                key=lambda x: order.index(x[0]))])
        w.append("rollouts", [_rollout("a", 2, k, True) for k in range(2)])
        w.append("eval_samples", [dict(r, completion=texts[i]) for i, r in enumerate(_eval_rows("a", 1, [(f"p{i}", [True]) for i in range(4)]))])
    t, t2 = store.rows("SELECT * FROM train_behaviour ORDER BY step")
    assert (t["rollouts"], t["accuracy"], t["completion_tokens"], t["reflection_words"], t["reflection_rate"],
            t["entropy"], t["kl"], t["loss"]) == (4, 0.75, 11.5, 0.75, 0.5, 0.7, 0.01, -0.3)
    assert (t2["rollouts"], t2["accuracy"], t2["entropy"], t2["kl"], t2["loss"]) == (2, 1.0, 0.7, 0.01, -0.3)
    (e,) = store.rows("SELECT * FROM eval_behaviour")
    assert (e["completions"], e["reflection_words"], e["reflection_rate"]) == (4, 0.75, 0.5)


def test_saturation_is_the_first_step_whose_5_step_mean_reaches_90_percent_per_run(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    # Run "a": steps 1-4 all correct, step 5 half: the mean of steps 1..5 is exactly 0.9 (first at
    # step 5; the windows before it are shorter and at 1.0 from step 1). Run "b" is never above 0.5.
    acc = {"a": [1, 1, 1, 1, 0.5], "b": [0.5] * 5}
    with store.writer("x") as w:
        w.append("rollouts", [_rollout(r, s, k, k < 4 * a) for r, accs in acc.items() for s, a in enumerate(accs, 1)
                               for k in range(4)])
    got = {r["run_id"]: r["saturation_step"] for r in store.rows("SELECT * FROM run_saturation")}
    assert got == {"a": 1, "b": None}
    with store.writer("y") as w:  # "c": 0.5, then four steps at 1: windows 0.5, .75, .83, .875, 0.9 at step 5
        w.append("rollouts", [_rollout("c", s, k, k < 4 * a) for s, a in enumerate([0.5, 1, 1, 1, 1], 1) for k in range(4)])
    got = {r["run_id"]: r["saturation_step"] for r in store.rows("SELECT * FROM run_saturation")}
    assert got == {"a": 1, "b": None, "c": 5}


def test_first_seen_is_numbered_within_each_run(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    with store.writer("x") as w:
        w.append("rollouts", [dict(_rollout(run, 1, 0, True), example_id=ex, batch_index=b)
                              for run in ("r1", "r2") for b, ex in enumerate(("q", "p"))])
    got = store.rows("SELECT run_id, example_id, first_seen FROM example_order ORDER BY run_id, first_seen")
    assert [tuple(r.values()) for r in got] == [("r1", "q", 0), ("r1", "p", 1), ("r2", "q", 0), ("r2", "p", 1)]


def test_the_latest_of_two_rankings_made_at_the_same_moment_is_the_larger_id(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    with store.writer("x") as w:
        w.append("rankings", [{"ranking_id": rid, "run_id": "r", "pool": "p", "score": "variance", "rank": 1, "example_id": ex,
                               "value": 0.0, "n_bootstrap": 0, "seed": 0, "created_at": T0, "code_version": "0"}
                              for rid, ex in (("rank-a", "x"), ("rank-b", "y"))])
    assert store.rows("SELECT ranking_id, example_id FROM scores") == [{"ranking_id": "rank-b", "example_id": "y"}]


def test_a_lease_younger_than_4_heartbeats_keeps_its_run_running(tmp_path):
    from selector.store import RunLog

    store = Store.open(tmp_path / "s", create=True)
    RunLog(store, "r").start(0, create=dict(kind="history", pool="p", model="m", config={}, grader_version="g"))
    (tmp_path / "s" / "leases").mkdir()
    import time

    for age, want in ((35, "running"), (45, "stale")):  # interval 10 s: stale past 40 s (3 heartbeats is not enough)
        (tmp_path / "s" / "leases" / "r.json").write_text(json.dumps(
            {"run_id": "r", "heartbeat_unix": time.time() - age, "interval": 10.0}))
        assert store.rows("SELECT status FROM run_status")[0]["status"] == want, (age, want)


def test_an_imported_accuracy_between_counts_rounds_half_up(tmp_path):
    # 0.3125 of 8 rollouts is 2.5 correct (a history whose entries pooled 16 rollouts, imported as
    # 8): the view rounds half away from zero (3), where a plain cast would round to even (2).
    store = Store.open(tmp_path / "s", create=True)
    with store.writer("h") as w:
        w.append("history_import", [{"run_id": "imp", "example_id": "a", "first_seen": 0, "epoch": e, "acc": acc, "n": 8}
                                    for e, acc in ((1, 0.3125), (2, 0.4375))])
    got = store.rows("SELECT epoch, n_correct, acc FROM epoch_accuracy ORDER BY epoch")
    assert [(r["epoch"], r["n_correct"], r["acc"]) for r in got] == [(1, 3, 0.3125), (2, 4, 0.4375)]


def test_sweep_rows_carry_each_items_numbers_unformatted(store):
    from selector.results import sweep_rows

    rows = sweep_rows(store, "sw")
    summary = {r["label"]: r for r in store.sweep_summary("sw")}
    # Two queries of the same view may sum in a different order (DuckDB aggregates in parallel):
    # equal up to float noise.
    assert rows[0] == {"run": "pi1", "group": "1-shot", "finished": "3/3",
                       **{k: _approx(summary["pi1"][k]) for k in ("base", "final", "final_sd", "best", "best_sd")},
                       "benchmarks": "b1,b2",
                       **{k: rows[0][k] for k in ("final_formatted", "final_formatted_sd", "saturated", "saturation_step",
                                                  "after_saturation", "after_saturation_sd")}}
    assert rows[0]["base"] == pytest.approx(statistics.fmean(_summary(f"pi1-s{s}")[0] for s in (1, 2, 3)))
