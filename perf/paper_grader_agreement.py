"""Agreement of our two grading modes with the paper authors' own evaluation code.

    python perf/paper_grader_agreement.py                  # all six benchmarks (~1-2 min)
    python perf/paper_grader_agreement.py --bench aime24   # one benchmark
    python perf/paper_grader_agreement.py --list-strict    # every strict-mode disagreement too

The agreement set (selector/paper_agreement.py): ~4,000 completions built deterministically from
the six benchmark files in the data directory, and data/paper_grader_agreement.jsonl, the verdict
their Qwen2.5-Math evaluation code (One-Shot-RLVR @ 21ed529, run unchanged) gave each one.
For every completion this grades
- paper mode: selector.grader.grade(..., mode="paper", benchmark=...) against paper_gold;
- strict mode: the project's grader (selector.grader.Grader, the training reward) against the
  benchmark's own gold, as `select eval` reads it;
and prints, per benchmark and overall, how often each agrees with their verdict (and how often
paper mode extracts the same answer), then every paper-mode disagreement and the strict-mode
disagreements counted by variant. Nothing is asserted here; tests/test_paper_grader.py asserts
paper mode >= 98%.
"""

import argparse
import time
from collections import Counter

from selector.grader import Grader, grade
from selector.paper_agreement import BENCHMARKS, agreement, build_probes, load_verdicts, pair_up
from selector.paths import find_data_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", help="directory holding benchmarks/<name>/test.jsonl (default: the usual search)")
    ap.add_argument("--bench", default=",".join(BENCHMARKS), help="comma list of benchmarks (default: all six)")
    ap.add_argument("--list-strict", action="store_true", help="list every strict-mode disagreement too")
    args = ap.parse_args()

    benches = [b.strip() for b in args.bench.split(",") if b.strip()]
    unknown = [b for b in benches if b not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; valid: {', '.join(BENCHMARKS)}")
    path, searched = find_data_file(f"benchmarks/{benches[0]}/test.jsonl", args.data_dir)
    if path is None:
        raise SystemExit(f"benchmark data not found in {', '.join(map(str, searched))}; pass --data-dir")
    data_dir = path.parents[2]
    probes = build_probes(data_dir, benches)
    verdicts = {k: v for k, v in load_verdicts().items() if k[0] in benches}
    pairs = pair_up(probes, verdicts)
    print(f"{len(pairs):,} completions over {', '.join(benches)} (data: {data_dir})")

    t0 = time.monotonic()
    paper = [grade(p.completion, p.paper_gold, mode="paper", benchmark=p.bench) for p, _ in pairs]
    t1 = time.monotonic()
    with Grader() as grader:
        strict = grader.grade_many([p.completion for p, _ in pairs], [p.gold for p, _ in pairs])
    t2 = time.monotonic()
    print(f"paper mode {t1 - t0:.1f} s ({sum(g.timed_out for g in paper)} timeouts), strict mode {t2 - t1:.1f} s\n")

    paper_table, strict_table = agreement(pairs, paper), agreement(pairs, strict)
    same_pred = Counter(p.bench for (p, theirs), ours in zip(pairs, paper) if (theirs.extracted or None) == ours.extracted)
    same_pred["overall"] = sum(same_pred.values())
    print(f"{'benchmark':<14}{'n':>6}{'paper':>9}{'strict':>9}{'paper extracts':>16}")
    for bench, (agree, n) in paper_table.items():
        print(f"{bench:<14}{n:>6}{agree / n:>9.2%}{strict_table[bench][0] / n:>9.2%}{same_pred[bench] / n:>16.2%}")

    print("\npaper-mode disagreements (theirs vs ours):")
    for (p, theirs), ours in zip(pairs, paper):
        if ours.correct != theirs.correct:
            late = " (timed out)" if ours.timed_out else ""
            print(f"  {p.bench} row {p.row} {p.variant}: theirs {theirs.correct} {theirs.extracted!r}, "
                  f"ours {ours.correct} {ours.extracted!r}{late}; gold {p.paper_gold!r}")
    wrong = [(p, theirs, ours) for (p, theirs), ours in zip(pairs, strict) if ours.correct != theirs.correct]
    print(f"\nstrict-mode disagreements by variant ({len(wrong)}; theirs-correct/ours-correct):")
    by_variant = Counter((p.variant, theirs.correct) for p, theirs, _ in wrong)
    for variant in sorted({v for v, _ in by_variant}, key=lambda v: -by_variant[v, True] - by_variant[v, False]):
        print(f"  {variant:<24}{by_variant[variant, True]:>5} / {by_variant[variant, False]}")
    if args.list_strict:
        for p, theirs, ours in wrong:
            print(f"  {p.bench} row {p.row} {p.variant}: theirs {theirs.correct} {theirs.extracted!r}, "
                  f"strict {ours.correct} {ours.extracted!r}; gold {p.gold!r}")


if __name__ == "__main__":
    main()
