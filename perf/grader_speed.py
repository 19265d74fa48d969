"""Grader throughput: the project's batch grader on every core vs math-verify called directly.

    python perf/grader_speed.py              # the whole mix (5,547 pairs; 2-4 minutes)
    python perf/grader_speed.py --quick      # every 4th pair

The mix, from the six evaluation benchmarks in the data directory (MATH500, Minerva, OlympiadBench,
AIME24, AIME25, AMC23: 1,547 golds, read as `selector eval` reads them):
- each gold boxed in a sentence (right);
- a wrong boxed answer: N+1 and -N for a numeric gold; otherwise a near miss, the gold with its
  last digit moved by one (`\\frac{4}{3}` -> `\\frac{4}{4}`), or the next problem's gold if it has no digit;
- the whole worked solution (MATH500, Minerva: right) and the next problem's solution (wrong);
- pathological answers: a tower of powers, 1000000!, 100k nested braces, unbalanced braces,
  bytes that are not UTF-8, a 10 MB sum, a 10 MB answer without a box.

Figures:
- baseline: math-verify called directly, one pair after another in this process (parse the boxed
  gold, parse the completion, verify), on every 10th non-pathological pair (the pathological ones
  hang it for minutes: that is what the hard timeout is for);
- slow path: `selector.grader._grade_slow` (our extraction and normalisation, math-verify on every
  pair under the grader's rules, no fast path, no memo) on every non-pathological pair, spread over
  all cores. Its verdicts are the reference: the fast path may only skip work, so the Grader must
  agree on every pair;
- math-verify: every verdict where the grader differs from math-verify is printed, for the
  closing note to justify, against math-verify alone (the baseline's call on the raw completion)
  and against `selector.grader._grade_math_verify` (the grader's extraction and normalisation,
  then plain math-verify: the differences its comparison rules make);
- Grader: `selector.grader.Grader` on the whole mix, warm workers (`grader.default_workers()`:
  one per CPU this process may use; their start-up is printed apart). The parent settles what
  needs no math-verify; the workers get each distinct (answer, gold) question once, with a hard
  5 s deadline. Latency is from sending a pair's question to a worker until its verdict is in.
- CPU time: what the parent and each worker spent on the benchmark pairs (from /proc), and the
  pairs/s that makes on idle cores (the parent plans before it sends: its CPU time plus the
  busiest worker's). On a shared machine wall time stretches with the other processes' load (the
  load average is printed before and after); CPU time much less, so the ratio to the baseline is
  given both ways.
No figure is asserted: this prints them, with the ratio to the baseline and whether the target
(>= 1,000 pairs/s on 2 cores, verdicts identical to the slow path, max latency bounded by the
deadline) is met. Other processes on the machine lower every figure: say so when quoting them.
"""

import argparse
import json
import multiprocessing as mp
import os
import re
import statistics
import sys
import time
from decimal import Decimal, localcontext

from selector.benchmark import load_rows
from selector.benchmarks import get_benchmark
from selector.grader import (
    Grader,
    _gold_problem,
    _grade_math_verify,
    _grade_slow,
    _normalize,
    _prepare,
    _Question,
    _same_clock_time,
    default_workers,
    extract_boxed,
)
from selector.paths import find_data_file

BENCHMARKS = ["math500", "minerva_math", "olympiadbench", "aime24", "aime25", "amc23"]
# Benchmarks whose rows carry a worked solution ending in a boxed answer.
SOLUTIONS = {"math500": "solution", "minerva_math": "solution"}
TIMEOUT_S = 5.0  # the deadline the trainer and `selector eval` use
NESTED = 100_000
_NUMERIC = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
_DIGIT = re.compile(r"\d")

PATHOLOGICAL = [
    ("tower of powers", "\\boxed{9^{9^{9^{9}}}}", "5"),
    ("1000000!", "\\boxed{1000000!}", "5"),
    ("100k nested braces", "\\boxed{" + "{" * NESTED + "1" + "}" * NESTED + "}", "5"),
    ("unbalanced braces", "\\boxed{" + "{" * NESTED, "5"),
    ("not UTF-8", (b"so \\boxed{5\xff\xfe\xc3} " + bytes(range(128, 256))).decode("utf-8", "surrogateescape"), "5"),
    ("10 MB sum", "\\boxed{" + "1+" * 5_000_000 + "1}", "5"),
    ("10 MB, no box", "y" * 10_000_000, "5"),
]


def _solutions(name: str) -> list[str]:
    path, _ = find_data_file(get_benchmark(name).path)
    return [json.loads(line)[SOLUTIONS[name]] for line in open(path, encoding="utf-8")]


