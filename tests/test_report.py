"""`select report` and the analysis views: what each figure is computed from, and the report
itself on an imported-history-only store, on a store from real (tiny) training, and on a copy.

    python -m pytest tests/test_report.py -q

The self-reflection counter is checked table-driven (lighteval style); the behaviour and
saturation views on hand-written rows; the report on stores built through the real code paths.
"""

import shutil
import stat

import pytest
from cli_harness import rank_made_up_history

from analysis import data
from analysis.report import build
from selector.cli import run as cli
from selector.errors import UserError
from selector.store import Store, now

# (completion, self-reflection words counted): the paper's words, their hyphenated and inflected
# forms, and near misses that must not count.
REFLECTION_CASES = [
    ("Let me rethink this.", 1),
    ("Wait, let me recheck: 3+4=7. Recheck again.", 2),
    ("I recalculated the sum and re-calculate it once more", 2),
    ("Let me re-evaluate, re-examine and double-check; double check.", 4),
    ("RETHINK", 1),
    ("The answer is \\boxed{7}.", 0),
    ("precheck, thinker, recalc, check again", 0),
    ("", 0),
]


@pytest.mark.parametrize("text,count", REFLECTION_CASES)
def test_reflection_words_counts_the_papers_words(tmp_path, text, count):
    store = Store.open(tmp_path / "s", create=True)
    assert store.rows("SELECT reflection_words(?) AS n", [text])[0]["n"] == count


def _run(run_id, kind="one_shot"):
    return {"run_id": run_id, "kind": kind, "pool": "p", "model": "m", "config": "{}", "grader_version": "t",
            "code_version": "0", "created_at": now(), "host": "h"}


def _rollout(run_id, step, k, correct, text="x \\boxed{1}", tokens=10):
    return {"run_id": run_id, "attempt": 0, "step": step, "epoch": 1, "example_id": "e1", "batch_index": 0, "sample_index": k,
            "completion": text, "extracted": "1", "reward": float(correct), "correct": correct, "formatted": True,
            "completion_tokens": tokens, "grader_version": "t"}


