"""The command line: the three entry points, and every bad input of `select rank/show/sql`
answered by one line on stderr with exit code 2, no traceback, nothing written half-way.

    python -m pytest tests/test_cli.py -q
"""

import json
import os
import subprocess
import sys

import pytest

from cli_harness import cli


POOL = [{"id": i, "prompt": f"What is {i}+{i}?", "answer": str(2 * i)} for i in range(6)]
HISTORY = {str(i): [0.0, i / 8, min(1.0, i / 4)] for i in (3, 1, 4, 0, 5, 2)}


@pytest.fixture
def world(tmp_path):
    """A tiny file: pool, a history over it, and a store path (not created yet)."""
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in POOL))
    hist = tmp_path / "hist.json"
    hist.write_text(json.dumps(HISTORY))
    return {"pool": f"file:{pool}", "history": str(hist), "store": str(tmp_path / "store"), "tmp": tmp_path}


def _files(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def test_rank_imports_a_history_and_prints_json(world, capsys):
    code, out, err = cli(capsys, "rank", "--pool", world["pool"], "--history", world["history"], "--store", world["store"], "--json", "--top", "3")
    assert code == 0, err
    rows = json.loads(out)
    # std of [0, i/8, min(1, i/4)]: i=5 -> 0.4125, i=4 -> 0.4082, i=3 -> 0.3062
    assert [r["example_id"] for r in rows] == ["5", "4", "3"]
    assert rows[0]["rank"] == 1 and rows[0]["answer"] == "10" and rows[0]["ci_low"] <= 1 <= rows[0]["ci_high"]
    assert {"rank", "example_id", "score", "answer"} <= set(rows[0])


def test_rank_twice_records_the_history_and_the_ranking_once(world, capsys):
    for _ in range(2):
        assert cli(capsys, "rank", "--pool", world["pool"], "--history", world["history"], "--store", world["store"])[0] == 0
    code, out, _ = cli(capsys, "sql", "SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(DISTINCT ranking_id) FROM rankings) AS rankings",
                       "--store", world["store"], "--json")
    assert json.loads(out) == [{"runs": 1, "rankings": 1}]


def test_show_resolves_pi_names_and_ids(world, capsys):
    cli(capsys, "rank", "--pool", world["pool"], "--history", world["history"], "--store", world["store"])
    code, out, err = cli(capsys, "show", "pi2", "--pool", world["pool"], "--store", world["store"], "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["example_id"] == "4" and info["rank"] == 2 and info["history"] == HISTORY["4"]
    code, out, _ = cli(capsys, "show", "4", "--pool", world["pool"], "--store", world["store"], "--json")
    assert json.loads(out)["rank"] == 2


def test_out_file_writes_the_rows(world, capsys):
    out_csv = world["tmp"] / "r.csv"
    cli(capsys, "rank", "--pool", world["pool"], "--history", world["history"], "--store", world["store"], "--top", "0", "--out", out_csv)
    lines = out_csv.read_text().splitlines()
    assert len(lines) == 1 + len(POOL) and lines[0].startswith("rank,pi,example_id,score,ci_low,ci_high,answer,problem")


def _bad(world, name):
    t = world["tmp"]
    (t / "corrupt.json").write_text('{"1": [0.5, 0.')
    (t / "nan.json").write_text('{"1": [0.5, NaN]}')
    (t / "range.json").write_text('{"1": [0.5, 1.5]}')
    (t / "strings.json").write_text('{"1": ["0.5"]}')
    (t / "list.json").write_text('[0.5]')
    (t / "other_ids.json").write_text('{"1": [0.5], "999": [0.1], "1000": [0.2]}')
    (t / "empty.jsonl").write_text("")
    (t / "binary.json").write_bytes(b"\x00\xff\xfe")
    return {
        "unknown pool": ["rank", "--pool", "nope", "--history", world["history"]],
        "unknown score": ["rank", "--pool", world["pool"], "--history", world["history"], "--score", "varience"],
        "missing history": ["rank", "--pool", world["pool"], "--history", t / "absent.json"],
        "corrupt history": ["rank", "--pool", world["pool"], "--history", t / "corrupt.json"],
        "binary history": ["rank", "--pool", world["pool"], "--history", t / "binary.json"],
        "NaN accuracy": ["rank", "--pool", world["pool"], "--history", t / "nan.json"],
        "out-of-range accuracy": ["rank", "--pool", world["pool"], "--history", t / "range.json"],
        "non-number accuracy": ["rank", "--pool", world["pool"], "--history", t / "strings.json"],
        "history not an object": ["rank", "--pool", world["pool"], "--history", t / "list.json"],
        "history ids not in pool": ["rank", "--pool", world["pool"], "--history", t / "other_ids.json"],
        "empty pool": ["rank", "--pool", f"file:{t / 'empty.jsonl'}", "--history", world["history"]],
        "nothing to rank": ["rank", "--pool", world["pool"]],
        "model not loadable offline": ["train", "--pool", world["pool"], "--model", "Qwen/Qwen2.5-Math-1.5B", "--prompts-per-step", "2",
                                       "--no-use-vllm"],
        "two sources": ["rank", "--pool", world["pool"], "--history", world["history"], "--run", "x"],
        "unknown run": ["rank", "--run", "nope"],
        "unknown pi": ["show", "pi99", "--pool", world["pool"]],
        "unknown example id": ["show", "12345", "--pool", world["pool"]],
        "write SQL": ["sql", "DROP VIEW runs"],
        "broken SQL": ["sql", "SELEC 1"],
        "unknown table": ["sql", "SELECT * FROM nope"],
    }[name]


BAD = ["unknown pool", "unknown score", "missing history", "corrupt history", "binary history", "NaN accuracy",
       "out-of-range accuracy", "non-number accuracy", "history not an object", "history ids not in pool", "empty pool",
       "nothing to rank", "model not loadable offline", "two sources", "unknown run", "unknown pi", "unknown example id",
       "write SQL", "broken SQL", "unknown table"]

EXPECTED = {
    "unknown pool": "valid pools: dsr-sub, toy, file:PATH", "unknown score": "valid scores: variance, lim",
    "missing history": "does not exist", "corrupt history": "not valid JSON", "binary history": "not UTF-8",
    "NaN accuracy": "NaN", "out-of-range accuracy": "must lie in [0, 1]", "non-number accuracy": "not a number",
    "history not an object": "must be a non-empty JSON object", "history ids not in pool": "2 of 3 example ids are not in pool",
    "empty pool": "is empty", "nothing to rank": "give --history FILE", "model not loadable offline": "could not load model 'Qwen/Qwen2.5-Math-1.5B'",
    "two sources": "give one of", "unknown run": "no run 'nope'", "unknown pi": "has pi1..pi6",
    "unknown example id": "not in pool", "write SQL": "read-only", "broken SQL": "syntax error", "unknown table": "nope",
}


@pytest.mark.parametrize("name", BAD)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(world, capsys, name):
    store = world["tmp"] / "store"
    # A store that already holds a good import: a bad command must leave it exactly as it was.
    assert cli(capsys, "rank", "--pool", world["pool"], "--history", world["history"], "--store", store)[0] == 0
    before = _files(store)
    code, out, err = cli(capsys, *_bad(world, name), "--store", store)
    assert code == 2, (name, out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("selector: error: "), err
    assert EXPECTED[name] in lines[0], (name, lines[0])
    assert "Traceback" not in err
    assert _files(store) == before


def test_show_of_a_pi_name_before_any_ranking_says_what_to_run(world, capsys):
    code, _, err = cli(capsys, "show", "pi1", "--pool", world["pool"], "--store", world["store"])
    assert code == 2 and "no store at" in err
    (world["tmp"] / "empty").mkdir()
    cli(capsys, "sql", "SELECT 1", "--store", world["tmp"] / "empty")  # not a store: refused, nothing created
    assert not (world["tmp"] / "empty" / "STORE.json").exists()


@pytest.mark.parametrize("name", ["corrupt history", "history ids not in pool", "empty pool", "unknown score"])
def test_bad_input_creates_no_store(world, capsys, name):
    store = world["tmp"] / "fresh-store"
    assert cli(capsys, *_bad(world, name), "--store", store)[0] == 2
    assert not store.exists()


def test_store_of_another_schema_version_is_refused(world, capsys):
    cli(capsys, "rank", "--pool", world["pool"], "--history", world["history"], "--store", world["store"])
    meta_path = os.path.join(world["store"], "STORE.json")
    meta = json.load(open(meta_path))
    json.dump({**meta, "schema_version": 99}, open(meta_path, "w"))
    code, _, err = cli(capsys, "show", "pi1", "--pool", world["pool"], "--store", world["store"])
    assert code == 2 and "schema version 99" in err


def test_read_only_store_is_refused_with_one_line(world, capsys, monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real(p, mode))
    code, _, err = cli(capsys, "rank", "--pool", world["pool"], "--history", world["history"], "--store", world["store"])
    assert code == 2 and "read-only" in err and not os.path.exists(world["store"])


@pytest.mark.parametrize("argv", [["selector"], ["select"], [sys.executable, "-m", "selector"]], ids=["selector", "select", "python -m"])
def test_all_three_entry_points_answer_help(argv):
    done = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "rank" in done.stdout and "reserved word in bash" in done.stdout


def test_importing_selector_and_its_verbs_does_not_import_torch_or_heavy_deps():
    code = ("import sys, selector.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('torch', 'transformers', 'trl', 'duckdb', 'pyarrow', 'numpy', 'math_verify', 'pandas', "
            "'polars', 'yaml', 'datasets') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def _selector(*argv, cwd=None):
    """The CLI in a fresh process (Python shows a warning once per process: a repeat in-process proves nothing)."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": repo + os.pathsep + os.environ.get("PYTHONPATH", ""), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "selector", *map(str, argv)], capture_output=True, text=True, timeout=120,
                          env=env, cwd=cwd)
    return done.returncode, done.stdout, done.stderr


def test_a_pools_bad_gold_warning_is_shown_once_per_store(world):
    pool = world["tmp"] / "bad.jsonl"
    pool.write_text("".join(json.dumps({**r, "answer": "" if r["id"] == 2 else r["answer"]}) + "\n" for r in POOL))
    args = ["--pool", f"file:{pool}", "--history", world["history"]]
    warned = []
    for store in ("a", "a", "b"):
        code, _, err = _selector("rank", *args, "--store", world["tmp"] / store)
        assert code == 0, err
        warned.append(err.count("gold answer(s) cannot be graded"))
    code, _, err = _selector("show", "pi1", "--pool", f"file:{pool}", "--store", world["tmp"] / "a")
    assert code == 0 and "cannot be graded" not in err
    assert warned == [1, 0, 1]  # once in store a, again in the new store b


def test_rank_shows_16_rows_explains_the_interval_and_says_what_next(world, tmp_path):
    pool = tmp_path / "pool20.jsonl"
    pool.write_text("".join(json.dumps({"id": i, "prompt": f"What is {i}+1?", "answer": str(i + 1)}) + "\n" for i in range(20)))
    hist = tmp_path / "hist20.json"
    hist.write_text(json.dumps({str(i): [0.0, i / 20, 1.0 if i % 2 else 0.5] for i in range(20)}))
    code, out, err = _selector("rank", "--pool", f"file:{pool}", "--history", hist, "--store", tmp_path / "s")
    assert code == 0, err
    assert "16 of 20 examples" in out and "pi16" in out and "pi17" not in out
    assert "rank 90% CI: the ranks the example takes in 90% of 200 replicates" in out
    assert "new store at" in err and "next: `selector show pi1" in err and "selector export" in err
    code, out, err = _selector("rank", "--pool", f"file:{pool}", "--history", hist, "--store", tmp_path / "s")
    assert "new store at" not in err  # only when the command made it
    code, out, _ = _selector("rank", "--help")
    assert "90% rank interval" in out and "1-1033" in out


def test_rank_dsr_sub_without_a_history_names_the_shipped_one(shared_data, tmp_path):
    code, _, err = _selector("rank", "--pool", "dsr-sub", "--data-dir", shared_data, "--store", tmp_path / "s")
    lines = [ln for ln in err.splitlines() if "error" in ln]
    assert code == 2 and len(lines) == 1 and "histories/dsr_sub_acc_step_500.json" in lines[0] and "authors' history" in lines[0]
