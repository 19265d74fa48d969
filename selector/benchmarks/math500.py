"""MATH500 (Lightman et al. 2023's 500-problem subset of MATH): greedy, one sample."""

from selector.benchmark import Benchmark, Sampling

BENCHMARK = Benchmark(
    name="math500",
    description="MATH500, 500 competition problems (greedy)",
    path="benchmarks/math500/test.jsonl",
    hub=("HuggingFaceH4/MATH-500", None, "test"),
    problem=lambda r: r["problem"],
    # `answer` is the last \boxed{} of `solution` (tests/test_grader.py checks all 500 agree).
    gold=lambda r: r["answer"],
    row_id=lambda r, i: r.get("unique_id", i),
    paper=Sampling(temperature=0.0, samples=1, max_new_tokens=3072),
)
