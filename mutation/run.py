"""Mutation testing of the core: how many small planted bugs the tests catch, per module.

    pip install -e ".[train,dev]"          # mutmut and scipy come with dev
    python mutation/run.py                  # every module below, then the SQL views
    python mutation/run.py --only score,views --max-children 2

For each Python module, mutmut (3.x) runs in a fresh copy of this checkout under .mutation/<name>/
(so each module gets its own test selection), mutating only that module (and, where a module is
named by its functions, only those), and running for each mutant only that module's fast tests
that reach the mutated function. The views in selector/store/views.sql are mutated by
mutation/sql.py (mutmut mutates Python only). The table at the end: mutants, killed, survived,
the survivors judged equivalent (listed with reasons in tests/mutation_survivors.md), and the
score = (killed + equivalent) / mutants. Survivors not listed there are printed with their diffs
(`cd .mutation/NAME && mutmut show MUTANT` shows one again). Runs under `nice`; on 2 busy cores the
whole run takes about 40 minutes (README, "Mutation testing").
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".mutation"
SURVIVORS = REPO / "tests" / "mutation_survivors.md"

# name -> (file, mutant-name globs (None: every function of the file), the tests that hold it).
# Only fast tests (seconds): each mutant runs those of them that reach the mutated function.
MODULES = {
    "score": ("selector/score.py", None, ["tests/test_score.py", "tests/test_score_numbers.py"]),
    "ranking": ("selector/ranking.py", None, ["tests/test_score_numbers.py", "tests/test_ranking_store.py"]),
    "grader": ("selector/grader.py",
               [f"selector.grader.x_{f}__mutmut_*" for f in ("_fast_verdict", "_parses_surely", "_prepare", "_plain_decimal")],
               ["tests/test_grader_decimals.py", "tests/test_grader_fast_path.py"]),
    "equivalence": ("selector/equivalence.py",
                    [f"selector.equivalence.x{f}__mutmut_*" for f in (
                        "_close", "_numbers_equal", "__square_free", "__checked", "__add", "__mul", "__rational",
                        "__inverse", "__power", "__sqrt", "__factorial", "_read_number", "__decimal",
                        "_values_equal_exactly")] + ["selector.equivalence.xǁ_Readerǁ*"],
                    ["tests/test_grader_decimals.py", "tests/test_equivalence.py::test_read_number",
                     "tests/test_equivalence.py::test_close", "tests/test_equivalence.py::test_exact_numbers_never_use_the_tolerance",
                     "tests/test_number_reader.py", "tests/test_grader_fast_path.py"]),
    "sweep": ("selector/sweep.py",
              [f"selector.sweep.x_{f}__mutmut_*" for f in ("ints", "plan_items", "run_config")],
              ["tests/test_plan_numbers.py"]),
    "results": ("selector/results.py", None, ["tests/test_view_numbers.py", "tests/test_results_table.py"]),
    "recorder": ("trainer/recorder.py", None,
                 ["tests/test_recorder_numbers.py", "tests/test_multiprocess.py::test_recorder_numbers_chunks_and_processes_globally"]),
    "build_rows": ("selector/runs.py", ["selector.runs.x_build_rows__mutmut_*"], ["tests/test_plan_numbers.py"]),
}
SQL = "views"  # mutation/sql.py: selector/store/views.sql

_COPY_IGNORE = shutil.ignore_patterns(".git", ".mutation", "mutants", "__pycache__", ".pytest_cache", ".hypothesis",
                                      "rlvr-store*", "report", "exports", "*.egg-info", ".venv")


def equivalent(name: str) -> dict[str, str]:
    """Survivors judged equivalent, from tests/mutation_survivors.md: lines "- `MUTANT`: reason"
    under a `## name` heading."""
    out, section = {}, None
    for line in SURVIVORS.read_text().splitlines() if SURVIVORS.exists() else []:
        if line.startswith("## "):
            section = line[3:].strip().split()[0]
        elif section == name and (m := re.match(r"- `([^`]+)`: (.+)", line)):
            out[m[1]] = m[2]
    return out


def _toml_list(items) -> str:
    return "[" + ", ".join(json.dumps(str(x)) for x in items) + "]"


def run_mutmut(name: str, max_children: int) -> dict:
    path, globs, tests = MODULES[name]
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(REPO, work, ignore=_COPY_IGNORE)
    pyproject = (work / "pyproject.toml").read_text()
    pyproject = re.sub(r"\n\[tool\.mutmut\]\n(?:(?!\n\[).)*", "\n", pyproject, flags=re.DOTALL)
    pyproject += (f"\n[tool.mutmut]\nsource_paths = {_toml_list(['selector', 'trainer', 'analysis'])}\n"
                  f"only_mutate = {_toml_list([path])}\n"
                  f"pytest_add_cli_args = {_toml_list(['-p', 'no:cacheprovider', '-q'])}\n"
                  f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
                  # a mutant that loops forever (a parser that stops advancing) is cut at 5x its tests' time
                  "timeout_multiplier = 5.0\n"
                  "use_git_change_detection = false\n")
    (work / "pyproject.toml").write_text(pyproject)
    env = {**os.environ, "PYTHONPATH": "", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = ["nice", "-n", "10", sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *(globs or [])]
    log = work / "mutmut.log"
    with open(log, "w") as f:
        done = subprocess.run(cmd, cwd=work, env=env, stdout=f, stderr=subprocess.STDOUT)
    meta = work / "mutants" / (path + ".meta")
    if done.returncode != 0 or not meta.exists():
        raise SystemExit(f"mutmut failed for {name} (exit {done.returncode}); see {log}")
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    if globs:
        from fnmatch import fnmatch

        codes = {k: v for k, v in codes.items() if any(fnmatch(k, g) for g in globs)}
    killed = [k for k, v in codes.items() if v in (1, 3)]
    timeouts = [k for k, v in codes.items() if v in (36, -24, 24, 152, 255)]
    survived = sorted(k for k, v in codes.items() if k not in killed and k not in timeouts)
    diffs = {}
    for k in survived:
        shown = subprocess.run([sys.executable, "-m", "mutmut", "show", k], cwd=work, env=env, capture_output=True, text=True)
        diffs[k] = shown.stdout.strip()
    return {"mutants": len(codes), "killed": len(killed) + len(timeouts), "survived": survived, "diffs": diffs,
            "not_run": [k for k in survived if codes[k] not in (0,)]}


def report(results: dict) -> int:
    print(f"\n{'module':<12} {'mutants':>8} {'killed':>7} {'survived':>9} {'equivalent':>11} {'score':>7}")
    bad = 0
    for name, r in results.items():
        eq = equivalent(name)
        equiv = [k for k in r["survived"] if k in eq]
        score = (r["killed"] + len(equiv)) / r["mutants"] if r["mutants"] else 1.0
        print(f"{name:<12} {r['mutants']:>8} {r['killed']:>7} {len(r['survived']):>9} {len(equiv):>11} {100 * score:>6.1f}%")
        bad += score < 0.90
    total = {k: sum(r[k] if isinstance(r[k], int) else len(r[k]) for r in results.values()) for k in ("mutants", "killed", "survived")}
    total_eq = sum(len([k for k in r["survived"] if k in equivalent(n)]) for n, r in results.items())
    if total["mutants"]:
        print(f"{'all':<12} {total['mutants']:>8} {total['killed']:>7} {total['survived']:>9} {total_eq:>11} "
              f"{100 * (total['killed'] + total_eq) / total['mutants']:>6.1f}%")
    for name, r in results.items():
        eq = equivalent(name)
        for k in r["survived"]:
            if k not in eq:
                print(f"\n--- {name}: survived, not listed as equivalent: {k}"
                      f"{' (not run: ' + str(k in r['not_run']) + ')' if k in r['not_run'] else ''}\n{r['diffs'].get(k, '')}")
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma list of: {', '.join([*MODULES, SQL])}")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else [*MODULES, SQL]
    unknown = [n for n in names if n not in MODULES and n != SQL]
    if unknown:
        raise SystemExit(f"unknown module {unknown}; valid: {', '.join([*MODULES, SQL])}")
    results, start = {}, time.monotonic()
    for name in names:
        t = time.monotonic()
        if name == SQL:
            sys.path.insert(0, str(Path(__file__).parent))
            import sql

            results[name] = sql.run(REPO, WORK / SQL)
        else:
            results[name] = run_mutmut(name, args.max_children)
        print(f"{name}: {results[name]['mutants']} mutants in {time.monotonic() - t:.0f} s", flush=True)
    bad = report(results)
    print(f"\nwall time {time.monotonic() - start:.0f} s")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
