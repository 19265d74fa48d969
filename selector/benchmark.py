"""What an evaluation benchmark is, its sampling protocols, and loading its rows.

This file is the base: `Benchmark` (what a definition declares), `Sampling`, the protocols and
the loader. Each benchmark is one file under `selector/benchmarks/` (lighteval style) that
declares where its data lives (a file under the data directory, and a hub dataset for users who
have the hub), which fields hold the problem and the reference answer, and the paper's sampling
protocol; `selector/benchmarks/__init__.py` is the registry (`BENCHMARKS`, `get_benchmark`).

The paper's protocol (../shared/reference/paper-setup.md, Qwen2.5-Math evaluation,
prompt type "qwen25-math-cot"): the same system prompt for every benchmark, the raw problem as
the user turn; greedy for MATH500 / Minerva / OlympiadBench; temperature 0.6 with 8 samples per
problem for AIME24 / AIME25 / AMC23 (the mean over samples, "avg@8"); 3,072 new tokens.

Loading needs no torch: `select eval --help`, planning and tests stay light.
"""

import json
from dataclasses import dataclass, replace
from typing import Callable

from selector.errors import UserError
from selector.paths import find_data_file, read_hub

QWEN_MATH_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."


@dataclass(frozen=True)
class Sampling:
    temperature: float  # 0 = greedy
    samples: int  # completions per problem; accuracy is their mean (avg@k)
    max_new_tokens: int
    top_p: float = 1.0

    def describe(self) -> str:
        how = "greedy" if self.temperature == 0 else f"T={self.temperature:g}" + (f" top_p={self.top_p:g}" if self.top_p < 1 else "")
        return f"{how}, {self.samples} sample{'s' if self.samples > 1 else ''}, {self.max_new_tokens} new tokens"


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    path: str | None  # relative to the data directory; None for a generated benchmark
    problem: Callable[[dict], str]  # raw row -> the problem text (the user turn)
    gold: Callable[[dict], str]  # raw row -> the reference answer, as the grader reads it
    row_id: Callable[[dict, int], str]  # (raw row, line number) -> a stable problem id
    paper: Sampling  # the paper's protocol for this benchmark
    hub: tuple[str, str | None, str] | None = None  # (dataset id, config, split) for users with the hub
    generated: Callable[[int], list[dict]] | None = None  # seed -> rows {id, prompt, answer}


# Protocols: benchmark -> Sampling. "paper" is each benchmark's own; the others override it.
PROTOCOLS: dict[str, Callable[[Benchmark], Sampling]] = {
    "paper": lambda b: b.paper,
    "greedy": lambda b: replace(b.paper, temperature=0.0, samples=1),
    "sampled": lambda b: replace(b.paper, temperature=0.6, samples=8),
}


def sampling(bench: Benchmark, protocol: str = "paper", **overrides) -> Sampling:
    """The benchmark's sampling under a protocol, with explicit overrides (None = keep)."""
    if protocol not in PROTOCOLS:
        raise UserError(f"unknown protocol {protocol!r}; valid protocols: {', '.join(PROTOCOLS)}")
    s = PROTOCOLS[protocol](bench)
    s = replace(s, **{k: v for k, v in overrides.items() if v is not None})
    if s.samples < 1 or s.max_new_tokens < 1 or s.temperature < 0 or not 0 < s.top_p <= 1:
        raise UserError(f"bad sampling for {bench.name}: {s} (samples and max new tokens >= 1, temperature >= 0, 0 < top_p <= 1)")
    if s.temperature == 0 and s.samples > 1:
        raise UserError(f"{bench.name}: {s.samples} greedy samples would all be the same; use --temperature > 0 or --samples 1")
    return s


def math_prompt(problem: str) -> list[dict]:
    """The paper's evaluation prompt ("qwen25-math-cot"): system instruction, raw problem."""
    return [{"role": "system", "content": QWEN_MATH_SYSTEM}, {"role": "user", "content": problem}]


def load_rows(bench: Benchmark, data_dir=None, limit: int | None = None, seed: int = 0) -> list[dict]:
    """Rows {id, prompt (chat messages), answer} of a benchmark: the local file if present,
    else the hub dataset (users with the hub), else one error saying where we looked."""
    if bench.generated is not None:
        rows = bench.generated(seed)
        return rows[:limit] if limit else rows
    path, searched = find_data_file(bench.path, data_dir)
    if path is not None:
        raw = _read_local(path, bench.name)
    elif bench.hub is not None:
        dataset, config, split = bench.hub
        raw = read_hub(dataset, split, config, what=f"benchmark {bench.name!r}",
                       where=f"{bench.path} not found in {', '.join(map(str, searched))}")
    else:
        raise UserError(f"benchmark {bench.name!r}: {bench.path} not found in {', '.join(map(str, searched))} "
                        "(and it has no hub copy declared); put the file there or pass --data-dir DIR")
    rows, seen = [], set()
    for i, r in enumerate(raw):
        try:
            row = {"id": str(bench.row_id(r, i)), "prompt": math_prompt(bench.problem(r)), "answer": str(bench.gold(r)).strip(),
                   "paper_answer": _paper_gold(bench.name, r)}
        except (KeyError, IndexError, TypeError, AttributeError) as e:
            raise UserError(f"benchmark {bench.name!r}: row {i} does not have the expected fields ({type(e).__name__}: {e}); "
                            f"is {bench.path} in the layout selector/benchmarks/{bench.name.replace('-', '_')}.py declares?") from None
        if row["id"] in seen:
            raise UserError(f"benchmark {bench.name!r}: duplicate problem id {row['id']!r} at row {i}")
        seen.add(row["id"])
        rows.append(row)
        if limit and len(rows) >= limit:
            break
    if not rows:
        raise UserError(f"benchmark {bench.name!r} has no rows")
    return rows


def _paper_gold(name: str, raw: dict) -> str | None:
    """The reference answer as the authors' evaluation reads it (selector/paper_grader.py), for the
    benchmarks it has rules for; None for the others (no paper-mode verdict then)."""
    from selector import paper_grader

    return paper_grader.paper_gold(name, raw) if name in paper_grader.BENCHMARKS else None


def _read_local(path, name: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise UserError(f"benchmark {name!r}: {path} line {n} is not JSON ({e.msg}); the file is corrupt") from None
    return rows
