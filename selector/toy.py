"""The embedded toy world: generated column additions, planted pathologies, and the data of a tiny
Qwen2 model that learns them.

No pretrained model can be downloaded everywhere the project runs, so the project builds its own
small world that models what the paper describes (arXiv 2504.20571): a base model with a LATENT
skill that RL can select, examples that teach it and examples that do not, and pool examples that
no amount of RL can learn (the paper's π1207, a wrong label, and π1208, beyond the model).

- the skill is ONE: carrying in column addition. Problems (`pool_rows`: POOL_SIZE; `benchmark_rows`:
  400 others) add two integers of 1-4 digits, phrased as a bare expression or a tiny word problem,
  ending with a short instruction to box the answer. Why one skill: with several (carries in
  addition, borrows in subtraction, ...) an example can only teach its own, and the full pool
  wins by construction; the paper's finding is that one example can carry the whole gain.
- worked solutions the model executes token by token, column by column from the right, with the
  carry written out (`+1`):
      Compute 347+85.  ->  7+5=12 4+8+1=13 3+0+1=4 \\boxed{432}
- the pre-training (SFT) corpus makes the skill LATENT, PARTIAL: a carry is dropped at random
  (SLIP_RATES; the solution then follows the slip consistently, so its box is wrong), a cascading
  one (it lands in a column whose digits sum to 9 or more, so that it carries again) MORE often
  than not. So greedy decoding gets cascades wrong although the right step is in the model's
  distribution, and a problem is right at temperature 0.6 with a probability that falls with its
  carries: problems without a carry teach nothing but the format, problems with cascades teach
  the skill when a rollout finds it. 1 - BOXED_RATE of the solutions end unboxed (`=432`, graded
  wrong): the paper's format effect, which every example teaches.
- planted pathologies (the `planted` column of the pool; never in the benchmark):
  `wrong-gold`: an addition whose gold answer is off by one in the units digit, a column the
  model never gets wrong, so its rollouts (almost) never match it; `unreachable`: a 2-digit
  multiplication, an operation the pre-training never shows, so the base model has no latent
  skill to select and no rollout is right.
- the model: transformers' Qwen2ForCausalLM (tiny config) with a tiny byte-level BPE tokenizer in
  Qwen2's pipeline and Qwen2.5-Math's chat markup, pre-trained on CPU in a few minutes and saved
  like a hub model, so TRL's GRPOTrainer loads it by path. See trainer/toy_model.py.

This module is the toy world's data (problems, worked solutions, the pre-training corpus): pure
Python, no torch. The model and its pre-training live in trainer/toy_model.py.
"""

import random
from dataclasses import dataclass

# Bump when the data or the model recipe changes: it is part of the cache key (model_dir).
RECIPE_VERSION = "r3"

# 240 examples: the toy preset's history run takes 30 prompts a step, so an epoch is 8 steps and
# its 20 epochs (160 steps) show every example exactly 20 times (the authors' history: 44-57
# appearances per example). The issue-17 probe: a 240-example subset took the ranks' bootstrap
# intervals from 1-1033 (1,200 examples, 4 epochs) to 1-6.
POOL_SIZE = 240
BENCHMARK_SIZE = 400
# Planted pathologies in the pool, like DSR-sub's π1207 (a wrong label) and π1208 (beyond the model).
PLANTED = {"wrong-gold": 4, "unreachable": 4}

# The SFT corpus's imperfections (the latent skill RL can select). Each carry is dropped with a
# probability that depends on its column: a cascading one (the column it lands in sums to 9 or
# more, so it carries again) MORE often than not, a plain one now and then.
SLIP_RATES = {"carry": 0.2, "carry_cascade": 0.7}
BOXED_RATE = 0.75  # solutions that end with \\boxed{...}; the rest end `=ANSWER` (graded wrong)

# The paper's "Let's think step by step and output the final answer within \\boxed{}.", shortened:
# every prompt token costs CPU time in each pre-training and GRPO step.
INSTRUCTION = "Put the final answer within \\boxed{}."