def _wrong_numbers(gold: str) -> list[str]:
    with localcontext() as ctx:
        ctx.prec = 200
        n = Decimal(gold.strip())
        return [format(n + 1, "f"), format(-n, "f")] if n != 0 else [format(n + 1, "f")]


def build_mix() -> list[tuple[str, str, str]]:
    """[(kind, completion, gold)]: the benchmark pairs, then the pathological ones."""
    pairs = []
    for name in BENCHMARKS:
        golds = [r["answer"] for r in load_rows(get_benchmark(name))]
        for i, gold in enumerate(golds):
            pairs.append(("right, boxed", f"The answer is $\\boxed{{{gold}}}$.", gold))
            if _NUMERIC.fullmatch(gold.strip()):
                wrong = _wrong_numbers(gold)
            elif _DIGIT.search(gold):  # a near miss: the last digit of the gold moved by one
                m = list(_DIGIT.finditer(gold))[-1]
                wrong = [gold[: m.start()] + str((int(m.group()) + 1) % 10) + gold[m.end():]]
            else:
                wrong = [golds[(i + 1) % len(golds)]]
            pairs += [("wrong, boxed", f"The answer is $\\boxed{{{w}}}$.", gold) for w in wrong]
        if name in SOLUTIONS:
            sols = _solutions(name)
            for i, (gold, sol) in enumerate(zip(golds, sols)):
                pairs.append(("right, worked solution", sol, gold))
                other = sols[(i + 1) % len(sols)]
                if extract_boxed(other) != extract_boxed(sol):
                    pairs.append(("wrong, worked solution", other, gold))
    return pairs + [("pathological: " + case, c, g) for case, c, g in PATHOLOGICAL]


def plain_math_verify(pairs) -> tuple[float, float]:
    """Pairs per second of math-verify used directly, as its README shows, in this process: by
    the wall clock, and by this process's CPU time (what it would take on an idle core)."""
    from math_verify import parse, verify

    parse("\\boxed{1}")  # sympy and the parser are loaded before the clock starts
    started, cpu = time.perf_counter(), time.process_time()
    for _, completion, gold in pairs:
        verify(parse("\\boxed{" + gold + "}"), parse(completion))
    return len(pairs) / (time.perf_counter() - started), len(pairs) / (time.process_time() - cpu)


def _answered_without_math_verify(completion: str, gold: str) -> str | None:
    """How `grade` decides this pair before math-verify, if it does (the memo aside)."""
    got = _prepare(completion, gold, fallback=False)
    if isinstance(got, _Question):
        return None
    if not got.formatted:
        return "no answer"
    pred, norm_gold = _normalize(got.extracted), _normalize(gold)
    if not pred or _gold_problem(gold, norm_gold) is not None:
        return "bad gold or empty answer"
    if _same_clock_time(pred, norm_gold) is not None:
        return "clock time"
    plain = _NUMERIC.fullmatch(pred) and _NUMERIC.fullmatch(norm_gold)
    return "plain numbers" if plain else "exact expressions (fractions, radicals, pi, ...)"


def _slow(item):
    return _grade_slow(item[0], item[1])


def _plain(item):
    return _grade_math_verify(item[0], item[1])


def _alone(item):
    """math-verify alone, as plain_math_verify calls it: True, False, or None if it raised."""
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    completion, gold = item
    return verify(parse("\\boxed{" + gold + "}"), parse(completion))


