"""Minerva Math (272 OCW course problems): greedy, one sample.

The file has no answer field: the reference is the last \\boxed{} of the worked solution, as the
Qwen2.5-Math evaluation reads it.
"""

from selector.benchmark import Benchmark, Sampling
from selector.grader import extract_boxed

BENCHMARK = Benchmark(
    name="minerva_math",
    description="Minerva Math, 272 OCW problems (greedy)",
    path="benchmarks/minerva_math/test.jsonl",
    hub=None,  # hub copies use other fields (question/answer); use the Qwen2.5-Math evaluation file
    problem=lambda r: r["problem"],
    gold=lambda r: extract_boxed(r["solution"]) or "",
    row_id=lambda r, i: r.get("idx", i),
    paper=Sampling(temperature=0.0, samples=1, max_new_tokens=3072),
)
