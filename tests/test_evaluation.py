"""`select eval`: a model on benchmarks with the paper's protocol, every sample recorded.

    python -m pytest tests/test_evaluation.py -q

Runs the real generate-and-grade path on a tiny in-process model (CPU, seconds).
"""

import json

import pytest

pytest.importorskip("transformers", reason="evaluation needs the train extra: pip install -e '.[train]'")

from selector.cli import run  # noqa: E402
from selector.cli.eval import EvalConfig  # noqa: E402
from selector.cli.eval import main as evaluate  # noqa: E402
from selector.store import Store  # noqa: E402


def test_toy_benchmark_is_recorded_and_not_redone(tmp_path, tiny_model, capsys):
    cfg = EvalConfig(model=tiny_model, bench="toy", limit=3, max_new_tokens=12, store=str(tmp_path / "s"))
    (row,) = evaluate(cfg)
    store = Store.open(tmp_path / "s")
    (run,) = store.rows("SELECT * FROM run_status")
    assert (run["kind"], run["status"]) == ("eval", "finished")
    got = store.rows("SELECT step, count(*) AS n, count(DISTINCT problem_id) AS p, max(sample_index) AS k, "
                     "bool_and(grader_version IS NOT NULL) AS gv FROM eval_samples GROUP BY step")
    assert got == [{"step": 0, "n": 12, "p": 3, "k": 3, "gv": True}]  # 3 problems x avg@4 at T=0.6
    assert (row["benchmark"], row["problems"], row["k"]) == ("toy", 3, 4)
    assert row["accuracy"] == store.rows("SELECT avg(correct::DOUBLE) AS a FROM eval_samples")[0]["a"]
    assert "T=0.6, 4 samples, 12 new tokens" in capsys.readouterr().out
    evaluate(cfg)  # again: nothing new
    assert "already evaluated; nothing to do" in capsys.readouterr().err
    assert store.rows("SELECT count(*) AS n FROM eval_samples_all")[0]["n"] == 12
    capsys.readouterr()
    assert run_cli(["results", "--run", run["run_id"], "--store", str(tmp_path / "s"), "--json"]) == 0
    # What `results` prints is the recorded evaluation: 3 problems, 4 samples each, the accuracy above.
    (shown,) = json.loads(capsys.readouterr().out)
    correct = [r["c"] for r in store.rows("SELECT count_if(correct) AS c FROM eval_samples GROUP BY problem_id")]
    assert (shown["step"], shown["benchmark"], shown["problems"], shown["samples"]) == (0, "toy", 3, 4)
    assert shown["accuracy"] == pytest.approx(sum(c / 4 for c in correct) / 3) == pytest.approx(row["accuracy"])
    assert shown["pass_at_n"] == pytest.approx(sum(c > 0 for c in correct) / 3)


def run_cli(argv):
    try:
        return run(argv)
    except SystemExit as e:
        return e.code


def test_math500_greedy_with_a_limit(tmp_path, tiny_model, shared_data, capsys):
    (row,) = evaluate(EvalConfig(model=tiny_model, bench="math500", limit=2, max_new_tokens=8, store=str(tmp_path / "s"),
                                 data_dir=str(shared_data)))
    assert (row["benchmark"], row["problems"], row["k"]) == ("math500", 2, 1)
    store = Store.open(tmp_path / "s")
    ids = [r["problem_id"] for r in store.rows("SELECT problem_id FROM eval_samples ORDER BY problem_id")]
    assert ids == sorted(["test/precalculus/807.json", "test/intermediate_algebra/1994.json"])
    assert "greedy, 1 sample, 8 new tokens" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--bench", "aime25", "--data-dir", "{tmp}"], "benchmarks/aime25/test.jsonl not found in {tmp}"),
    (["--bench", "nope"], "unknown benchmark 'nope'"),
    (["--model", "{tmp}", "--bench", "toy"], "is not a model directory (no config.json"),
    (["--model", "{tmp}/missing", "--bench", "toy"], "is not a model directory (it is a file or does not exist)"),
    (["--bench", "toy", "--backend", "jax"], "unknown backend 'jax'; valid backends: hf, vllm"),
    (["--bench", "math500", "--samples", "4"], "greedy samples would all be the same"),
])
def test_bad_input_is_one_line_and_records_nothing(tmp_path, capsys, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert run_cli(["eval", *argv, "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert message.replace("{tmp}", str(tmp_path)) in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "s").exists()


def test_math500_samples_carry_both_verdicts_and_results_read_either(tmp_path, tiny_model, shared_data, capsys):
    """A benchmark the paper's evaluation has rules for is graded both ways, per sample; the
    views (and `select results --mode`) read the mode asked for."""
    from selector import paper_grader
    from selector.benchmark import load_rows
    from selector.benchmarks import get_benchmark

    cfg = EvalConfig(model=tiny_model, bench="math500", limit=2, max_new_tokens=8, store=str(tmp_path / "s"),
                     data_dir=str(shared_data))
    (row,) = evaluate(cfg)
    store = Store.open(tmp_path / "s")
    samples = store.rows("SELECT problem_id, completion, correct_paper, extracted_paper FROM eval_samples ORDER BY problem_id")
    assert len(samples) == 2 and all(s["correct_paper"] is not None for s in samples)
    golds = {r["id"]: r["paper_answer"] for r in load_rows(get_benchmark("math500"), shared_data, 2)}
    for s in samples:  # recorded as the paper's grader says, against the paper's gold
        assert s["correct_paper"] == paper_grader.grade(s["completion"], golds[s["problem_id"]], "math500").correct
    paper = sum(s["correct_paper"] for s in samples) / 2
    assert row["accuracy_paper"] == paper
    (run,) = store.rows("SELECT run_id FROM runs")
    capsys.readouterr()
    assert run_cli(["results", "--run", run["run_id"], "--store", str(tmp_path / "s"), "--json", "--mode", "paper"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["accuracy"] == paper


@pytest.mark.parametrize("mode, expect", [
    ("strict", {"math500": 0.75, "toy": 0.5}),  # our grader's verdicts
    ("paper", {"math500": 0.25}),  # the paper's; the toy benchmark has no paper verdicts, so no score
], ids=["strict", "paper"])
def test_the_grading_mode_switches_every_evaluation_view(tmp_path, mode, expect):
    from selector.store import RunLog

    store = Store.open(tmp_path / "s", create=True)
    log = RunLog(store, "e")
    log.start(0, create=dict(kind="eval", pool=None, model="m", config={}, grader_version="g"))
    rows = [("math500", "p1", True, False), ("math500", "p1", True, True), ("math500", "p2", True, False),
            ("math500", "p2", False, False), ("toy", "t1", True, None), ("toy", "t1", False, None)]
    log.writer.append("eval_samples", [
        {"run_id": "e", "attempt": 0, "step": 0, "benchmark": b, "problem_id": p, "sample_index": i, "completion": "",
         "extracted": None, "correct": c, "formatted": True, "completion_tokens": 1, "grader_version": "g",
         "correct_paper": cp, "extracted_paper": None} for i, (b, p, c, cp) in enumerate(rows)])
    log.finish("done")
    store.set_grading_mode(mode)
    got = {r["benchmark"]: r["accuracy"] for r in store.run_eval_scores("e")}
    assert got == pytest.approx(expect)
    (avg,) = store.rows("SELECT accuracy FROM eval_average WHERE run_id = 'e'")
    assert avg["accuracy"] == pytest.approx(sum(expect.values()) / len(expect))