def _cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used, from /proc (Linux); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class TimedGrader(Grader):
    """The project's Grader, noting how long the parent's own pass takes and, for each job sent
    to a worker, when it is sent and when its verdict is in (a job answers 1+ items); and the CPU
    time the parent and each worker spent on the call (workers replaced mid-call not counted)."""

    def grade_many(self, completions, golds):
        self.sent, self.latency, self.jobs_sent, self.plan_s = {}, {}, 0, 0.0
        before = {w.proc.pid: _cpu_s(w.proc.pid) for w in self._pool}
        parent = time.process_time()
        try:
            return super().grade_many(completions, golds)
        finally:
            self.parent_cpu_s = time.process_time() - parent
            after = {w.proc.pid: _cpu_s(w.proc.pid) for w in self._pool}
            self.worker_cpu_s = [after[p] - before[p] for p in before if before[p] is not None and after.get(p) is not None]

    def _plan(self, completions, golds, results):
        started = time.perf_counter()
        jobs = super()._plan(completions, golds, results)
        self.plan_s = time.perf_counter() - started
        return jobs

    def _send(self, w, job, results):
        self.jobs_sent += 1
        for i in job.items:
            self.sent[i] = time.perf_counter()
        super()._send(w, job, results)

    def _poll(self, results):
        super()._poll(results)
        now = time.perf_counter()
        for i in [i for i in self.sent if results[i] is not None]:
            self.latency[i] = now - self.sent.pop(i)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every 4th pair of the mix (pathological ones all kept)")
    parser.add_argument("--workers", type=int, default=None, help="grader workers (default: grader.default_workers())")
    args = parser.parse_args()

    mix = build_mix()
    normal = [p for p in mix if not p[0].startswith("pathological")]
    patho = [p for p in mix if p[0].startswith("pathological")]
    if args.quick:
        normal = normal[::4]
    mix = normal + patho
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = args.workers or default_workers()
    kinds = {}
    for kind, *_ in normal:
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"mix: {len(mix)} pairs on {cores} cores: " + ", ".join(f"{n} {k}" for k, n in kinds.items()) + f", {len(patho)} pathological")
    print(f"load average before: {os.getloadavg()[0]:.2f} (runnable processes on {os.cpu_count()} CPUs; above ~1 others share the cores)")

    # Interleaved runs are not needed here: each figure is one long pass, and the Grader runs last.
    sample = normal[::10]
    base, base_cpu = plain_math_verify(sample)
    print(f"baseline, math-verify directly, 1 process: {base:.1f} pairs/s over {len(sample)} pairs ({base_cpu:.1f} by CPU time)")

    started = time.perf_counter()
    with mp.get_context("spawn").Pool(cores) as pool:
        reference = pool.map(_slow, [(c, g) for _, c, g in normal], chunksize=16)
    slow_rate = len(normal) / (time.perf_counter() - started)
    print(f"slow path (_grade_slow), {cores} processes: {slow_rate:.1f} pairs/s over {len(normal)} pairs (reference verdicts)")
    with mp.get_context("spawn").Pool(cores) as pool:
        plain = pool.map(_plain, [(c, g) for _, c, g in normal], chunksize=16)
        alone = pool.map(_alone, [(c, g) for _, c, g in normal], chunksize=16)

    with TimedGrader(workers=workers, timeout_s=TIMEOUT_S) as grader:
        started = time.perf_counter()
        # Start the workers: numbers would be settled in the parent, so one distinct question each.
        grader.grade_many([f"\\boxed{{x^{k + 2}}}" for k in range(workers)], [f"x^{{{k + 2}}}" for k in range(workers)])
        startup = time.perf_counter() - started
        started = time.perf_counter()
        got_normal = grader.grade_many([c for _, c, _ in normal], [g for _, _, g in normal])
        t_normal = time.perf_counter() - started
        lat_normal, plan_s, jobs_normal = list(grader.latency.values()), grader.plan_s, grader.jobs_sent
        worker_cpu, parent_cpu = grader.worker_cpu_s, grader.parent_cpu_s
        started = time.perf_counter()
        got_patho = grader.grade_many([c for _, c, _ in patho], [g for _, _, g in patho])
        t_patho = time.perf_counter() - started
        lat_patho = [grader.latency.get(i, grader.plan_s) for i in range(len(patho))]  # else settled in the parent
    rate_normal = len(normal) / t_normal
    rate_mix = len(mix) / (t_normal + t_patho)
    lat = sorted(lat_normal + lat_patho)
    p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(0.99 * len(lat)))]

    # The verdict is (correct, formatted, extracted); timed_out only says which deadline ended a
    # pair (the Grader's hard one, or math-verify's own 5 s alarm in the slow path).
    differ = [(k, c[:80], g, want, got) for (k, c, g), want, got in zip(normal, reference, got_normal)
              if (want.correct, want.formatted, want.extracted) != (got.correct, got.formatted, got.extracted)]
    # Where the grader's rules give another verdict than plain math-verify (timeouts aside: a
    # deadline decides those, not a rule).
    changed = [(k, got.extracted, g, mv.correct, got.correct) for (k, c, g), mv, got in zip(normal, plain, got_normal)
               if mv.correct != got.correct and not (mv.timed_out or got.timed_out)]
    changed_alone = [(k, got.extracted, g, mv, got.correct) for (k, c, g), mv, got in zip(normal, alone, got_normal)
                     if mv != got.correct and not got.timed_out]
    deadline_hits = sum(g.timed_out for g in got_normal)
    how = {}
    for _, c, g in normal:
        way = _answered_without_math_verify(c, g)
        how[way] = how.get(way, 0) + 1
    fast = len(normal) - how.get(None, 0)
    patho_wrong = [k for (k, _, _), g in zip(patho, got_patho) if g.correct]
    print(f"Grader, {workers} workers (start-up {startup:.1f} s, not counted):")
    print(f"  benchmark pairs:        {rate_normal:8.1f} pairs/s  ({len(normal)} pairs in {t_normal:.2f} s)")
    print(f"  pathological pairs:     {len(patho)} in {t_patho:.2f} s, {sum(g.timed_out for g in got_patho)} hit the {TIMEOUT_S:.0f} s deadline, "
          f"{len(patho) - len(patho_wrong)}/{len(patho)} graded incorrect")
    for (k, _, _), g, t in zip(patho, got_patho, lat_patho):
        print(f"    {k[len('pathological: '):]:<20} {t:6.2f} s  correct={g.correct} timed_out={g.timed_out}")
    print(f"  whole mix:              {rate_mix:8.1f} pairs/s  ({len(mix)} pairs in {t_normal + t_patho:.2f} s)")
    # Other processes on the machine stretch wall time; CPU time says what the work itself costs.
    # The parent plans before it sends, so on idle cores the batch takes its CPU time plus the
    # busiest worker's.
    idle = len(normal) / (parent_cpu + max(worker_cpu)) if len(worker_cpu) == workers else None
    print(f"  CPU time on the benchmark pairs: parent {parent_cpu:.2f} s, workers " + " + ".join(f"{c:.2f}" for c in worker_cpu)
          + " s" + (f"; on {workers} idle cores that is {idle:.0f} pairs/s" if idle else ""))
    print(f"  settled in the parent (extraction, normalisation, fast path): {len(normal) - len(lat_normal)} of "
          f"{len(normal)} benchmark pairs, in {plan_s:.2f} s; the other {len(lat_normal)} went to workers as "
          f"{jobs_normal} distinct math-verify questions")
    print(f"  latency per pair sent to a worker (send to verdict): p50 {1e3 * p50:.2f} ms, p99 {1e3 * p99:.2f} ms, "
          f"max {max(lat):.2f} s; benchmark pairs only: p50 {1e3 * statistics.median(lat_normal):.2f} ms, max {max(lat_normal):.2f} s")
    print(f"  answered without math-verify: {fast} of {len(normal)} benchmark pairs ("
          + ", ".join(f"{n} {way}" for way, n in how.items() if way) + f"); {deadline_hits} benchmark pair(s) hit the deadline")
    print(f"  verdicts differing from the slow path: {len(differ)} of {len(normal)}")
    for d in differ[:10]:
        print("    ", d)
    print(f"  verdicts differing from math-verify alone (raw completion): {len(changed_alone)} of {len(normal)}")
    for kind, answer, gold, mv, got in changed_alone:
        print(f"    {kind:<24} answer {answer!r:.60} gold {gold!r:.60}: math-verify {mv}, grader {got}")
    print(f"  verdicts differing from plain math-verify after the grader's normalisation (its rules): {len(changed)} of {len(normal)}")
    for kind, answer, gold, mv, got in changed:
        print(f"    {kind:<24} answer {answer!r:.60} gold {gold!r:.60}: math-verify {mv}, grader {got}")

    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print()
    print(f"{'figure':<46}{'value':>14}{'target':>16}  met")
    rows = [
        ("Grader, benchmark pairs (pairs/s)", f"{rate_normal:.0f}", ">= 1000", rate_normal >= 1000),
        ("Grader, whole mix incl. pathological (pairs/s)", f"{rate_mix:.0f}", ">= 1000", rate_mix >= 1000),
        ("ratio to math-verify directly (benchmark pairs)", f"{rate_normal / base:.1f}x", "", None),
        ("from CPU time, on idle cores (pairs/s)", f"{idle:.0f}" if idle else "n/a", ">= 1000", None if not idle else idle >= 1000),
        ("... its ratio to math-verify by CPU time", f"{idle / base_cpu:.1f}x" if idle else "n/a", "", None),
        ("verdicts differing from the slow path", f"{len(differ)}", "0", not differ),
        ("verdicts differing from math-verify alone", f"{len(changed_alone)}", "listed", None),
        ("... from math-verify after our normalisation", f"{len(changed)}", "listed", None),
        ("pathological pairs graded correct", f"{len(patho_wrong)}", "0", not patho_wrong),
        ("max latency (s)", f"{max(lat):.2f}", f"<= {TIMEOUT_S:.0f} + 1", max(lat) <= TIMEOUT_S + 1),
    ]
    for name, value, target, met in rows:
        print(f"{name:<46}{value:>14}{target:>16}  {'' if met is None else 'yes' if met else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
