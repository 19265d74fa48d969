"""GSM8K test (1,319 grade-school word problems): greedy, one sample.

The answer field is a worked solution ending in `#### <number>`; the number is the reference.
"""

from selector.benchmark import Benchmark, Sampling


def gold(row: dict) -> str:
    return row["answer"].rsplit("####", 1)[1].strip().replace(",", "")


BENCHMARK = Benchmark(
    name="gsm8k",
    description="GSM8K test, 1,319 problems (greedy)",
    path="benchmarks/gsm8k/test.jsonl",
    hub=("openai/gsm8k", "main", "test"),
    problem=lambda r: r["question"],
    gold=gold,
    row_id=lambda r, i: r.get("idx", i),
    paper=Sampling(temperature=0.0, samples=1, max_new_tokens=3072),
)
