"""The paper-grading agreement set: completions built from the six benchmarks' rows, and the
verdicts the authors' own evaluation code gave them.

We hold no model outputs, so the completions are made here, deterministically, from each row of
the benchmark files in the data directory: the reference solution itself, the answer boxed, in
Minerva's "The final answer is $X$. I hope it is correct." form, after "the answer is", as the
last number only, and perturbed (off by one, rounded, as a percentage, with units, reordered...).
`build_probes` rebuilds every completion from the data at test time; the repository holds only
what the authors' code said about each one: data/paper_grader_agreement.jsonl, a header line of
column names, then one line per completion with the benchmark, the row (its 0-based line in
`benchmarks/<name>/test.jsonl`), the variant name, a hash of the completion (so a changed
generator is caught, not silently compared against verdicts on other text), their verdict and
their extracted answer. 3,986 completions of 77 variants, made in one run (0 timeouts). Two
variants (`value_7`, `value_3`) evaluate answers with latex2sympy2_extended: a new version of it
that changes a value shows up as a hash mismatch, and the fixture must then be re-made.

How the fixture was made (so it can be re-made): the authors' repository ypwang61/One-Shot-RLVR
at commit 21ed529ec90002597c92aee957af1dd8166bb66c, folder Qwen2.5-Eval/evaluation, run
unchanged in a scratch virtual environment outside this repository with their pinned
evaluation requirements (Python 3.10, sympy 1.12, antlr4-python3-runtime 4.11.1, their bundled
latex2sympy2 1.9.0 installed with `pip install -e latex2sympy`, word2number 1.1, Pebble 5.2.3,
timeout-decorator, regex). vLLM/torch/transformers/datasets were replaced by empty stand-in
modules, and `math_eval.main(llm, None, data_name, args)` was called once per benchmark with
`--prompt_type qwen25-math-cot --n_sampling 1 --temperature 0 --use_vllm --save_outputs
--overwrite` and a stand-in `llm` whose `generate` returns these completions in prompt order.
The data file it read held one copy of the benchmark row per completion (`idx` = the
completion's position), so their own loading, `parse_ground_truth`, answer extraction
(`run_execute` -> `extract_answer` + `strip_string`), multiple-choice clean-up and `evaluate`
(`math_equal` in a Pebble pool with a 3 s timeout) produced the saved `pred` (our `extracted`)
and `score` (our `correct`). The data names were those of the paper's scripts
(sh/eval_all_math.sh): math500, minerva_math, olympiadbench, aime24x8, aime25x8, amc23x8. The
scratch driver is deliberately not in the repository (it is their code plus stand-ins).

    python perf/paper_grader_agreement.py     # the agreement of both grading modes
"""

import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "paper_grader_agreement.jsonl"
BENCHMARKS = ["math500", "minerva_math", "olympiadbench", "aime24", "aime25", "amc23"]
# Rows kept per (benchmark, variant): of the rows a variant applies to, those first in crc32
# order of "bench/row/variant" (the same rows every time, spread over the file). Every variant
# thus appears on every benchmark it applies to, rare ones (intervals, thousands) included.
ROWS_PER_VARIANT = {"math500": 14, "minerva_math": 12, "olympiadbench": 12, "aime24": 8, "aime25": 8, "amc23": 10}
SOLUTION_ROWS = 60  # the worked solutions are the most model-like text: more of them


@dataclass(frozen=True)
class Probe:
    bench: str
    row: int  # 0-based line in benchmarks/<bench>/test.jsonl
    variant: str
    completion: str
    gold: str  # the benchmark's gold as strict mode reads it (selector/benchmarks/)
    paper_gold: str  # as the authors' loader reads it (selector.paper_grader.paper_gold)

    @property
    def key(self) -> tuple[str, int, str]:
        return self.bench, self.row, self.variant

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.completion.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@dataclass(frozen=True)
class Context:
    """What a variant builder sees of one row."""

    bench: str
    index: int  # the row's 0-based line
    row: dict
    answer: str  # the answer as a model would write it: the benchmark's (strict) gold
    other: str  # another row's answer: a wrong answer that looks right
    solution: str | None  # the worked reference solution, where the file has one


# --------------------------------------------------------------------------- numbers

_INT = re.compile(r"-?\d+")
_DEC = re.compile(r"-?\d+\.\d+")
_FRAC = re.compile(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}")


