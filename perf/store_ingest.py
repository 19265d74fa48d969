"""Store ingest: rollout rows through the store's append path vs pyarrow's Parquet writer.

    python perf/store_ingest.py                 # 1,000,000 rows (~3 GB of memory, a few minutes)
    python perf/store_ingest.py --quick         # 100,000 rows
    python perf/store_ingest.py --rows 300000 --repeats 3

The rows are what a paper-sized history run records: steps of 128 prompts x 8 rollouts = 1,024
rows, every column of the `rollouts` table filled, completions of realistic length (log-normal,
median 1,400 characters, ~2,000 on average, 40 to 12,000: Qwen2.5-Math responses of a few hundred
to ~3,000 tokens) cut from a generated corpus of math-like text, so that they compress like text
and no two are the same.

- store: what the trainer does each step, `ShardWriter.append("rollouts", rows)` with the row dicts
  the recorder builds, then `flush()` (one zstd Parquet part per step, written to a temporary name
  and renamed into place);
- raw writer (the baseline): the same rows as one Arrow table, `pyarrow.parquet.write_table` with
  the same compression into one file;
- raw writer per step: the same, one file per 1,024-row slice (what the per-step parts cost alone).
Building the row dicts and the Arrow table is not timed (the recorder builds the dicts anyway).
Runs alternate (raw, store, raw per step, raw, store, ...); the best of each is reported, as the
machine is shared. Target: the store reaches >= 0.5x the raw writer's rows/s.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from selector.store import TABLES, Store
from selector.store.schema import arrow_schema

ROWS_PER_STEP = 128 * 8
WORDS = ("the", "so", "we", "get", "then", "let", "thus", "therefore", "compute", "substitute", "solve", "check",
         "equation", "sum", "product", "value", "$x$", "$y$", "$n$", "$=$", "$+$", "$-$", "\\frac{1}{2}", "\\sqrt{2}",
         "Step", "1:", "2:", "3:", "is", "a", "of", "and", "to", "in", "wait,", "recheck", "answer", "\\boxed{")


def corpus(n_chars: int, rng) -> str:
    words = rng.choice(np.array(WORDS + tuple(str(i) for i in range(200))), size=n_chars // 4)
    return " ".join(words.tolist())


def make_steps(n_rows: int, seed: int = 0) -> list[list[dict]]:
    """The rows of each step as the recorder builds them."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(1400), 0.8, n_rows), 40, 12_000).astype(int)
    text = corpus(int(lengths.sum() // 8) + 200_000, rng)  # slices overlap; starts differ
    starts = rng.integers(0, len(text) - 12_001, n_rows)
    answers = rng.integers(-1000, 100_000, n_rows)
    correct = rng.random(n_rows) < 0.4
    steps, row = [], 0
    for step in range(1, (n_rows + ROWS_PER_STEP - 1) // ROWS_PER_STEP + 1):
        rows = []
        for k in range(min(ROWS_PER_STEP, n_rows - row)):
            i = row + k
            rows.append({
                "run_id": "history-bench-s0-0123456789", "attempt": 0, "step": step, "epoch": (step - 1) // 9 + 1,
                "example_id": str(int(answers[i]) % 1209), "batch_index": k // 8, "sample_index": k % 8,
                "completion": text[starts[i]: starts[i] + lengths[i]], "extracted": str(answers[i]),
                "reward": float(correct[i]), "correct": bool(correct[i]), "formatted": True,
                "completion_tokens": int(lengths[i] // 3.6), "grader_version": "g1+math-verify-0.9.0",
            })
        row += len(rows)
        steps.append(rows)
    return steps


def time_store(steps, root: Path) -> float:
    store = Store.open(root, create=True)
    writer = store.run_writer("history-bench")
    started = time.perf_counter()
    for rows in steps:
        writer.append("rollouts", rows)
        writer.flush()
    return time.perf_counter() - started


def time_raw(table, path: Path) -> float:
    import pyarrow.parquet as pq

    started = time.perf_counter()
    pq.write_table(table, path, compression="zstd")
    return time.perf_counter() - started


def time_raw_per_step(table, folder: Path) -> float:
    import pyarrow.parquet as pq

    folder.mkdir()
    started = time.perf_counter()
    for i, start in enumerate(range(0, table.num_rows, ROWS_PER_STEP)):
        pq.write_table(table.slice(start, ROWS_PER_STEP), folder / f"{i:06d}.parquet", compression="zstd")
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each writer, alternating (best is reported)")
    args = parser.parse_args()
    n_rows = 100_000 if args.quick else args.rows

    import pyarrow as pa

    started = time.perf_counter()
    steps = make_steps(n_rows)
    columns = {c: [r[c] for rows in steps for r in rows] for c in TABLES["rollouts"]}
    table = pa.table(columns, schema=arrow_schema("rollouts"))
    del columns
    text_mb = sum(len(r["completion"]) for rows in steps for r in rows) / 1e6
    print(f"{n_rows:,} rows in {len(steps)} steps of {ROWS_PER_STEP}, {text_mb:,.0f} MB of completion text "
          f"(mean {1e6 * text_mb / n_rows:,.0f} chars), built in {time.perf_counter() - started:.1f} s (not timed)")

    times = {"raw writer, one file": [], "store append + flush, one part per step": [], "raw writer, one file per step": []}
    tmp = Path(tempfile.mkdtemp(prefix="store-ingest-"))
    try:
        for r in range(args.repeats):
            times["raw writer, one file"].append(time_raw(table, tmp / f"raw{r}.parquet"))
            times["store append + flush, one part per step"].append(time_store(steps, tmp / f"store{r}"))
            times["raw writer, one file per step"].append(time_raw_per_step(table, tmp / f"raw_steps{r}"))
            sizes = {"raw": (tmp / f"raw{r}.parquet").stat().st_size,
                     "store": sum(p.stat().st_size for p in (tmp / f"store{r}" / "rollouts" / "history-bench").iterdir())}
            print(f"  run {r + 1}: " + ", ".join(f"{k} {t[-1]:.2f} s" for k, t in times.items()))
            for p in (tmp / f"raw{r}.parquet", tmp / f"store{r}", tmp / f"raw_steps{r}"):
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    base = n_rows / min(times["raw writer, one file"])
    print(f"\nfiles: raw {sizes['raw'] / 1e6:,.0f} MB, store {sizes['store'] / 1e6:,.0f} MB ({len(steps)} parts)")
    print(f"{'writer':<42}{'best s':>9}{'rows/s':>12}{'MB/s':>9}{'vs raw':>9}")
    for name, t in times.items():
        rate = n_rows / min(t)
        print(f"{name:<42}{min(t):>9.2f}{rate:>12,.0f}{text_mb / min(t):>9.0f}{rate / base:>8.2f}x")
    ratio = n_rows / min(times["store append + flush, one part per step"]) / base
    print(f"\ntarget: store >= 0.5x the raw writer's rows/s: {ratio:.2f}x, {'met' if ratio >= 0.5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
