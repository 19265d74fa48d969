"""The embedded toy world: generated column-arithmetic problems and a tiny Qwen2 model for them.

No pretrained model can be downloaded everywhere the project runs, so the project builds its own
small world in which GRPO visibly helps:

- problems (`pool_rows`: 1,200; `benchmark_rows`: 400 others): integer addition and subtraction
  with 1-4 digit operands, and two-step `a+b-c` with 2-digit ones, phrased as a bare expression
  or a tiny word problem, ending with a (shortened) instruction to box the answer. Difficulty
  grows with digits, carries/borrows and steps. Answers are exact integers, as strings.
- worked solutions the model executes token by token, column by column from the right, with the
  carry (`+1`) or the borrow (a `1` in front, then `-1` in the next column) written out:
      Compute 347+85.  ->  7+5=12 4+8+1=13 3+0+1=4 \\boxed{432}
      Compute 832-57.  ->  12-7=5 13-5-1=7 8-0-1=7 \\boxed{775}
- the pre-training (SFT) corpus gives the model LATENT, PARTIAL competence on purpose: carries and
  borrows are dropped at random (SLIP_RATES; the solution then follows the slip consistently,
  so its box is wrong), and 35% of solutions end unboxed (`=432`: graded wrong, the paper's
  format effect). A cascading carry/borrow is dropped MORE often than not, so the greedy answer
  is wrong there although the right step is in the model's distribution. Sampled at temperature
  0.6, a problem is right with a probability that falls with its carries: RL has something to
  select, and problems differ in how much they teach.
- the model: transformers' Qwen2ForCausalLM (tiny config) with a tiny Qwen2-style byte-level BPE
  tokenizer, pre-trained on CPU in a few minutes and saved like a hub model (model, tokenizer,
  chat template) so that TRL's GRPOTrainer can load it by path. See trainer/toy_model.py.

This module is the toy world's data (problems, worked solutions, the pre-training corpus): pure
Python, no torch. The model and its pre-training live in trainer/toy_model.py.
"""

import random
from dataclasses import dataclass

# Bump when the data or the model recipe changes: it is part of the cache key (model_dir).
RECIPE_VERSION = "r2"

POOL_SIZE = 1200
BENCHMARK_SIZE = 400

# The SFT corpus's imperfections (the latent skill RL can select). Each carry or borrow is
# dropped with a probability that depends on its column. A cascading one (the column it lands in
# carries or borrows again: digits summing to 9 or more, or a top digit not above the bottom one)
# is dropped MORE often than not; a plain one now and then.
SLIP_RATES = {"carry": 0.25, "borrow": 0.25, "carry_cascade": 0.7, "borrow_cascade": 0.7}
BOXED_RATE = 0.65  # solutions that end with \\boxed{...}; the rest end `=ANSWER` (graded wrong)

# The paper's "Let's think step by step and output the final answer within \\boxed{}.", shortened:
# every prompt token costs CPU time in each pre-training and GRPO step.
INSTRUCTION = "Put the final answer within \\boxed{}."

# Problem kinds and their share of every row set: (kind, weight).
KINDS = (("add", 0.4), ("sub", 0.4), ("add_sub", 0.2))
# Operand digit counts (number of digits, weight) for one-step problems.
DIGITS = ((1, 0.05), (2, 0.3), (3, 0.4), (4, 0.25))

_NAMES = ("Ann", "Ben", "Mia", "Tom", "Zoe", "Sam")
_ITEMS = ("beads", "coins", "stamps", "apples", "cards", "shells")


@dataclass(frozen=True)
class Problem:
    kind: str  # "add", "sub", "add_sub"
    operands: tuple  # (a, b) or (a, b, c)
    template: int  # which phrasing
    name: str
    item: str

    @property
    def key(self) -> tuple:
        """What makes two problems the same problem (the phrasing does not)."""
        return (self.kind, self.operands)

    @property
    def answer(self) -> int:
        a, b, *c = self.operands
        return a + b if self.kind == "add" else a - b if self.kind == "sub" else a + b - c[0]

    def text(self) -> str:
        a, b, *c = self.operands
        n, it = self.name, self.item
        if self.kind == "add":
            q = (f"Compute {a}+{b}.", f"What is {a} plus {b}?",
                 f"{n} has {a} {it} and gets {b} more. How many {it} does {n} have now?")[self.template]
        elif self.kind == "sub":
            q = (f"Compute {a}-{b}.", f"What is {a} minus {b}?",
                 f"{n} has {a} {it} and gives away {b}. How many {it} does {n} have left?")[self.template]
        else:
            q = (f"Compute {a}+{b}-{c[0]}.", f"What is {a} plus {b} minus {c[0]}?",
                 f"{n} has {a} {it}, gets {b} more and gives away {c[0]}. How many {it} does {n} have left?")[self.template]
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


