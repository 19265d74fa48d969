"""AMC 2023 (40 problems): temperature 0.6, mean of 8 samples per problem (avg@8)."""

from selector.benchmark import Benchmark, Sampling


def gold(row: dict) -> str:
    answer = row["answer"]
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))  # the file stores 27 as 27.0
    return str(answer)


BENCHMARK = Benchmark(
    name="amc23",
    description="AMC 2023, 40 problems (T=0.6, avg@8)",
    path="benchmarks/amc23/test.jsonl",
    hub=None,  # no canonical hub copy in this layout; use the Qwen2.5-Math evaluation file
    problem=lambda r: r["problem"],
    gold=gold,
    row_id=lambda r, i: r.get("id", i),
    paper=Sampling(temperature=0.6, samples=8, max_new_tokens=3072),
)
