"""CLI start-up: `selector --help` wall time, and what importing the package costs and loads.

    python perf/cli_startup.py              # 15 runs of each, interleaved
    python perf/cli_startup.py --quick      # 5 runs

Each figure is a fresh process, so it includes the interpreter's own start; the baseline is
`python -c pass`, run interleaved with the others. Figures are medians (and the best run).
- `selector --help`: the installed console script (`select` is the same entry point);
- `python -m selector --help`;
- `import selector` and `import selector.cli` + building the whole parser, timed inside a fresh
  interpreter, with the heavy modules that were loaded (none may be: torch above all).
Target: `selector --help` < 0.3 s.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import time

HEAVY = ("torch", "transformers", "trl", "datasets", "duckdb", "pyarrow", "numpy", "sympy", "math_verify", "rich", "pandas",
         "polars", "yaml")

IMPORT_PROBE = """
import sys, time
started = time.perf_counter()
import selector
package = time.perf_counter() - started
import selector.cli as cli
cli.build_parser()
total = time.perf_counter() - started
print(package, total, ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def wall(argv: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()[-500:]}")
    return took


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="5 runs")
    args = parser.parse_args()
    runs = 5 if args.quick else args.runs

    script = shutil.which("selector")
    if script is None:
        raise SystemExit("the `selector` script is not on PATH: pip install -e . first")
    commands = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "selector --help": [script, "--help"],
        "python -m selector --help": [sys.executable, "-m", "selector", "--help"],
    }
    times = {name: [] for name in commands}
    imports, loaded = [], set()
    for name, argv in commands.items():
        wall(argv)  # warm the file cache once
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(wall(argv))
        out = subprocess.run([sys.executable, "-c", IMPORT_PROBE.format(heavy=HEAVY)], capture_output=True, text=True, check=True).stdout.split()
        imports.append((float(out[0]), float(out[1])))
        loaded |= set(out[2].split(",")) if len(out) > 2 else set()

    base = statistics.median(times["python -c pass (baseline)"])
    print(f"{'command':<34}{'median s':>10}{'best s':>9}{'vs python':>11}")
    for name, t in times.items():
        print(f"{name:<34}{statistics.median(t):>10.3f}{min(t):>9.3f}{statistics.median(t) / base:>10.1f}x")
    pkg, cli = statistics.median(i[0] for i in imports), statistics.median(i[1] for i in imports)
    print(f"\nimport selector: {1e3 * pkg:.1f} ms; import selector.cli + build the parser: {1e3 * cli:.1f} ms (median, in-process)")
    print(f"heavy modules loaded by that: {', '.join(sorted(loaded)) or 'none'} (checked: {', '.join(HEAVY)})")
    helptime = statistics.median(times["selector --help"])
    print(f"\ntarget: selector --help < 0.3 s: {helptime:.3f} s, {'met' if helptime < 0.3 else 'NOT met'}; "
          f"torch absent from sys.modules: {'yes' if 'torch' not in loaded else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
