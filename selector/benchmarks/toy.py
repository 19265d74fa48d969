"""The toy world's held-out benchmark (400 generated problems, disjoint from the toy pool).

Sampled at the training temperature, 4 samples per problem (avg@4): a tiny model's greedy
decode hides what sampling can do. 56 new tokens: the longest toy solution is ~45.
"""

from selector.benchmark import Benchmark, Sampling
from selector.toy import benchmark_rows


def rows(seed: int) -> list[dict]:
    return [{"id": r["id"], "prompt": r["prompt"], "answer": r["answer"]} for r in benchmark_rows(seed)]


BENCHMARK = Benchmark(
    name="toy",
    description="toy benchmark, 400 generated arithmetic problems (T=0.6, avg@4)",
    path=None,
    problem=lambda r: r["prompt"],
    gold=lambda r: r["answer"],
    row_id=lambda r, i: r["id"],
    paper=Sampling(temperature=0.6, samples=4, max_new_tokens=56),
    generated=rows,
)