# Operand digit counts (number of digits, weight).
DIGITS = ((1, 0.05), (2, 0.3), (3, 0.4), (4, 0.25))

_NAMES = ("Ann", "Ben", "Mia", "Tom", "Zoe", "Sam")
_ITEMS = ("beads", "coins", "stamps", "apples", "cards", "shells")


@dataclass(frozen=True)
class Problem:
    kind: str  # "add", or "mul" (only planted: an operation the model never saw)
    operands: tuple  # (a, b)
    template: int  # which phrasing
    name: str
    item: str
    planted: str = ""  # "", "wrong-gold" or "unreachable"

    @property
    def key(self) -> tuple:
        """What makes two problems the same problem (the phrasing does not)."""
        return (self.kind, self.operands)

    @property
    def answer(self) -> int:
        """The true value."""
        a, b = self.operands
        return a + b if self.kind == "add" else a * b

    @property
    def gold(self) -> int:
        """The answer the pool records: the true value, except for a planted wrong gold (the
        units digit one higher, mod 10: a slip never touches the units column)."""
        v = self.answer
        return v - v % 10 + (v % 10 + 1) % 10 if self.planted == "wrong-gold" else v

    def text(self) -> str:
        a, b = self.operands
        n, it = self.name, self.item
        if self.kind == "mul":
            q = (f"Compute {a}*{b}.", f"What is {a} times {b}?",
                 f"{n} has {a} bags of {b} {it}. How many {it} does {n} have?")[self.template]
        else:
            q = (f"Compute {a}+{b}.", f"What is {a} plus {b}?",
                 f"{n} has {a} {it} and gets {b} more. How many {it} does {n} have now?")[self.template]
        return f"{q} {INSTRUCTION}"


# --------------------------------------------------------------------------- worked solutions


def _add_columns(a: int, b: int, slip) -> tuple[list[str], int, int]:
    """Column addition from the right. slip(kind) -> True drops the pending carry (kind names the
    column: "carry", or "carry_cascade" when its digits sum to 9 or more).
    Returns (column texts, value written, carries dropped)."""
    da, db = str(a)[::-1], str(b)[::-1]
    cols, value, carry, dropped = [], 0, 0, 0
    for i in range(max(len(da), len(db))):
        x, y = int(da[i]) if i < len(da) else 0, int(db[i]) if i < len(db) else 0
        if carry and slip("carry_cascade" if x + y >= 9 else "carry"):
            carry, dropped = 0, dropped + 1
        s = x + y + carry
        cols.append(f"{x}+{y}" + ("+1" if carry else "") + f"={s}")
        value += (s % 10) * 10**i
        carry = s // 10
    return cols, value + carry * 10 ** len(cols), dropped


def worked_solution(p: Problem, *, slip_rates: dict | None = None, boxed: bool = True,
                    rng: random.Random | None = None, force_slip: bool = False) -> tuple[str, int, int]:
    """(solution text, the value it writes, slips made) of an addition. By default the correct
    solution; slip_rates (e.g. SLIP_RATES) drops carries at random with rng; force_slip drops every
    one (the systematic slip, for tests). boxed=False ends `=VALUE` instead of `\\boxed{VALUE}`."""
    if p.kind != "add":
        raise ValueError(f"no worked solution for {p.kind!r}: the toy model is never taught it")
    rng = rng or random.Random(0)
    rates = slip_rates or {}
    slip = (lambda kind: True) if force_slip else (lambda kind: rates.get(kind, 0.0) > 0 and rng.random() < rates[kind])
    cols, value, dropped = _add_columns(*p.operands, slip)
    end = f"\\boxed{{{value}}}" if boxed else f"={value}"
    return " ".join(cols + [end]), value, dropped


def events(p: Problem) -> dict:
    """How many carries of each kind the correct solution makes: the difficulty (and how much of
    the skill the problem exercises)."""
    seen: dict = {}

    def count(kind):
        seen[kind] = seen.get(kind, 0) + 1
        return False

    if p.kind == "add":
        _add_columns(*p.operands, count)
    return seen