def _value(answer: str) -> Fraction | None:
    """The exact value of an answer that is a plain integer, decimal or fraction of integers."""
    a = answer.strip().replace("$", "")
    if _INT.fullmatch(a) or _DEC.fullmatch(a):
        return Fraction(a)
    if (m := _FRAC.fullmatch(a)) and int(m[3]) != 0:
        return Fraction(int(m[2]), int(m[3])) * (-1 if m[1] else 1)
    return None


def _decimal(x: Fraction, digits: int) -> str:
    """x to `digits` significant digits as a plain decimal string."""
    if x == 0:
        return "0"
    text = f"{float(x):.{digits}g}"
    if "e" in text:
        text = f"{float(text):.{max(0, digits - 1 - int(f'{float(x):e}'.split('e')[1]))}f}"
    return text


_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def _words(n: int) -> str:
    if n < 20:
        return _SMALL[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens - 2] + ("" if unit == 0 else "-" + _SMALL[unit])


# --------------------------------------------------------------------------- variants

def _box(x: str) -> str:
    return f"Working through the problem step by step gives the result.\n\nTherefore, the final answer is $\\boxed{{{x}}}$."


def _numeric(build: Callable[[Fraction, str], str | None]) -> Callable[[Context], str | None]:
    def variant(c: Context) -> str | None:
        v = _value(c.answer)
        return None if v is None else build(v, c.answer)
    return variant


def _integer(build: Callable[[int], str | None]) -> Callable[[Context], str | None]:
    def variant(c: Context) -> str | None:
        a = c.answer.strip()
        return build(int(a)) if _INT.fullmatch(a) else None
    return variant


def _listed(c: Context) -> list[str] | None:
    """The parts of a comma-separated answer at top level (outside brackets), if it has several."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(c.answer):
        depth += ch in "([{" and 1 or ch in ")]}" and -1 or 0
        if ch == "," and depth == 0:
            parts.append(c.answer[start:i].strip())
            start = i + 1
    parts.append(c.answer[start:].strip())
    return parts if len(parts) > 1 and all(parts) else None


def _bracketed(c: Context) -> tuple[str, list[str], str] | None:
    """(open, parts, close) of an answer written as a bracketed pair or tuple: (a, b], [a, b)."""
    a = c.answer.strip()
    if len(a) < 5 or a[0] not in "([" or a[-1] not in ")]":
        return None
    depth = 0
    for ch in a[:-1]:
        depth += ch in "([{" and 1 or ch in ")]}" and -1 or 0
        if depth == 0:
            return None  # "(a, b), (c, d)": the first bracket closes before the end
    inner = Context(c.bench, c.index, c.row, a[1:-1], c.other, None)
    parts = _listed(inner)
    return (a[0], parts, a[-1]) if parts else None


def _swap_brackets(c: Context) -> str | None:
    got = _bracketed(c)
    if got is None:
        return None
    o, parts, e = got
    return _box({"(": "[", "[": "("}[o] + ", ".join(parts) + {")": "]", "]": ")"}[e])


def _top_level_terms(a: str) -> list[str] | None:
    """The + / - separated terms of an expression at brace depth 0, each with its sign."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(a):
        depth += ch in "([{" and 1 or ch in ")]}" and -1 or 0
        if ch in "+-" and depth == 0 and i > 0 and a[i - 1] not in "^_{(":
            terms.append(a[start:i])
            start = i
    terms.append(a[start:])
    terms = [t.strip() for t in terms if t.strip()]
    return terms if len(terms) > 1 and "=" not in a and "," not in a else None


def _commuted(c: Context) -> str | None:
    terms = None if "\\\\" in c.answer else _top_level_terms(c.answer)
    if terms is None:
        return None
    terms = terms[1:] + terms[:1]  # the first term moved to the end
    return _box(terms[0].lstrip("+") + "".join(t if t[0] in "+-" else "+" + t for t in terms[1:]))


def _numeric_value(c: Context, digits: int) -> str | None:
    """The answer's value to `digits` significant digits, where it is a real number other than a
    plain integer/decimal/fraction (those have their own variants): 2\\sqrt{3} -> 3.464102."""
    if _value(c.answer) is not None or not re.search(r"\\(sqrt|pi|frac|log|sin|cos|tan)|\^", c.answer):
        return None
    try:
        from latex2sympy2_extended import latex2sympy

        x = latex2sympy(c.answer.replace("$", ""))
        if not getattr(x, "is_number", False) or not x.is_real:
            return None
        return f"{float(x.evalf(30)):.{digits}g}"
    except Exception:  # noqa: BLE001 - an answer the parser cannot read has no value to write
        return None


