"""Benchmarks (one file each in selector/benchmarks/), their protocols, and pass@k.

    python -m pytest tests/test_benchmarks.py -q

Table-driven in the lighteval way: each benchmark's expected size, first reference answer and
the paper's sampling protocol (../shared/reference/paper-setup.md) are listed here, and the
golds the evaluation reads are the ones tests/test_grader.py verifies the grader on.
"""

import json
import math

import pytest

from selector.benchmark import Sampling, load_rows, sampling
from selector.benchmarks import get_benchmark, parse_names
from selector.benchmarks import BENCHMARKS, MATH6
from selector.errors import UserError
from selector.store import Store

# name: (rows, first id, first gold, temperature, samples) under the paper protocol
TABLE = {
    "math500": (500, "test/precalculus/807.json", "\\left( 3, \\frac{\\pi}{2} \\right)", 0.0, 1),
    "minerva_math": (272, "0", "1.6", 0.0, 1),
    "olympiadbench": (675, "1606", "2", 0.0, 1),
    "aime24": (30, "60", "204", 0.6, 8),
    "aime25": (30, "0", "70", 0.6, 8),
    "amc23": (40, "0", "27", 0.6, 8),
    "gsm8k": (1319, "0", "18", 0.0, 1),
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_benchmark_rows_and_paper_protocol(shared_data, name):
    size, first_id, first_gold, temperature, samples = TABLE[name]
    bench = get_benchmark(name)
    rows = load_rows(bench, shared_data)
    assert len(rows) == size
    assert len({r["id"] for r in rows}) == size
    assert rows[0]["id"] == first_id
    if first_gold is not None:
        assert rows[0]["answer"] == first_gold
    assert all(r["answer"] for r in rows), "every problem has a reference answer"
    # The paper's prompt: its system instruction, then the raw problem as the user turn.
    assert rows[0]["prompt"][0] == {"role": "system", "content": "Please reason step by step, and put your final answer within \\boxed{}."}
    assert rows[0]["prompt"][1]["role"] == "user" and rows[0]["prompt"][1]["content"].strip()
    s = sampling(bench)
    assert (s.temperature, s.samples, s.max_new_tokens, s.top_p) == (temperature, samples, 3072, 1.0)
    assert len(load_rows(bench, shared_data, limit=3)) == 3


@pytest.mark.parametrize("name", MATH6)
def test_evaluation_golds_are_the_graders_verified_golds(shared_data, name):
    from test_grader import load_golds  # tests/ is on sys.path (rootdir conftest)

    # AMC23 stores 27 as 27.0; the grader test grades both forms, the evaluation reads 27 (paper-setup.md).
    verified = [str(gold).strip().removesuffix(".0") if name == "amc23" else str(gold).strip() for _, gold, _ in load_golds(shared_data, name)]
    assert [r["answer"] for r in load_rows(get_benchmark(name), shared_data)] == verified


def test_toy_benchmark_is_generated_and_disjoint_from_the_pool():
    from selector.toy import pool_rows

    rows = load_rows(get_benchmark("toy"))
    assert len(rows) == 400 and sampling(get_benchmark("toy")) == Sampling(0.6, 4, 56)
    assert not {r["prompt"][-1]["content"] for r in rows} & {r["prompt"][-1]["content"] for r in pool_rows()}


@pytest.mark.parametrize("protocol, overrides, want", [
    ("paper", {}, (0.6, 8, 3072)),
    ("greedy", {}, (0.0, 1, 3072)),
    ("sampled", {}, (0.6, 8, 3072)),
    ("paper", {"samples": 32, "temperature": 1.0}, (1.0, 32, 3072)),
    ("greedy", {"max_new_tokens": 512}, (0.0, 1, 512)),
])
def test_protocols_and_overrides(protocol, overrides, want):
    s = sampling(get_benchmark("aime24"), protocol, **overrides)
    assert (s.temperature, s.samples, s.max_new_tokens) == want


@pytest.mark.parametrize("call, message", [
    (lambda: get_benchmark("math5000"), "unknown benchmark 'math5000'; valid benchmarks: toy, math500"),
    (lambda: parse_names("math500,nope"), "unknown benchmark 'nope'"),
    (lambda: parse_names(" , "), "no benchmark given"),
    (lambda: sampling(get_benchmark("math500"), "beam"), "unknown protocol 'beam'; valid protocols: paper, greedy, sampled"),
    (lambda: sampling(get_benchmark("math500"), samples=8), "greedy samples would all be the same"),
    (lambda: sampling(get_benchmark("aime24"), samples=0), "bad sampling"),
])
def test_bad_names_and_settings_fail_in_one_line(call, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        call()
    assert "\n" not in str(e.value)


def test_math6_expands_to_the_papers_six():
    assert parse_names("math6") == MATH6
    assert parse_names("toy,math6,math500") == ["toy"] + MATH6


def test_missing_file_says_which_file_and_where(tmp_path):
    with pytest.raises(UserError) as e:
        load_rows(get_benchmark("aime25"), tmp_path)
    assert "benchmarks/aime25/test.jsonl not found in" in str(e.value) and str(tmp_path) in str(e.value)
    # A benchmark with a hub copy says the hub could not be reached either (tests run offline).
    with pytest.raises(UserError, match="math500.*not found in.*hub dataset HuggingFaceH4/MATH-500"):
        load_rows(get_benchmark("math500"), tmp_path)


def test_corrupt_and_wrong_layout_files_fail_in_one_line(tmp_path):
    path = tmp_path / "benchmarks" / "aime25" / "test.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"problem": "1+1", "answer": "2"}\n{"problem": \n')
    with pytest.raises(UserError, match="line 2 is not JSON"):
        load_rows(get_benchmark("aime25"), tmp_path)
    path.write_text('{"question": "1+1", "solution": "2"}\n')
    with pytest.raises(UserError, match="row 0 does not have the expected fields"):
        load_rows(get_benchmark("aime25"), tmp_path)


@pytest.mark.parametrize("layout", ["huggingface", "allenai"])
def test_arc_reads_both_public_layouts(tmp_path, layout):
    row = ({"id": "Q1", "question": "Which is a gas?", "choices": {"text": ["ice", "steam"], "label": ["A", "B"]}, "answerKey": "B"}
           if layout == "huggingface" else
           {"id": "Q1", "question": {"stem": "Which is a gas?", "choices": [{"text": "ice", "label": "A"}, {"text": "steam", "label": "B"}]},
            "answerKey": "B"})
    path = tmp_path / "benchmarks" / "arc_challenge" / "test.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(row) + "\n")
    (got,) = load_rows(BENCHMARKS["arc-c"], tmp_path)
    assert got["id"] == "Q1" and got["answer"] == "B"
    assert got["prompt"][1]["content"] == "Which is a gas?\n\nA. ice\nB. steam\n\nAnswer with the letter of the correct choice."


def _pass_at_k(n, c, k):  # the definition: 1 - C(n-c, k) / C(n, k)
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


@pytest.mark.parametrize("n, c, k", [(1, 0, 1), (1, 1, 1), (4, 2, 1), (4, 2, 2), (8, 0, 4), (8, 1, 8), (8, 3, 2),
                                     (10, 3, 2), (16, 15, 4), (64, 5, 16), (200, 37, 50)])
def test_pass_at_k_macro_matches_its_definition(tmp_path, n, c, k):
    store = Store.open(tmp_path / "s", create=True)
    got = store.rows("SELECT pass_at_k(?, ?, ?) AS p", [n, c, k])[0]["p"]
    assert got == pytest.approx(_pass_at_k(n, c, k), abs=1e-12)
    assert store.rows("SELECT pass_at_k(4, 1, 5) AS p")[0]["p"] is None  # k > n


def test_eval_scores_view(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    rows = []
    # Problem p has p correct samples out of 4, at steps 0 and 10 (step 10: one more correct each).
    for step, bonus in ((0, 0), (10, 1)):
        for p in range(4):
            for k in range(4):
                rows.append({"run_id": "r", "attempt": 0, "step": step, "benchmark": "toy", "problem_id": str(p), "sample_index": k,
                             "completion": "", "correct": k < min(4, p + bonus), "grader_version": "g"})
    with store.writer("r") as w:
        w.append("eval_samples", rows)
    got = store.run_eval_scores("r")
    assert [(r["step"], r["problems"], r["samples"]) for r in got] == [(0, 4, 4), (10, 4, 4)]
    assert got[0]["accuracy"] == pytest.approx((0 + 1 + 2 + 3) / 16)
    assert got[0]["pass_at_n"] == pytest.approx(3 / 4)  # problems with at least one correct sample
    assert got[1]["accuracy"] == pytest.approx((1 + 2 + 3 + 4) / 16)
    summary = store.rows("SELECT * FROM run_eval_summary WHERE run_id = 'r'")[0]
    assert (summary["base"], summary["final"], summary["final_step"], summary["best_step"]) == (got[0]["accuracy"], got[1]["accuracy"], 10, 10)
