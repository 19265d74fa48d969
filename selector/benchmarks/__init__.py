"""The benchmark registry: one file per benchmark (lighteval style), listed here by name.

`select eval --bench NAME` and evaluation during training look names up here; `math6` in a
benchmark list stands for the paper's six math benchmarks. What a definition declares, the
sampling protocols and the loader are in selector/benchmark.py.
"""

from selector.benchmark import Benchmark, Sampling, load_rows, sampling
from selector.benchmarks import aime24, aime25, amc23, arc, gsm8k, math500, minerva_math, olympiadbench, toy
from selector.errors import UserError

BENCHMARKS: dict[str, Benchmark] = {
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


def get_benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        raise UserError(f"unknown benchmark {name!r}; valid benchmarks: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


def parse_names(text: str) -> list[str]:
    """A comma list of benchmark names, checked; `math6` stands for the paper's six."""
    names = []
    for name in (n.strip() for n in text.split(",")):
        for n in (MATH6 if name == "math6" else [name] if name else []):
            get_benchmark(n)
            if n not in names:
                names.append(n)
    if not names:
        raise UserError("no benchmark given; e.g. --bench math500,aime24 (or math6 for the paper's six)")
    return names


def eval_jobs(names: list[str], data_dir=None, limit: int | None = None, protocol: str = "paper",
              **overrides) -> list[tuple[str, list[dict], Sampling]]:
    """(name, rows, sampling) of each benchmark: every file found and read, every sampling
    checked, before a model is loaded. `overrides`: Sampling fields (None = the protocol's)."""
    jobs = []
    for name in names:
        bench = get_benchmark(name)
        s = sampling(bench, protocol, **overrides)
        jobs.append((name, load_rows(bench, data_dir, limit), s))
    return jobs
