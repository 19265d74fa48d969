"""AIME 2024 (30 problems): temperature 0.6, mean of 8 samples per problem (avg@8)."""

from selector.benchmark import Benchmark, Sampling

BENCHMARK = Benchmark(
    name="aime24",
    description="AIME 2024, 30 problems (T=0.6, avg@8)",
    path="benchmarks/aime24/test.jsonl",
    hub=("HuggingFaceH4/aime_2024", None, "train"),
    problem=lambda r: r["problem"],
    gold=lambda r: r["answer"],
    row_id=lambda r, i: r.get("id", i),
    paper=Sampling(temperature=0.6, samples=8, max_new_tokens=3072),
)
