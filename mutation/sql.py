"""Mutation testing of selector/store/views.sql (mutmut mutates Python only).

    python mutation/run.py --only views      # through the runner, with the other modules' table
    python mutation/sql.py                   # alone

Each mutant is one plausible slip applied at one place in views.sql: an aggregate swapped
(stddev_samp/stddev_pop, min/max, avg/sum, arg_max/arg_min, count_if -> count), an order
flipped (ASC/DESC), a comparison loosened or tightened (> / >= / < / <= / = / <>), a constant
nudged (0 -> 1, 1 -> 0, 0.9 -> 0.8, 4 -> 3, 120 -> 60, a window frame), a boolean flipped
(AND/OR, true/false), a filter or a NOT dropped, an arithmetic operator swapped (+ -, * /), a
partition or a DISTINCT dropped. For each, the store and view tests below run against a copy of
the package whose views.sql carries the mutant (in a forked child: the views are read at every
connect); a failing test kills it. Survivors judged equivalent are listed in
tests/mutation_survivors.md under "## views".
"""

import hashlib
import os
import re
import shutil
import sys
import time
from pathlib import Path

TESTS = ["tests/test_view_numbers.py", "tests/test_view_details.py", "tests/test_store.py", "tests/test_reliability.py::test_epoch_accuracy_counts_the_latest_attempt_of_each_step",
         "tests/test_reliability.py::test_ties_keep_the_order_in_which_a_run_first_met_the_examples",
         "tests/test_report.py::test_reflection_words_counts_the_papers_words",
         "tests/test_report.py::test_behaviour_and_saturation_views_from_hand_written_rows",
         "tests/test_compact.py", "tests/test_sweep.py::test_results_before_any_sweep_lists_every_run_with_its_evaluations",
         # the slow crash and multi-process tests hold the writers, not the views: left out
         "--deselect", "tests/test_compact.py::test_a_crash_between_any_two_steps_leaves_every_row_exactly_once",
         "--deselect", "tests/test_compact.py::test_a_real_sigkill_at_random_moments_never_loses_or_doubles_a_row",
         "--deselect", "tests/test_store.py::test_two_processes_write_two_shards_and_readers_see_one_store"]

