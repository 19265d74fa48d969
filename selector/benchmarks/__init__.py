"""The benchmark registry: one file per benchmark (lighteval style), listed here by name.

`select eval --bench NAME` and evaluation during training look names up here; `math6` in a
benchmark list stands for the paper's six math benchmarks.
"""

from selector.benchmarks import aime24, aime25, amc23, arc, gsm8k, math500, minerva_math, olympiadbench, toy

BENCHMARKS = {
    "toy": toy.BENCHMARK,
    "math500": math500.BENCHMARK,
    "aime24": aime24.BENCHMARK,
    "aime25": aime25.BENCHMARK,
    "amc23": amc23.BENCHMARK,
    "minerva_math": minerva_math.BENCHMARK,
    "olympiadbench": olympiadbench.BENCHMARK,
    "gsm8k": gsm8k.BENCHMARK,
    "arc-e": arc.EASY,
    "arc-c": arc.CHALLENGE,
}

# The paper's six (its tables report their average).
MATH6 = ["math500", "aime24", "aime25", "amc23", "minerva_math", "olympiadbench"]
