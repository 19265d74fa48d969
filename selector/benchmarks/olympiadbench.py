"""OlympiadBench (675 English text-only math problems): greedy, one sample.

`final_answer` is a list of LaTeX strings; the first is the reference (paper-setup.md). Math in it
is often wrapped in `$...$` (or `$a$, $b$` for several answers): the dollars are dropped.
"""

from selector.benchmark import Benchmark, Sampling

BENCHMARK = Benchmark(
    name="olympiadbench",
    description="OlympiadBench, 675 problems (greedy)",
    path="benchmarks/olympiadbench/test.jsonl",
    hub=("Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train"),
    problem=lambda r: r["question"],
    gold=lambda r: r["final_answer"][0].replace("$", ""),
    row_id=lambda r, i: r.get("id", i),
    paper=Sampling(temperature=0.0, samples=1, max_new_tokens=3072),
)
