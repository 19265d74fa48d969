"""Where the grader's workers spend their time on perf/grader_speed.py's mix: parsing (ANTLR, inside
math-verify's LaTeX parser) against verifying, and how much ANTLR's prediction cache matters.

    python perf/grader_parse.py          # ~1-2 minutes on 2 cores
    python perf/grader_parse.py --quick  # every 4th question

The questions are the ones the grader sends to its workers (`selector.grader._prepare` on the
benchmark pairs of perf/grader_speed.py: what the parent cannot settle). Each figure is measured
in a fresh interpreter (a child of this script), so ANTLR's prediction cache (its DFA, one per
process, grown by every parse) starts empty, as in a new worker:
- split: every question as a worker answers it (`_math_verify_fast`: the gold's parse, the
  answer's parse, then verify), CPU seconds of each part;
- cache: the distinct texts (golds and answers) in a fixed shuffled order cut in two halves;
  the CPU time to parse the second half in a fresh process, and after parsing the first half;
- warm-up: every distinct text parsed cold, and after the 60 answers each worker parses at
  start-up (`selector.grader._warm_up`), with that warm-up's own time.
No figure is asserted.
"""

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def questions(every: int = 1) -> list[tuple[str, str]]:
    """(answer, normalised gold) of every distinct question for math-verify (every `every`-th), in mix order."""
    sys.path.insert(0, str(HERE))
    from grader_speed import build_mix

    from selector.grader import _prepare, _Question

    out = {}
    for kind, completion, gold in build_mix():
        if kind.startswith("pathological"):
            continue
        q = _prepare(completion, gold, fallback=False)
        if isinstance(q, _Question):
            out.setdefault((q.pred, q.norm_gold), None)
    return list(out)[::every]


def child(mode: str, qs: list[tuple[str, str]]) -> dict:
    import logging

    from selector import grader, verify_speedup

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    grader._grade("\\boxed{x^2}", "x^{2}", False)  # sympy and the parser loaded, as a worker does first
    if mode == "split":
        parse_gold = parse_pred = verify = 0.0
        for pred, gold in qs:
            t0 = time.process_time()
            gp = grader._parse_gold(gold, None, fast=True)
            t1 = time.process_time()
            pp = grader._parse_pred(pred, None, fast=True)
            t2 = time.process_time()
            with verify_speedup.enabled():
                grader._verify(gp, pp, None, (gold, pred))
            verify += time.process_time() - t2
            parse_gold, parse_pred = parse_gold + t1 - t0, parse_pred + t2 - t1
        return {"questions": len(qs), "parse_gold": parse_gold, "parse_pred": parse_pred, "verify": verify}
    texts = sorted({t for q in qs for t in q})
    random.Random(0).shuffle(texts)
    first, second = texts[: len(texts) // 2], texts[len(texts) // 2:]

    def parse_all(items) -> float:
        t = time.process_time()
        with verify_speedup.enabled():
            for x in items:
                grader._boxed_parse(x, None, True, True)
        return time.process_time() - t

    if mode == "half-cold":
        return {"texts": len(second), "seconds": parse_all(second)}
    if mode == "half-warm":
        return {"texts": len(second), "before": parse_all(first), "seconds": parse_all(second)}
    if mode == "all-cold":
        return {"texts": len(texts), "seconds": parse_all(texts)}
    if mode == "all-after-warm-up":
        t = time.process_time()
        grader._warm_up()
        return {"texts": len(texts), "warm_up": time.process_time() - t, "seconds": parse_all(texts)}
    raise ValueError(mode)


MODES = ("split", "half-cold", "half-warm", "all-cold", "all-after-warm-up")


def run_child(mode: str, every: int) -> dict:
    got = subprocess.run([sys.executable, __file__, "--child", mode, "--every", str(every)], capture_output=True,
                         text=True, check=True)
    return json.loads(got.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every 4th question")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)  # one measurement, in a fresh process
    parser.add_argument("--every", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, questions(args.every))))
        return
    every = 4 if args.quick else 1
    split = run_child("split", every)
    total = split["parse_gold"] + split["parse_pred"] + split["verify"]
    print(f"{split['questions']} distinct questions for math-verify, answered in one fresh process: {total:.2f} CPU-s")
    for part in ("parse_gold", "parse_pred", "verify"):
        print(f"  {part:<11} {split[part]:6.2f} s  ({100 * split[part] / total:.0f}%)")
    cold, warm = run_child("half-cold", every), run_child("half-warm", every)
    print(f"\nANTLR's prediction cache: {cold['texts']} texts parse in {cold['seconds']:.2f} CPU-s in a fresh process, "
          f"{warm['seconds']:.2f} s after the other {cold['texts']} ({warm['before']:.2f} s) ({cold['seconds'] / warm['seconds']:.1f}x)")
    a, b = run_child("all-cold", every), run_child("all-after-warm-up", every)
    print(f"every distinct text ({a['texts']}): {a['seconds']:.2f} CPU-s cold, {b['seconds']:.2f} s after the workers' "
          f"start-up warm-up (itself {b['warm_up']:.2f} s)")


if __name__ == "__main__":
    main()