def _sub_columns(a: int, b: int, slip) -> tuple[list[str], int, int]:
    """Column subtraction (a >= b) from the right: a column that must borrow is written with the
    borrowed 1 in front (`12-7=5`), the next one pays it back (`3-5-1`). slip(kind) drops a
    payback ("borrow", or "borrow_cascade" when the column's top digit is not above its bottom
    one, so that it borrows again)."""
    da, db = str(a)[::-1], str(b)[::-1]
    cols, value, borrow, dropped = [], 0, 0, 0
    for i in range(len(da)):
        x, y = int(da[i]), int(db[i]) if i < len(db) else 0
        if borrow and slip("borrow_cascade" if x <= y else "borrow"):
            borrow, dropped = 0, dropped + 1
        d = x - y - borrow
        out = d < 0
        cols.append(("1" if out else "") + f"{x}-{y}" + ("-1" if borrow else "") + f"={d + 10 * out}")
        value += (d + 10 * out) * 10**i
        borrow = int(out)
    return cols, value - borrow * 10 ** len(cols), dropped


def worked_solution(p: Problem, *, slip_rates: dict | None = None, boxed: bool = True,
                    rng: random.Random | None = None, force_slip: bool = False) -> tuple[str, int, int]:
    """(solution text, the value it writes, slips made). By default the correct solution;
    slip_rates (e.g. SLIP_RATES) drops carries/borrows at random with rng; force_slip drops every
    one (the systematic slip, for tests). boxed=False ends `=VALUE` instead of `\\boxed{VALUE}`."""
    rng = rng or random.Random(0)
    rates = slip_rates or {}
    slip = (lambda kind: True) if force_slip else (lambda kind: rates.get(kind, 0.0) > 0 and rng.random() < rates[kind])
    a, b, *c = p.operands
    if p.kind == "add":
        cols, value, dropped = _add_columns(a, b, slip)
    elif p.kind == "sub":
        cols, value, dropped = _sub_columns(a, b, slip)
    else:
        cols, mid, d1 = _add_columns(a, b, slip)
        if mid >= c[0]:
            cols2, value, d2 = _sub_columns(mid, c[0], slip)
        else:  # a slipped sum below c: no column method; write the difference as a student would
            cols2, value, d2 = [f"{mid}-{c[0]}={mid - c[0]}"], mid - c[0], 0
        cols, dropped = cols + [f"={mid}"] + cols2, d1 + d2
    end = f"\\boxed{{{value}}}" if boxed else f"={value}"
    return " ".join(cols + [end]), value, dropped


def events(p: Problem) -> dict:
    """How many carries/borrows of each kind the correct solution makes: the difficulty."""
    seen: dict = {}

    def count(kind):
        seen[kind] = seen.get(kind, 0) + 1
        return False

    a, b, *c = p.operands
    if p.kind == "sub":
        _sub_columns(a, b, count)
    else:
        _add_columns(a, b, count)
    if p.kind == "add_sub":
        _sub_columns(a + b, c[0], count)
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
    kind = _weighted(rng, KINDS)
    if kind == "add_sub":  # two-digit a, b, c with a+b >= c
        a, b = _number(rng, 2), _number(rng, 2)
        ops = (a, b, rng.randint(10, min(99, a + b)))
    else:
        a, b = _number(rng, _weighted(rng, DIGITS)), _number(rng, _weighted(rng, DIGITS))
        ops = (max(a, b), min(a, b)) if kind == "sub" else (a, b)
    return Problem(kind, ops, rng.randrange(3), rng.choice(_NAMES), rng.choice(_ITEMS))


def _unique(rng: random.Random, n: int, exclude: set) -> list[Problem]:
    out, seen = [], set(exclude)
    while len(out) < n:
        p = random_problem(rng)
        if p.key not in seen:
            seen.add(p.key)
            out.append(p)
    return out


def pool_problems(seed: int = 0) -> list[Problem]:
    return _unique(random.Random(f"toy-pool-{seed}"), POOL_SIZE, set())


def benchmark_problems(seed: int = 0) -> list[Problem]:
    return _unique(random.Random(f"toy-bench-{seed}"), BENCHMARK_SIZE, {p.key for p in pool_problems(seed)})


def _rows(problems: list[Problem], prefix: str) -> list[dict]:
    return [{"id": f"{prefix}-{i:04d}", "prompt": [{"role": "user", "content": p.text()}], "answer": str(p.answer)}
            for i, p in enumerate(problems, 1)]


def pool_rows(seed: int = 0) -> list[dict]:
    """The `toy` training pool: POOL_SIZE rows {id, prompt (chat messages), answer}."""
    return _rows(pool_problems(seed), "toy")


def benchmark_rows(seed: int = 0) -> list[dict]:
    """The held-out toy benchmark: BENCHMARK_SIZE rows, no problem shared with the pool."""
    return _rows(benchmark_problems(seed), "toybench")


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