def _replace_if(old: str, new: str) -> Callable[[Context], str | None]:
    return lambda c: _box(c.answer.replace(old, new)) if old in c.answer else None


# name -> builder(context) -> completion, or None where the variant does not apply to the row.
VARIANTS: dict[str, Callable[[Context], str | None]] = {
    # which extraction wins
    "solution": lambda c: c.solution,
    "boxed": lambda c: _box(c.answer),
    "minerva_hope": lambda c: f"Solving gives the value.\nFinal Answer: The final answer is ${c.answer}$. I hope it is correct.",
    "hope_then_box": lambda c: f"Final Answer: The final answer is ${c.answer}$. I hope it is correct.\nCheck: $\\boxed{{{c.other}}}$",
    "answer_is": lambda c: f"Adding the cases up, the answer is {c.answer}.",
    "answer_is_dollar": lambda c: f"Hence the answer is ${c.answer}$.",
    "answer_is_then_text": lambda c: f"So the answer is {c.answer}. This matches the estimate.",
    "final_answer_is": lambda c: f"Putting it together, the final answer is {c.answer}",
    "last_number": lambda c: f"We compute the quantity carefully and it comes out to {c.answer}",
    "last_number_trailing": lambda c: f"The quantity is {c.answer}, found in 2 steps.",
    "two_boxes_last_right": lambda c: f"A first try gives $\\boxed{{{c.other}}}$, but correcting the sign, $\\boxed{{{c.answer}}}$.",
    "two_boxes_last_wrong": lambda c: f"A first try gives $\\boxed{{{c.answer}}}$, but on reflection $\\boxed{{{c.other}}}$.",
    "box_then_answer_is": lambda c: f"$\\boxed{{{c.answer}}}$\nSo the answer is {c.other}.",
    "unclosed_box": lambda c: f"The result is $\\boxed{{{c.answer}$ and we stop here.",
    "box_no_brace": lambda c: f"The result is $\\boxed {c.answer}$." if " " not in c.answer.strip() else None,
    "fbox": lambda c: f"The result is $\\fbox{{{c.answer}}}$.",
    "empty": lambda c: "",
    # normalisation and units
    "units_text": lambda c: _box(f"{c.answer}\\text{{ cm}}"),
    "units_word": lambda c: _box(f"{c.answer} meters"),
    "units_mbox": lambda c: _box(f"{c.answer}\\mbox{{ inches}}"),
    "dollars": lambda c: _box(f"\\${c.answer}"),
    "degrees": lambda c: _box(f"{c.answer}^\\circ"),
    "percent_sign": lambda c: _box(f"{c.answer}\\%"),
    "spaces": lambda c: _box(" " + " ".join(c.answer.replace(" ", "")) + " "),
    "dfrac": _replace_if("\\frac", "\\dfrac"),
    "left_right": lambda c: _box(c.answer.replace("(", "\\left(").replace(")", "\\right)")) if "(" in c.answer else None,
    "text_wrap": lambda c: _box(f"\\text{{{c.answer}}}"),
    "x_equals": lambda c: _box(f"x = {c.answer}"),
    "k_equals": lambda c: _box(f"k={c.answer}"),
    "newline_inside": lambda c: _box(c.answer[: len(c.answer) // 2] + "\n  " + c.answer[len(c.answer) // 2 :]) if len(c.answer) > 2 else None,
    "trailing_period": lambda c: _box(f"{c.answer}."),
    "uppercase": lambda c: _box(c.answer.upper()) if c.answer.upper() != c.answer else None,
    "sqrt_no_brace": lambda c: _box(re.sub(r"\\sqrt\{(\d+)\}", r"\\sqrt\1", c.answer)) if re.search(r"\\sqrt\{\d+\}", c.answer) else None,
    "leq_words": _replace_if("\\le", "\\leq"),
    "bmatrix": _replace_if("pmatrix", "bmatrix"),
    "infinity_word": _replace_if("\\infty", "infinity"),
    # numbers
    "off_by_one": _numeric(lambda v, a: _box(str(v + 1)) if v.denominator == 1 else _box(_decimal(v + 1, 8))),
    "negated": _numeric(lambda v, a: _box(f"-{a}") if v > 0 else None),
    "rounded_2": _numeric(lambda v, a: _box(_decimal(v, 2))),
    "rounded_4": _numeric(lambda v, a: _box(_decimal(v, 4))),
    "rounded_6": _numeric(lambda v, a: _box(_decimal(v, 6))),
    "percent_scaled": _numeric(lambda v, a: _box(_decimal(v * 100, 10) + "\\%")),
    "percent_plain": _numeric(lambda v, a: f"The share is {_decimal(v * 100, 10)}%, so the answer is {_decimal(v * 100, 10)}%."),
    "hundredth": _numeric(lambda v, a: _box(_decimal(v / 100, 10))),
    "fraction_as_decimal": _numeric(lambda v, a: _box(_decimal(v, 12)) if "frac" in a else None),
    "decimal_as_fraction": _numeric(lambda v, a: _box(f"\\frac{{{v.numerator}}}{{{v.denominator}}}") if "." in a else None),
    "slash_fraction": _numeric(lambda v, a: _box(f"{v.numerator}/{v.denominator}") if v.denominator != 1 else None),
    "integer_as_fraction": _integer(lambda n: _box(f"\\frac{{{2 * n}}}{{2}}")),
    "comma_thousands": _integer(lambda n: _box(f"{n:,}") if abs(n) >= 1000 else None),
    "trailing_zeros": _integer(lambda n: _box(f"{n}.000")),
    "word_number": _integer(lambda n: f"Counting them, there are {_words(n)}." if 0 <= n < 100 else None),
    "word_number_boxed": _integer(lambda n: _box(_words(n)) if 0 <= n < 100 else None),
    "leading_dot": _numeric(lambda v, a: _box(_decimal(v, 6).replace("0.", ".", 1)) if 0 < v < 1 else None),
    "sci_notation": _numeric(lambda v, a: _box(f"{float(v):.4e}".replace("e", " \\times 10^{") + "}") if v != 0 else None),
    "python_e": _numeric(lambda v, a: _box(f"{float(v):.6e}") if v != 0 else None),
    "near_1e-5": _numeric(lambda v, a: _box(_decimal(v * Fraction(100001, 100000), 12)) if v != 0 else None),
    "near_1e-3": _numeric(lambda v, a: _box(_decimal(v * Fraction(1001, 1000), 12)) if v != 0 else None),
    # symbolic equivalents (sympy decides)
    "value_7": lambda c: (lambda x: x and _box(x))(_numeric_value(c, 7)),
    "value_3": lambda c: (lambda x: x and _box(x))(_numeric_value(c, 3)),
    "commuted_terms": _commuted,
    "doubled_over_two": lambda c: _box(f"\\frac{{2\\left({c.answer}\\right)}}{{2}}") if "," not in c.answer and "=" not in c.answer else None,
    "cdot_as_times": _replace_if("\\cdot", "\\times"),
    "pi_decimal": _replace_if("\\pi", "3.14159265"),
    "sqrt_as_power": lambda c: _box(re.sub(r"\\sqrt\{([^{}]+)\}", r"(\1)^{\\frac{1}{2}}", c.answer)) if re.search(r"\\sqrt\{[^{}]+\}", c.answer) else None,
    "equation_swapped": lambda c: _box("=".join(reversed(c.answer.split("=")))) if c.answer.count("=") == 1 else None,
    "equation_moved": lambda c: _box(f"{c.answer.split('=')[0]}-({c.answer.split('=')[1]})=0") if c.answer.count("=") == 1 else None,
    "matrix_as_tuple": lambda c: _box("(" + ", ".join(re.split(r"\\\\|&", re.sub(r"\\(begin|end)\{[pb]matrix\}", "", c.answer))) + ")") if "matrix}" in c.answer else None,
    "tuple_as_matrix": lambda c: _box("\\begin{pmatrix}" + " \\\\ ".join(g[1]) + "\\end{pmatrix}") if (g := _bracketed(c)) and g[0] == "(" else None,
    "degrees_word": lambda c: _box(f"{c.answer} degrees"),
    # structure
    "reordered": lambda c: _box(", ".join(reversed(p))) if (p := _listed(c)) else None,
    "and_joined": lambda c: _box(" and ".join(p)) if (p := _listed(c)) else None,
    "set_braces": lambda c: _box("\\{" + ", ".join(p) + "\\}") if (p := _listed(c)) else None,
    "tuple_parens": lambda c: _box("(" + ", ".join(p) + ")") if (p := _listed(c)) else None,
    "swapped_brackets": _swap_brackets,
    "reordered_tuple": lambda c: _box(g[0] + ", ".join(reversed(g[1])) + g[2]) if (g := _bracketed(c)) else None,
    "plus_one": lambda c: _box(f"{c.answer}+1"),
    "other_answer": lambda c: _box(c.other),
}


def _solution(row: dict) -> str | None:
    s = row.get("solution")
    if isinstance(s, list):
        s = s[0] if s else None
    return s or None


def build_probes(data_dir: Path, benches: list[str] | None = None) -> list[Probe]:
    """Every completion of the agreement set, in a fixed order, rebuilt from the data files."""
    from selector.benchmarks import BENCHMARKS as REGISTRY
    from selector.paper_grader import paper_gold

    probes = []
    for bench in benches or BENCHMARKS:
        path = Path(data_dir) / "benchmarks" / bench / "test.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        answers = [str(REGISTRY[bench].gold(r)).strip() for r in rows]
        contexts = []
        for i, row in enumerate(rows):
            other = next((a for a in answers[i + 1 :] + answers[:i] if a != answers[i]), answers[i])
            contexts.append(Context(bench, i, row, answers[i], other, _solution(row)))
        for name, build in VARIANTS.items():
            made = [(i, text) for i, ctx in enumerate(contexts) if (text := build(ctx)) is not None]
            made.sort(key=lambda m: zlib.crc32(f"{bench}/{m[0]}/{name}".encode()))
            keep = SOLUTION_ROWS if name == "solution" else ROWS_PER_VARIANT[bench]
            probes += [Probe(bench, i, name, text, answers[i], paper_gold(bench, rows[i])) for i, text in sorted(made[:keep])]
    return probes


# --------------------------------------------------------------------------- their verdicts

@dataclass(frozen=True)
class Verdict:
    """What the authors' code said about one probe."""

    bench: str
    row: int
    variant: str
    digest: str  # Probe.digest of the completion it was given
    correct: bool  # their `score`
    extracted: str | None  # their `pred` (None: empty completion)

    @property
    def key(self) -> tuple[str, int, str]:
        return self.bench, self.row, self.variant


_COLUMNS = ["bench", "row", "variant", "sha", "correct", "extracted"]


def load_verdicts(path: Path = FIXTURE) -> dict[tuple[str, int, str], Verdict]:
    """The fixture: a header line naming the columns, then one JSON array per probe."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if json.loads(lines[0]) != _COLUMNS:
        raise ValueError(f"{path}: the first line must be the column list {_COLUMNS}")
    verdicts = (Verdict(*json.loads(line)) for line in lines[1:])
    return {v.key: v for v in verdicts}


def write_verdicts(verdicts: list[Verdict], path: Path = FIXTURE) -> None:
    rows = [json.dumps(_COLUMNS)] + [json.dumps([v.bench, v.row, v.variant, v.digest, v.correct, v.extracted],
                                                ensure_ascii=False) for v in verdicts]
    Path(path).write_text("\n".join(rows) + "\n", encoding="utf-8")


def pair_up(probes: list[Probe], verdicts: dict) -> list[tuple[Probe, Verdict]]:
    """Each probe with its verdict; ValueError if the two sets differ, or if a completion is not
    the one the verdict was given on (the generator changed: re-make the fixture)."""
    missing = [p.key for p in probes if p.key not in verdicts]
    stale = [p.key for p in probes if p.key in verdicts and verdicts[p.key].digest != p.digest]
    extra = len(verdicts) - (len(probes) - len(missing))
    if missing or stale or extra:
        raise ValueError(f"the agreement fixture does not match the generator: {len(missing)} probes without a verdict "
                         f"(e.g. {missing[:3]}), {len(stale)} with another completion (e.g. {stale[:3]}), {extra} verdicts "
                         f"without a probe; re-make {FIXTURE.name} as selector/paper_agreement.py describes")
    return [(p, verdicts[p.key]) for p in probes]


# --------------------------------------------------------------------------- agreement

def agreement(pairs: list[tuple[Probe, Verdict]], grades: list) -> dict[str, tuple[int, int]]:
    """{benchmark: (verdicts agreeing, probes)}, in BENCHMARKS order, plus "overall"."""
    table: dict[str, list[int]] = {}
    for (probe, theirs), ours in zip(pairs, grades, strict=True):
        row = table.setdefault(probe.bench, [0, 0])
        row[0] += ours.correct == theirs.correct
        row[1] += 1
    out = {b: tuple(table[b]) for b in BENCHMARKS if b in table}
    out["overall"] = (sum(a for a, _ in out.values()), sum(n for _, n in out.values()))
    return out