# --------------------------------------------------------------------------- problem sets


def _weighted(rng: random.Random, table) -> object:
    r, acc = rng.random() * sum(w for _, w in table), 0.0
    for v, w in table:
        acc += w
        if r < acc:
            return v
    return table[-1][0]


def _number(rng: random.Random, digits: int) -> int:
    return rng.randint(10 ** (digits - 1) if digits > 1 else 0, 10**digits - 1)


def random_problem(rng: random.Random) -> Problem:
    a, b = _number(rng, _weighted(rng, DIGITS)), _number(rng, _weighted(rng, DIGITS))
    return Problem("add", (a, b), rng.randrange(3), rng.choice(_NAMES), rng.choice(_ITEMS))


def _unique(rng: random.Random, n: int, exclude: set) -> list[Problem]:
    out, seen = [], set(exclude)
    while len(out) < n:
        p = random_problem(rng)
        if p.key not in seen:
            seen.add(p.key)
            out.append(p)
    return out


def _planted(rng: random.Random, kind: str, exclude: set) -> Problem:
    while True:
        if kind == "unreachable":
            p = Problem("mul", (rng.randint(12, 99), rng.randint(12, 99)), rng.randrange(3), rng.choice(_NAMES),
                        rng.choice(_ITEMS), planted=kind)
        else:  # an ordinary 2-3 digit addition, only its label is wrong
            p = Problem("add", (_number(rng, rng.choice((2, 3))), _number(rng, rng.choice((2, 3)))), rng.randrange(3),
                        rng.choice(_NAMES), rng.choice(_ITEMS), planted=kind)
        if p.key not in exclude:
            return p


def pool_problems(seed: int = 0) -> list[Problem]:
    """POOL_SIZE problems: ordinary additions with the planted ones at seeded random positions."""
    rng = random.Random(f"toy-pool-{seed}")
    n_planted = sum(PLANTED.values())
    problems = _unique(rng, POOL_SIZE - n_planted, set())
    seen = {p.key for p in problems}
    for kind, count in PLANTED.items():
        for _ in range(count):
            p = _planted(rng, kind, seen)
            seen.add(p.key)
            problems.insert(rng.randrange(len(problems) + 1), p)
    return problems


def benchmark_problems(seed: int = 0) -> list[Problem]:
    return _unique(random.Random(f"toy-bench-{seed}"), BENCHMARK_SIZE, {p.key for p in pool_problems(seed)})


def _rows(problems: list[Problem], prefix: str, planted: bool) -> list[dict]:
    return [{"id": f"{prefix}-{i:04d}", "prompt": [{"role": "user", "content": p.text()}], "answer": str(p.gold),
             **({"planted": p.planted} if planted else {})}
            for i, p in enumerate(problems, 1)]


def pool_rows(seed: int = 0) -> list[dict]:
    """The `toy` training pool: POOL_SIZE rows {id, prompt (chat messages), answer, planted}."""
    return _rows(pool_problems(seed), "toy", planted=True)


def benchmark_rows(seed: int = 0) -> list[dict]:
    """The held-out toy benchmark: BENCHMARK_SIZE rows, no problem shared with the pool."""
    return _rows(benchmark_problems(seed), "toybench", planted=False)


def sft_examples(seed: int, n: int, exclude: set | None = None):
    """Yield n (prompt text, solution text) pre-training pairs, never a pool/benchmark problem."""
    rng = random.Random(f"toy-sft-{seed}")
    exclude = exclude if exclude is not None else {p.key for p in pool_problems(seed) + benchmark_problems(seed)}
    made = 0
    while made < n:
        p = random_problem(rng)
        if p.key in exclude:
            continue
        sol, _, _ = worked_solution(p, slip_rates=SLIP_RATES, boxed=rng.random() < BOXED_RATE, rng=rng)
        made += 1
        yield p.text(), sol