def test_behaviour_and_saturation_views_from_hand_written_rows(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    # 10 steps of 4 rollouts: step s has min(s, 4) of them correct.
    acc = {s: min(s, 4) for s in range(1, 11)}
    with store.writer("r1") as w:
        w.append("runs", [_run("r1")])
        w.append("rollouts", [_rollout("r1", s, k, k < acc[s], tokens=10 + s) for s in range(1, 11) for k in range(4)])
        w.append("metrics", [{"run_id": "r1", "attempt": 0, "step": s, "name": "entropy", "value": 1.0 / s} for s in range(1, 11)])
        w.append("eval_samples", [
            {"run_id": "r1", "attempt": 0, "step": step, "benchmark": "b", "problem_id": str(p), "sample_index": 0,
             "completion": "Let me recheck." if (step == 10 and p == 0) else "so \\boxed{2}", "extracted": "2", "correct": True,
             "formatted": True, "completion_tokens": 20 + step, "grader_version": "t"} for step in (0, 10) for p in range(4)])
    beh = data.behaviour(store, "r1")
    assert list(beh["train_steps"]) == list(range(1, 11))
    assert list(beh["train_tokens"]) == [10 + s for s in range(1, 11)]
    assert beh["entropy"][1] == pytest.approx(0.5)
    assert list(beh["eval_steps"]) == [0, 10]
    assert list(beh["eval_reflection_rate"]) == [0.0, 0.25]  # 1 of 4 test completions at step 10
    assert list(beh["eval_tokens"]) == [20.0, 30.0]
    # Windowed means of accuracy min(s,4)/4: step 7 averages steps 3..7 = (.75+1+1+1+1)/5 = 0.95 >= 0.9,
    # step 6 averages 2..6 = (.5+.75+1+1+1)/5 = 0.85 < 0.9.
    curves = data.training_curves(store, "r1")
    assert curves["saturation_step"] == 7
    assert [e["example_id"] for e in curves["examples"]] == ["e1"]


@pytest.fixture
def imported(tmp_path, pool12):
    """A store holding only an imported (made-up) history of the 12-problem pool and its ranking."""
    root, ids = rank_made_up_history(tmp_path, pool12, epochs=5, bootstrap=20)
    return Store.open(root), ids


def test_report_of_an_imported_history_only_has_the_ranking_sections(imported, tmp_path, capsys):
    store, ids = imported
    sections = {s.key: s for s in build(store, tmp_path / "report")}
    assert [k for k, s in sections.items() if s.image] == ["history", "scores", "comparison"]
    assert all(sections[k].missing for k in ("post_saturation", "sweep", "behaviour"))
    assert "selector sweep --pool" in sections["sweep"].missing
    files = sorted(p.name for p in (tmp_path / "report").iterdir())
    assert files == ["01_history_heatmap.png", "02_score_distribution.png", "03_score_comparison.png", "index.html"]
    page = (tmp_path / "report" / "index.html").read_text()
    assert "No data yet for: 4. Post-saturation generalization, 5. Sweep" in page
    # The top of the made-up history: the widest swing is the last example (pi1).
    assert sections["scores"].table[0][0]["example id"] == ids[-1]


def test_report_errors_are_one_line(imported, tmp_path, capsys):
    store, _ = imported
    with pytest.raises(UserError, match="no sweep 'nope'.*sweeps: none"):
        build(store, tmp_path / "r", sweep="nope")
    with pytest.raises(UserError, match="no run 'nope'"):
        build(store, tmp_path / "r", run="nope")
    empty = Store.open(tmp_path / "empty", create=True)
    with pytest.raises(UserError, match="nothing to report yet"):
        build(empty, tmp_path / "r2")
    with pytest.raises(SystemExit) as e:
        cli(["report", "--store", str(store.root), "--run", "nope", "--out", str(tmp_path / "r3")])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("selector: error: no run 'nope'") and "Traceback" not in "\n".join(err)


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@pytest.mark.slow
def test_report_of_a_trained_store_writes_every_figure(trained_store, tmp_path, capsys):
    root, history, sweep = trained_store
    assert cli(["report", "--store", str(root), "--out", str(tmp_path / "report")]) == 0
    out = tmp_path / "report"
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["01_history_heatmap.png", "02_score_distribution.png", "03_score_comparison.png",
                    "04_post_saturation.png", "05_sweep.png", "06_behaviour.png", "08_validation.png"]
    for name in pngs:
        w, h = _png_size(out / name)
        assert w >= 600 and h >= 250, (name, w, h)
    page = (out / "index.html").read_text()
    assert all(f"src='{name}'" in page for name in pngs) and "No data yet" not in page
    assert history in page and sweep in page
    # The default trained run is the sweep's pi1 run: 3 training steps, evaluated at steps 0..3.
    store = Store.open(root)
    run = data.default_training_run(store, sweep)
    assert store.sweep_plan(sweep)[0]["run_id"] == run
    curves = data.training_curves(store, run)
    assert list(curves["train_steps"]) == [1, 2, 3] and list(curves["eval_steps"]) == [0, 1, 2, 3]
    assert [e["pi"] for e in curves["examples"]] == ["pi1"]
    # the history statistics and the validation are drawn from the same store
    assert "7. History statistics" in page and "appearances per example" in page
    v = data.validation(store)
    assert [e["stratum"] for e in v["examples"]] == ["top", "top", "planted"] and v["examples"][2]["example_id"] == "toy-0007"
    # The page's sweep table shows the pi1 run's final accuracy (its last step, avg@n over the
    # problems), computed here from the recorded samples.
    per_problem = store.rows("SELECT step, problem_id, avg(correct::DOUBLE) AS a FROM eval_samples WHERE run_id = ? "
                             "GROUP BY step, problem_id", [run])
    last = max(r["step"] for r in per_problem)
    final = [r["a"] for r in per_problem if r["step"] == last]
    assert f"<td>pi1</td><td>1-shot</td><td>1/1</td><td>{100 * sum(final) / len(final):.1f}</td>" in page


@pytest.mark.slow
def test_report_from_copied_read_only_shards(trained_store, tmp_path):
    root, _, _ = trained_store
    copy = tmp_path / "copied"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("checkpoints"))
    for p in [copy, *copy.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        sections = build(Store.open(copy), tmp_path / "report")
    finally:
        for p in [copy, *copy.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)
    assert all(s.missing is None for s in sections)


@pytest.mark.parametrize("saturation", [5, 40, 75], ids=["early", "middle", "late"])
def test_post_saturation_legend_never_covers_the_saturation_label(saturation):
    # The legend used to sit in the lower right, over the label when training saturated late.
    import numpy as np

    from analysis import plots

    steps = np.arange(1, 81)
    acc = np.clip(steps / saturation, 0, 1)
    fig = plots.post_saturation({
        "run_id": "r", "kind": "one_shot", "pool": "toy", "examples": [{"example_id": "e", "pi": "pi1", "steps": steps, "acc": acc}],
        "train_steps": steps, "train_acc": acc, "saturation_step": saturation, "eval_steps": np.arange(0, 81, 10),
        "eval_average": np.linspace(0.4, 0.6, 9), "benchmarks": "toy", "samples": 4, "eval": {}})
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)  # the constrained layout places the legend
    ax = fig.axes[0]
    label = next(t for t in ax.texts if "training saturates" in t.get_text()).get_window_extent(renderer)
    legend = ax.get_legend().get_window_extent(renderer)
    assert not label.overlaps(legend), (label, legend)