# (name, pattern, replacement): every match of the pattern is one mutant (one place at a time).
RULES = [
    ("stddev_samp->pop", r"\bstddev_samp\b", "stddev_pop"),
    ("min->max", r"\bmin\(", "max("),
    ("max->min", r"\bmax\(", "min("),
    ("avg->sum", r"\bavg\(", "sum("),
    ("arg_max->arg_min", r"\barg_max\(", "arg_min("),
    ("arg_min->arg_max", r"\barg_min\(", "arg_max("),
    ("count_if->count", r"\bcount_if\(", "count("),
    ("any_value->min", r"\bany_value\(", "min("),
    ("DESC->ASC", r"\bDESC\b", "ASC"),
    ("ORDER BY x -> x DESC", r"(ORDER BY [a-z_]+(?:\([a-z_]+\))?)(?=[,)])", r"\1 DESC"),
    (">=->>", r">=", ">"),
    ("<=-><", r"<=", "<"),
    (">->>=", r"(?<![-=<>])>(?!=)", ">="),
    ("<-><=", r"(?<![-=<>])<(?![=>])", "<="),
    ("=-><>", r"(?<![<>!=])=(?![=>])", "<>"),
    ("AND->OR", r"\bAND\b", "OR"),
    ("OR->AND", r"(?<!CREATE )\bOR\b(?! REPLACE)", "AND"),
    ("NOT dropped", r"\bNOT ", ""),
    ("true->false", r"\btrue\b", "false"),
    ("false->true", r"\bfalse\b", "true"),
    ("+->-", r"(?<=\S) \+ (?=\S)", " - "),
    ("- -> +", r"(?<=\S) - (?=\S)", " + "),
    ("*->/", r"(?<=[\w)]) \* (?=[\w(])", " / "),
    ("/->*", r"(?<=[\w)]) / (?=[\w(])", " * "),
    ("0->1", r"(?<![\w.'])0(?![\w.'])", "1"),
    ("1->0", r"(?<![\w.'])1(?![\w.'])", "0"),
    ("1.0->0.0", r"\b1\.0\b", "0.0"),
    ("0.9->0.8", r"\b0\.9\b", "0.8"),
    ("4->3", r"(?<![\w.'])4(?![\w.'])", "3"),
    ("120->60", r"\b120\b", "60"),
    ("= 1 -> = 2 (first row)", r"= 1\n", "= 2\n"),
    ("PARTITION BY dropped", r"PARTITION BY [a-z_]+(?:, [a-z_]+)* ?(?=ORDER BY|\))", ""),
    ("DISTINCT dropped", r"\bDISTINCT ", ""),
    ("FILTER dropped", r" FILTER \(WHERE [^)]*\)", ""),
    ("UNION ALL BY NAME -> first only", r"\nUNION ALL BY NAME\n(?:(?!;).)*?(?=;)", ""),
    ("WHERE condition dropped", r"\bWHERE attempt = last_attempt\b", ""),
    ("round dropped", r"CAST\(round\(acc \* n\) AS BIGINT\)", "CAST(acc * n AS BIGINT)"),
    ("c / n -> c // n", r"avg\(c / n\)", "avg(c // n)"),
    ("::DOUBLE dropped", r"\(correct::DOUBLE\)", "(correct::INTEGER)"),
    ("coalesce default", r"coalesce\(r\.status, 'planned'\)", "r.status"),
]


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Spans of SQL code: comments (`-- ...`) are not mutated."""
    spans, pos = [], 0
    for m in re.finditer(r"--[^\n]*", text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


def mutants(text: str) -> list[tuple[str, int, str, str]]:
    """(rule, line number, mutated text, key) for every place every rule applies. The key names the
    mutant by its rule, the text of its line and its place in the line, not by the line number:
    it stays the same when lines are added above it (tests/mutation_survivors.md lists keys)."""
    spans = _code_spans(text)
    out = []
    for name, pattern, repl in RULES:
        for m in re.finditer(pattern, text, flags=re.DOTALL if "UNION" in name else 0):
            if not any(a <= m.start() and m.end() <= b for a, b in spans):
                continue
            mutated = text[:m.start()] + m.expand(repl) + text[m.end():]
            if mutated != text:
                line_start = text.rfind("\n", 0, m.start()) + 1
                line = text[line_start:text.find("\n", m.start())].strip()
                digest = hashlib.sha256(f"{name}|{line}|{m.start() - line_start}".encode()).hexdigest()[:8]
                out.append((name, text.count("\n", 0, m.start()) + 1, mutated, f"views.sql:{name}:{digest}"))
    return out


def _run_one(work: Path, mutated: str, timeout: float) -> bool:
    """True when the tests fail against the mutant (killed)."""
    (work / "selector" / "store" / "views.sql").write_text(mutated)
    pid = os.fork()
    if pid == 0:  # the child runs pytest in-process on the copy (imports already warm)
        os.chdir(work)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        import pytest

        code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *TESTS])
        os._exit(int(code))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) != 0
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return True  # a hang counts as caught (as mutmut's timeouts do)


def run(repo: Path, work: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(repo, work, ignore=shutil.ignore_patterns(".git", ".mutation", "mutants", "__pycache__",
                                                              ".pytest_cache", ".hypothesis", "*.egg-info"))
    original = (repo / "selector" / "store" / "views.sql").read_text()
    sys.path.insert(0, str(work))  # the copy's package, imported once here and inherited by each fork
    os.environ["HF_HUB_OFFLINE"] = "1"
    for mod in [m for m in sys.modules if m.split(".")[0] in ("selector", "trainer", "analysis")]:
        del sys.modules[mod]
    # Warm imports, inherited by every fork: each child then only collects and runs the tests.
    import duckdb  # noqa: F401
    import hypothesis  # noqa: F401
    import matplotlib  # noqa: F401
    import pyarrow  # noqa: F401
    import pytest  # noqa: F401

    import analysis.data  # noqa: F401
    import analysis.report  # noqa: F401
    import selector.cli.results  # noqa: F401
    import selector.cli.sweep  # noqa: F401
    import selector.store  # noqa: F401

    t = time.monotonic()
    assert not _run_one(work, original, 300), "the store tests fail on the unmutated views.sql"
    clean_s = time.monotonic() - t
    print(f"  views.sql: the tests take {clean_s:.0f} s on the unmutated views", file=sys.stderr)
    survived, killed, diffs = [], 0, {}
    found = mutants(original)
    for i, (rule, line, mutated, key) in enumerate(found):
        print(f"\r  views.sql: {i + 1}/{len(found)}", end="", flush=True, file=sys.stderr)
        if _run_one(work, mutated, max(30.0, 10 * clean_s)):
            killed += 1
        else:
            survived.append(key)
            old, new = original.splitlines()[line - 1], mutated.splitlines()[line - 1]
            diffs[key] = f"line {line}\n- {old.strip()}\n+ {new.strip()}"
    (work / "selector" / "store" / "views.sql").write_text(original)
    return {"mutants": len(found), "killed": killed, "survived": survived, "diffs": diffs, "not_run": []}


if __name__ == "__main__":
    repo = Path(__file__).resolve().parents[1]
    r = run(repo, repo / ".mutation" / "views")
    print(f"views.sql: {r['mutants']} mutants, {r['killed']} killed, {len(r['survived'])} survived")
    for k in r["survived"]:
        print(f"\n{k}\n{r['diffs'][k]}")
