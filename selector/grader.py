"""The answer grader: one verdict function for both the RL reward and evaluation.

A response is correct when the content of its LAST \\boxed{...} (or \\fbox{...}) means the same
as the reference answer. The meaning check is math-verify (HuggingFace) under the grader's rules
(selector/equivalence.py): gold and prediction are each parsed as a boxed LaTeX answer and
compared with verify(gold, pred), in that order (verify is not symmetric). The rules, in short:
exact values compare exactly (1/3^80 != 1/3^81); a relative tolerance of 1e-6 applies only where
a decimal takes part; intervals, unions and conditions on one variable compare as sets of reals;
equations in different unknowns, or E = a against E = b, differ; radicals of variables compare
for positive variables.
Around it sits a thin layer:

- extraction: the last box only, brace-balanced, iterative (no recursion limit). An unclosed last
  box means no answer, as in verl's `last_boxed_only_string`, which the paper trained with.
- normalisation, applied identically to gold and prediction (`_normalize`), fixing measured
  math-verify misreadings: Python e-notation (`4.5e33`: a fifth of Minerva's golds) reads as
  4.5*e*33 and becomes a plain decimal, as does `a\\times 10^{b}`; `-1./3` (Minerva); TeX
  thousands `1\\,000` (read as 1*0). Separators: a comma followed by a space separates list items
  (`1, 000` is the list 1, 0); a thousands separator has no space and groups of exactly three
  digits (`1,000`; math-verify's own rule). Spacing: `~`, `\\>`, `\\hspace{}` are spaces, and a
  space before a last one-letter factor (`\\pi r h`) is a product, not a unit (math-verify strips
  ` h` as hours). `\\text{}` around a number or a clock time with its unit (`\\text{10 hours}`,
  `\\text{3:30 PM}`, `3\\text{:}00`) is unwrapped so the number is read. Set-builder
  `\\{x \\mid 1<x<2\\}` is its condition. Braces around the whole answer only group (`{{5}}`).
- an answer math-verify cannot parse is compared as written (`_boxed_parse`, `_whole_texts`):
  never by a fraction it found inside the box, nor by what its normalisation left of the text.
- clock times with am/pm (`3:30 PM`, `15:30`) compare as times (`_same_clock_time`); math-verify
  reads `3:30` as the ratio 3/30, so 3:30 AM equalled 3:30 PM.
- bad golds (empty, unbalanced braces) are never correct, whatever the response says.
- a fast path that only skips work: numbers as written (integers, decimals, thousands, exact
  expressions with fractions, square roots, pi, powers, factorials) are compared in the calling
  process with Python Fractions, by the same rule 1 (equivalence.read_number); an answer spelled
  exactly like the gold is correct when the gold parses (`check_gold`; known without a parse
  when it has a digit), and verdicts are memoised per (prediction, gold) string. The tests hold
  it to `_grade_slow` (math-verify on every pair under the same rules) on random and real pairs.

Inside math-verify, selector/verify_speedup.py skips work (ANTLR's SLL-first parse, a numeric
witness before simplify) on the fast path only.

`grade` runs in-process: math-verify's own 5 s signal alarms guard it, in the main thread only.
`Grader` settles what needs no math-verify in the calling process and sends each distinct question
left to spawned worker processes, with a hard deadline per question. A worker that overruns
(e.g. `9^{9^{9^{9}}}` spends minutes in C big-int code that no signal interrupts) is killed and
replaced, and its item scores 0 with timed_out=True.
"""

import logging
import multiprocessing as mp
import os
import re
import signal
import threading
import time
import weakref
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from functools import lru_cache
from importlib.metadata import version
from multiprocessing.connection import wait

from selector import equivalence, verify_speedup
from selector.errors import UserError

# Bump the "g" number whenever any verdict can change; math-verify's version is part of it.
# g2: selector/equivalence.py's rules, the separator/spacing/\text/set-builder normalisation,
# clock times (was g1: math-verify's comparison, 6 decimals, float_rounding grown for tiny golds).
GRADER_VERSION = f"g2+math-verify-{version('math-verify')}"


from selector.verdict import Grade  # noqa: E402  (the verdict of both grading modes, re-exported)


# --------------------------------------------------------------------------- extraction

_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_BRACE = re.compile(r"\\.|[{}]", re.DOTALL)  # `\{`, `\}` (and `\\`) are escapes, not braces


def _balanced_end(text: str, start: int) -> int | None:
    """Index just past the `}` that closes the `{` at text[start]; None if it never closes."""
    depth = 0
    for m in _BRACE.finditer(text, start):
        depth += {"{": 1, "}": -1}.get(m.group(), 0)
        if depth == 0:
            return m.end()
    return None


def extract_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} / \\fbox{...} (or `\\boxed 5`); None if not complete."""
    last = None
    for last in _BOX.finditer(text):
        pass
    if last is None:
        return None
    pos = last.end()
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if text.startswith("{", pos):
        end = _balanced_end(text, pos)
        return None if end is None else text[pos + 1 : end - 1]
    # `\boxed 5`: TeX boxes one token, but models mean the whole word (verl reads up to `$`).
    token = re.match(r"[^\s${}]+", text[pos : pos + 1000])
    return token.group() if token and pos > last.end() else None


_ANSWER_IS = re.compile(r"(?i)answer\s*(?:is|:)\s*:?\s*(.+?)\s*(?:\.\s|\.?\s*$|\n)", re.MULTILINE)
_LAST_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?")


def _extract_fallback(text: str) -> str | None:
    """For models that do not box: the last "answer is X" / "answer: X", else the last number."""
    found = None
    for found in _ANSWER_IS.finditer(text):
        pass
    if found is not None and found.group(1).strip("$ "):
        return found.group(1).strip("$ ")
    for found in _LAST_NUMBER.finditer(text):
        pass
    return found.group() if found is not None else None


# --------------------------------------------------------------------------- normalisation

_DOLLAR = re.compile(r"(?<!\\)\$")
_SPACE = re.compile(r"\s+")
# Whitespace means something only between two word characters (`\pi r`, `\text{no way}`) and
# after a comma (a list separator, see _normalize); elsewhere it is dropped, so
# `4.5 \times 10^{33}` hits the memo.
_USELESS_SPACE = re.compile(r"(?<![\\,])(?:(?<![A-Za-z0-9]) | (?![A-Za-z0-9]))")
_SCI = re.compile(
    r"(?<![\w.\\])([+-]?)(\d+(?:\.\d*)?|\.\d+)"  # mantissa, not glued to a word or command
    r"(?:[eE]| ?\\(?:times|cdot) ?10\^)"  # Python `e` (unspaced: `2e - 1` is Euler's) or `\times 10^`
    r"(?:\{([+-]?\d{1,3})\}|([+-]?\d{1,3}))(?![\d.])"  # exponent, braced or bare, |b| < 1000
)
_THIN_SPACE_THOUSANDS = re.compile(r"(?<=\d)(?:\\,|\\!|\\ |\{,\})(?=\d{3}(?!\d))")
# TeX spaces math-verify does not drop (measured: `a~b`, `x\>y`, `x\enspace y`, `x\hspace{2pt}y`
# stay strings); `\ ` too, which it turns into a space anyway. Not `\\ ` (a matrix row break).
_TEX_SPACE = re.compile(r"~|(?<!\\)\\[ >]|\\(?:enspace|thinspace|medspace|thickspace)(?![A-Za-z])|\\hspace\*?\{[^{}]*\}")
# A last one-letter factor of a product (`\pi r h`, `\pi r^{2}h`, `\pi r^2 h`): latex2sympy2_extended
# strips a trailing `h`, `t`, `m`, `s`, `g`, `c`, `d`, `l`, `o` after a space, a digit or a `}` as a
# unit (math_normalization.units), so `\pi r h` was `\pi r`. After a letter and a space, a `}` or
# an exponent it is a factor, and a thin space keeps it; after a plain number (`5 m`, `5m`) it
# stays a unit.
_LAST_FACTOR = re.compile(r"(?:(?<=[A-Za-z]) |(?<=[\^_]\d) ?|(?<=\}))(?=[cdghlmost]$)")
_TRAILING_DOT = re.compile(r"(?<=\d)\.(?!\d)")  # Minerva's Python-style `-1./3`
# `3\text{:}00`, `1\text{,}000`: punctuation in text between digits.
_TEXT_PUNCTUATION = re.compile(r"(?<=\d)\\text\{([:.,])\}(?=\d)")
# `\text{10 hours}`, `\mbox{3:30 PM}`: a number or clock time with its unit, all in text, which
# math-verify keeps as one symbol; unwrapped to `10\text{ hours}`, whose unit it then drops.
_TEXT_NUMBER = re.compile(
    r"\\(?:text|textrm|textnormal|textbf|mbox|mathrm)\{ ?([+-]?\d[\d,]*(?:\.\d+)?(?::[0-5]\d)?)"
    r"(?: ?([A-Za-z][A-Za-z./ ]*?))? ?\}"
)
_NOT_A_UNIT = re.compile(r"\b(?:and|or)\b", re.IGNORECASE)  # `\text{3 or more}` stays text
# Set-builder notation over the reals: `\{x \mid 1<x<2\}`, `\{x\in\mathbb{R}:x>3\}` -> the condition.
_SET_BUILDER = re.compile(
    r"(?:\\left)?\\\{([A-Za-z])(?:\\in\\mathbb\{R\}|\\in\\R|\\in\\mathbb R)?"
    r"(?:\\middle\||\\mid|\\vert|\||:) ?(.+?)(?:\\right)?\\\}"
)


def _plain_decimal(m: re.Match) -> str:
    sign, mantissa, exponent = m[1], m[2], m[3] or m[4]
    exact = Context(prec=len(mantissa) + 1, Emax=MAX_EMAX, Emin=MIN_EMIN)  # default keeps 28 digits
    text = format(Decimal(sign + mantissa).scaleb(int(exponent), context=exact), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _text_number(m: re.Match) -> str:
    number, unit = m[1], (m[2] or "").strip()
    if _NOT_A_UNIT.search(unit):
        return m[0]
    return number + (f"\\text{{ {unit}}}" if unit else "")


def _normalize(s: str) -> str:
    """The one normalisation gold and prediction both get before math-verify sees them."""
    # Lone surrogates (they occur in sampled text) cannot be encoded: U+FFFD, once, up front.
    s = s.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    s = _DOLLAR.sub("", s).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _SCI.sub(_plain_decimal, _SPACE.sub(" ", s.strip()))
    s = _TEX_SPACE.sub(" ", _THIN_SPACE_THOUSANDS.sub("", s))
    s = _TEXT_NUMBER.sub(_text_number, _TEXT_PUNCTUATION.sub(r"\1", s))
    # A comma followed by a space separates list items (`1, 000` is 1 and 0, `10, 100` two
    # numbers), so that space is kept: math-verify reads `1,000` (no space, groups of three) as
    # one thousand, and dropping the space made every such list a number.
    s = _USELESS_SPACE.sub("", _SPACE.sub(" ", s).strip())
    s = _LAST_FACTOR.sub(r"\\,", _strip_outer_braces(s))
    s = _TRAILING_DOT.sub("", s[:-1] if s.endswith(".") else s)  # a sentence's full stop
    if (m := _SET_BUILDER.fullmatch(s)) is not None and m[1] in m[2]:
        s = m[2]
    return s


_MAX_OUTER_BRACES = 100  # deeper is no answer anyone writes: math-verify decides, under the deadline


def _strip_outer_braces(s: str) -> str:
    """`{{5}}` -> `5`: TeX braces around the whole answer only group (latex2sympy reads them as a
    set). Escaped `\\{`, `\\}` are not braces. Linear time: the k outer pairs are the first k
    braces, each closed by the k-th last character."""
    leading = len(s) - len(s.lstrip("{"))
    if not leading or leading > _MAX_OUTER_BRACES or not s.endswith("}"):
        return s
    closes, stack = {}, []
    for m in _BRACE.finditer(s):
        if m.group() == "{":
            stack.append(m.start())
        elif m.group() == "}":
            if not stack:
                return s  # unbalanced: left as it is
            start = stack.pop()
            if start < leading:
                closes[start] = m.start()
    if stack:
        return s
    k = 0
    while k < leading and closes.get(k) == len(s) - 1 - k:
        k += 1
    return s[k:len(s) - k] if k else s


def _gold_problem(gold: str, norm_gold: str) -> str | None:
    if not norm_gold:
        return "empty"
    if _balanced_end("{" + gold + "}", 0) != len(gold) + 2:
        return "unbalanced braces"  # e.g. a DSR-sub gold that lost the last `}` of a \frac
    return None


def check_gold(gold: str, *, parse: bool = True) -> str | None:
    """None if the gold is usable, else why not: "empty", "unbalanced braces", "unparseable".

    parse=False makes only the string checks (microseconds): pool loading uses it, since the
    math-verify parse costs ~6 ms per non-numeric gold (~3.5 s for DSR-sub on every load).
    Either way `grade` never calls a bad gold correct, and an answer spelled exactly like a
    usable gold is correct."""
    if not isinstance(gold, str):
        raise ValueError(f"gold must be a str, got {type(gold).__name__} (convert numbers with str())")
    norm_gold = _normalize(gold)
    problem = _gold_problem(gold, norm_gold)
    if problem is None and parse and _read_number(norm_gold) is None:  # numbers as written always parse
        if not _parse_gold(norm_gold, _mv_timeout(), fast=True):
            problem = "unparseable"  # math-verify extracts nothing, so no answer can match it
    return problem


# --------------------------------------------------------------------------- rules before math-verify

# A clock time with a marker: `3:30 PM`, `4:40\text{ a.m.}` (after _normalize).
_CLOCK = re.compile(r"(\d{1,2}):([0-5]\d)(?:\\text\{ ?([ap])\.? ?m\.?\}| ?([ap])\.? ?m\.?)?", re.IGNORECASE)


def _clock_time(s: str) -> tuple[int, int, bool] | None:
    """(hour of a 24-hour clock, minute, whether am/pm was given), or None if `s` is no time."""
    if (m := _CLOCK.fullmatch(s)) is None:
        return None
    hour, minute, mark = int(m[1]), int(m[2]), (m[3] or m[4] or "").lower()
    if mark:
        return (hour % 12 + (12 if mark == "p" else 0), minute, True) if 1 <= hour <= 12 else None
    return (hour, minute, False) if hour <= 23 else None


def _same_clock_time(pred: str, gold: str) -> bool | None:
    """Two clock times, one at least with am/pm, compare as times; None (math-verify decides)
    otherwise. Without am/pm, `3:30` means 3:30 or 15:30; `13:30` only 13:30."""
    a, b = _clock_time(pred), _clock_time(gold)
    if a is None or b is None or not (a[2] or b[2]):
        return None  # `1:30` alone may be a ratio: math-verify's reading stays
    if a[1] != b[1]:
        return False
    if a[2] and b[2]:
        return a[0] == b[0]
    marked, bare = (a, b) if a[2] else (b, a)
    return bare[0] == marked[0] or (1 <= bare[0] <= 12 and bare[0] % 12 == marked[0] % 12)


# --------------------------------------------------------------------------- the fast path

_BOX_COMMAND = re.compile(r"\\(?:boxed|fbox)")


def _parses_surely(norm_gold: str) -> bool:
    """math-verify parses this gold to something (see _math_verify_fast: then an answer spelled
    the same is correct): it has a digit, which latex2sympy2_extended's normalize_latex never
    removes, and math-verify keeps the normalised text as a fallback when the LaTeX parser fails.
    (A box inside would be unwrapped first: not decided here.)"""
    return any(c.isdigit() for c in norm_gold) and not _BOX_COMMAND.search(norm_gold)


# Golds recur (a step grades 8 rollouts against one): their readings are kept.
_read_number = lru_cache(maxsize=4096)(equivalence.read_number)


def _fast_verdict(pred: str, gold: str) -> bool | None:
    """Rule 1 (selector/equivalence.py) where both answers are numbers as written (integers,
    decimals, fractions, radicals, pi, powers, factorials), else None (ask math-verify): what
    _grade_slow decides, without sympy."""
    p, g = _read_number(pred), _read_number(gold)
    if p is None or g is None:
        return None
    return equivalence.values_equal_exactly(p, g)


# --------------------------------------------------------------------------- math-verify

_IN_WORKER = False  # set in Grader's workers, where the hard deadline replaces the alarms


def _mv_timeout() -> int | None:
    # math-verify's signal alarms raise outside the main thread; in workers they'd race the kill.
    if _IN_WORKER or threading.current_thread() is not threading.main_thread():
        return None
    return 5  # math-verify's own default


def _boxed_parse(s: str, timeout: int | None, expressions: bool, rules: bool) -> list:
    """math-verify's parse of `s` as a boxed answer. Under the rules, an answer it cannot parse is
    not replaced by a fraction found inside it (try_extract_without_anchor=False: its fallback
    read `\\frac{1}{3}E_{1}+\\frac{2}{3}E_{3}` as 2/3, a benchmark near miss graded right)."""
    from math_verify import (  # sympy loads on first use (~0.5 s)
        ExprExtractionConfig,
        LatexExtractionConfig,
        parse,
    )

    configs = [LatexExtractionConfig(try_extract_without_anchor=not rules)] + ([ExprExtractionConfig()] if expressions else [])
    return parse("\\boxed{" + s + "}", extraction_config=configs, parsing_timeout=timeout)


@lru_cache(maxsize=1024)
def _parse_gold(norm_gold: str, timeout: int | None, fast: bool = False, rules: bool = True) -> list:
    with verify_speedup.enabled() if fast else ExitStack():
        return _boxed_parse(norm_gold, timeout, expressions=False, rules=rules)


def _parse_pred(pred: str, timeout: int | None, fast: bool = False, rules: bool = True) -> list:
    with verify_speedup.enabled() if fast else ExitStack():
        return _boxed_parse(pred, timeout, expressions=True, rules=rules)


MEMO_MAX_CHARS = 2000  # longer answers are neither memoised nor kept parsed: they would crowd the caches
_parse_pred_cached = lru_cache(maxsize=4096)(_parse_pred)


def _whole_texts(parsed: list, text: str) -> list:
    """Where math-verify keeps an answer as text (it could not parse it), the text its
    normalisation left must be whole: an unbalanced one (`\\lambda_{` of
    `\\lambda_{\\text{red}}/\\sqrt{2}`, so every such answer was equal) becomes the answer as written."""
    return [x if not isinstance(x, str) or _balanced_end("{" + x + "}", 0) == len(x) + 2 else text for x in parsed]


def _verify(gold_parsed: list, pred_parsed: list, timeout: int | None, texts: tuple[str, str], rules: bool = True) -> bool:
    from math_verify import verify

    if not rules:
        return verify(gold_parsed, pred_parsed, timeout_seconds=timeout)
    gold_parsed, pred_parsed = _whole_texts(gold_parsed, texts[0]), _whole_texts(pred_parsed, texts[1])
    with equivalence.enabled():
        return verify(gold_parsed, pred_parsed, allow_set_relation_comp=True, timeout_seconds=timeout)


def _math_verify(pred: str, norm_gold: str, timeout: int | None, rules: bool = True) -> bool:
    """math-verify under the grader's rules (rules=False: plain math-verify): the references."""
    gold_parsed, pred_parsed = _parse_gold(norm_gold, timeout, rules=rules), _parse_pred(pred, timeout, rules=rules)
    return _verify(gold_parsed, pred_parsed, timeout, (norm_gold, pred), rules)


def _math_verify_fast(pred: str, norm_gold: str, timeout: int | None) -> bool:
    """The same verdict with verify_speedup's shortcuts inside math-verify (they only skip work),
    both parses cached (sympy expressions are immutable; an answer recurs across golds)."""
    gold_parsed = _parse_gold(norm_gold, timeout, fast=True)
    if pred == norm_gold:
        # The same text parses to the same expressions, which verify() finds equal first (as
        # expressions, or as strings for nan/zoo): correct exactly when the gold parses at all.
        return bool(gold_parsed)
    parse_pred = _parse_pred_cached if len(pred) < MEMO_MAX_CHARS else _parse_pred
    pred_parsed = parse_pred(pred, timeout, fast=True)
    with verify_speedup.enabled():
        return _verify(gold_parsed, pred_parsed, timeout, (norm_gold, pred))


_math_verify_memo = lru_cache(maxsize=8192)(_math_verify_fast)


# --------------------------------------------------------------------------- the verdict


def _check_types(completion, gold) -> None:
    if not isinstance(completion, str) or not isinstance(gold, str):
        raise ValueError(
            f"completion and gold must be str, got {type(completion).__name__} and "
            f"{type(gold).__name__} (convert numeric golds such as AMC's 27.0 with str())"
        )


@dataclass(frozen=True)
class _Question:
    """What is left for math-verify once extraction, normalisation and the fast path are done."""

    pred: str
    norm_gold: str
    extracted: str


def _prepare(completion: str, gold: str, fallback: bool, fast: bool = True, on_extracted=None, rules: bool = True):
    """Everything before math-verify: the Grade when that settles it, else the _Question.

    on_extracted(extracted) runs as soon as an answer is found: Grader's workers report it
    then, so an item killed at its deadline still says what was extracted.
    """
    _check_types(completion, gold)
    extracted = extract_boxed(completion)
    if extracted is None and fallback:
        extracted = _extract_fallback(completion)
    if extracted is None:
        return Grade(False, False, None)
    if on_extracted is not None:
        on_extracted(extracted)
    pred, norm_gold = _normalize(extracted), _normalize(gold)
    if not pred or _gold_problem(gold, norm_gold) is not None:
        return Grade(False, True, extracted)  # an empty box, or a gold nothing can match
    verdict = _same_clock_time(pred, norm_gold) if rules else None
    if verdict is None and fast:
        verdict = True if pred == norm_gold and _parses_surely(norm_gold) else _fast_verdict(pred, norm_gold)
    if verdict is not None:
        return Grade(verdict, True, extracted)
    return _Question(pred, norm_gold, extracted)


def _ask_math_verify(q: _Question, fast: bool = True, rules: bool = True) -> bool:
    if not fast:
        return _math_verify(q.pred, q.norm_gold, _mv_timeout(), rules)
    check = _math_verify_memo if len(q.pred) < MEMO_MAX_CHARS else _math_verify_fast
    return bool(check(q.pred, q.norm_gold, _mv_timeout()))


def _grade(completion: str, gold: str, fallback: bool, fast: bool = True, on_extracted=None, rules: bool = True) -> Grade:
    """The verdict. fast=False is the reference: math-verify on every item, no memo, no speed-ups."""
    q = _prepare(completion, gold, fallback, fast, on_extracted, rules)
    if isinstance(q, Grade):
        return q
    return Grade(_ask_math_verify(q, fast, rules), True, q.extracted)


def _grade_slow(completion: str, gold: str, fallback: bool = False) -> Grade:
    """math-verify on every item under the grader's rules: no fast path, no memo, no speed-ups.
    The tests hold `grade` to it."""
    return _grade(completion, gold, fallback, fast=False)


def _grade_math_verify(completion: str, gold: str, fallback: bool = False) -> Grade:
    """Plain math-verify (its own comparison, 6 decimals) on the same extraction and
    normalisation: what perf/grader_speed.py lists the grader's differences against."""
    return _grade(completion, gold, fallback, fast=False, rules=False)


def grade(completion: str, gold: str, *, fallback: bool = False, mode: str = "strict", benchmark: str | None = None) -> Grade:
    """Grade one response (the response only, never the prompt) against a LaTeX gold answer.

    In-process, with no hard deadline: use Grader for untrusted text at scale.
    mode="paper" grades as the paper's evaluation did instead (selector/paper_grader.py, in a
    worker with a 3 s deadline; gold from paper_grader.paper_gold, benchmark= required).
    """
    if mode == "paper":
        from selector import paper_grader

        return paper_grader.grade(completion, gold, benchmark)
    if mode != "strict":
        raise ValueError(f"unknown grading mode {mode!r}; valid modes: strict, paper")
    return _grade(completion, gold, fallback)


# --------------------------------------------------------------------------- worker processes

# The parent settles an item itself (extraction, normalisation, fast path: linear-time string
# work, no math-verify) only when its completion is at most this long; longer text goes to a
# worker whole, under the deadline, like every question for math-verify.
PARENT_MAX_CHARS = 100_000
WORKERS_ENV = "RLVR_GRADER_WORKERS"


def default_workers() -> int:
    """The worker processes a Grader starts when not told: $RLVR_GRADER_WORKERS when set, else
    the CPUs this process may run on (its affinity mask, which taskset, cgroups and SLURM narrow;
    os.cpu_count() counts the whole machine) shared among the $LOCAL_WORLD_SIZE processes of one
    launch (torchrun sets it: each rank grades its own completions), and at least 1."""
    if (env := os.environ.get(WORKERS_ENV, "").strip()):
        if not env.isdigit():
            raise UserError(f"{WORKERS_ENV}={env!r} is not a whole number >= 0; set e.g. {WORKERS_ENV}=4 "
                            "(0 grades in-process, without the hard deadline)")
        return int(env)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    local = os.environ.get("LOCAL_WORLD_SIZE", "").strip() or "1"
    if not local.isdigit() or int(local) < 1:
        raise UserError(f"LOCAL_WORLD_SIZE={local!r} is not a whole number >= 1 (torchrun sets it; unset it "
                        "for a single process)")
    return max(1, cpus // int(local))


# Answers a fresh worker parses before it takes work, so ANTLR's prediction cache (its DFA, one
# per process, grown by every parse) already holds the usual shapes of an answer: fractions,
# radicals, powers, sets, intervals, tuples, matrices, equations, functions, units. Written for
# this purpose (not taken from any benchmark); it takes about a second of a worker's start-up.
_WARM_UP = (
    "\\frac{3}{4}", "-\\frac{\\sqrt{3}}{2}", "2\\sqrt{6}-3", "\\frac{1+\\sqrt{5}}{2}", "\\sqrt[3]{2}", "3^{10}",
    "2^{n+1}-1", "x^2+3x-4", "\\frac{x}{x-1}", "(x+1)^2(x-2)", "\\frac{a b}{2}", "4\\pi r^2", "\\pi",
    "\\frac{5\\pi}{6}", "2e^{-3t}", "\\ln 2", "\\log_{2} 5", "\\sin(2x)+\\cos x", "\\arctan\\frac{1}{2}",
    "\\tan^{2}\\theta", "n!", "\\binom{10}{3}", "|x-1|", "\\lfloor\\frac{n}{2}\\rfloor", "a_{n}=2n+1",
    "f(x)=3x^{2}", "y=-\\frac{1}{2}x+3", "x=5", "x^{2}+y^{2}=25", "1<x\\le 3", "x\\geq 2", "(1,2)",
    "[0,\\frac{1}{2})", "(-\\infty,-1)\\cup(3,\\infty)", "\\{1,2,3\\}", "1, 3, 5", "(2,-3)", "(1,2,3)",
    "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}-1\\\\2\\end{pmatrix}", "3+4i", "\\frac{1}{2}-\\frac{\\sqrt{3}}{2}i",
    "50\\%", "30^\\circ", "12\\text{ cm}", "\\text{(C)}", "\\text{even}", "\\$25", "0.375", "1.6\\times10^{-19}",
    "\\sqrt{x^{2}+1}", "\\int_{0}^{1}x\\,dx", "\\frac{d y}{d x}", "\\sum_{k=1}^{n}k", "\\alpha+\\beta", "m g h",
    "\\omega_{0}t", "v_{0}\\cos\\theta", "\\frac{1}{4\\pi\\epsilon_{0}}\\frac{q}{r^{2}}", "2\\times10^{8}", "k\\in\\mathbb{Z}",
)


def _warm_up() -> None:
    """Parse _WARM_UP (see there); verdicts are unaffected: the DFA only caches predictions."""
    for answer in _WARM_UP:
        _parse_pred(answer, None, fast=True)


def _worker_main(conn, fallback: bool, warm: bool = True) -> None:
    """A Grader worker: answer ("grade", completion, gold) and ("ask", _Question) jobs until None."""
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    logging.getLogger("math_verify").setLevel(logging.ERROR)  # "timeout disabled": on purpose
    _grade("\\boxed{x^2}", "x^{2}", fallback)  # load sympy and the parser before taking work
    if warm:
        _warm_up()  # not for a replacement: it is needed now, and its cold parses cost what warming would
    conn.send(("ready",))
    while (job := conn.recv()) is not None:
        if job[0] == "ask":
            conn.send(("g", _ask_math_verify(job[1]), True))
            continue
        g = _grade(job[1], job[2], fallback, on_extracted=lambda e: conn.send(("x", e)))
        conn.send(("g", g.correct, g.formatted))  # the parent has the extraction already


@dataclass
class _Job:
    """Work for one worker: a whole item ("grade"), or one math-verify question ("ask") that
    answers every item of the batch sharing it (an RL group often repeats an answer)."""

    message: tuple
    items: list[int]
    extracted: list  # per item: the extraction, known up front for "ask" jobs
    gold: str | None = None  # for "ask" jobs: the normalised gold, to keep its parse warm in one worker


class _Worker:
    """One spawned process, the job it is on, and what it has reported about it."""

    def __init__(self, ctx, fallback: bool, warm: bool = True):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, fallback, warm), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.job: _Job | None = None
        self.sent_at = 0.0

    def stop(self, kill: bool) -> None:
        if not kill:
            try:
                self.conn.send(None)
                self.proc.join(timeout=2.0)
            except (BrokenPipeError, OSError):
                pass  # already dead: nothing to ask politely
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()


def _stop_all(pool: list[_Worker]) -> None:
    while pool:
        pool.pop().stop(kill=False)


class Grader:
    """Batch grading in worker processes with a hard per-item deadline.

    The parent does the cheap part of `grade` itself (extraction, normalisation, the fast path)
    and sends workers only what needs math-verify, each distinct (answer, gold) question once per
    batch, the questions about one gold to one worker where it can (its parse is cached there).
    Verdicts are `grade`'s, item for item.

    Workers start lazily with "spawn" (safe once torch/CUDA live in the parent; the usual spawn
    rule applies: a script must call this under `if __name__ == "__main__":`) and are reused
    across calls. A job past timeout_s has its worker killed and replaced, and its items score 0
    with timed_out=True and count in `timeouts`; so do the items of a job whose worker dies (a
    C-level crash): either way no verdict came in time. workers=0 grades in-process with `grade`,
    without a hard deadline (trusted inputs only). Small batches never go in-process silently:
    the deadline is the point of this class. workers=None: `default_workers()`.
    """

    def __init__(self, workers: int | None = None, timeout_s: float = 5.0, fallback: bool = False):
        workers = default_workers() if workers is None else workers
        if not isinstance(workers, int) or workers < 0:
            raise ValueError(f"workers must be an int >= 0 or None, got {workers!r}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0 seconds, got {timeout_s!r}")
        self.workers, self.timeout_s, self.fallback = workers, float(timeout_s), fallback
        self.timeouts = 0
        self.startup_s = 120.0  # a fresh worker imports sympy and math-verify: seconds, not minutes
        self._ctx = mp.get_context("spawn")
        self._pool: list[_Worker] = []
        self._owner: dict[str, int] = {}  # normalised gold -> the pool slot that has parsed it
        self._gold_parses: dict[str, bool] = {}  # normalised gold -> whether math-verify parses it
        self._finalizer = weakref.finalize(self, _stop_all, self._pool)

    def start(self) -> "Grader":
        """Spawn the workers now (they load sympy in the background) rather than at the first
        question: a training run calls this before loading its model, so no step pays for it."""
        if not self._finalizer.alive:
            raise ValueError("this Grader is closed")
        while len(self._pool) < self.workers:
            self._pool.append(_Worker(self._ctx, self.fallback))
        return self

    def grade_many(self, completions: list[str], golds: list[str]) -> list[Grade]:
        """Grades in input order."""
        if len(completions) != len(golds):
            raise ValueError(f"{len(completions)} completions but {len(golds)} golds")
        for c, g in zip(completions, golds):
            _check_types(c, g)
        if not self._finalizer.alive:
            raise ValueError("this Grader is closed")
        if self.workers == 0:
            return [grade(c, g, fallback=self.fallback) for c, g in zip(completions, golds)]
        results: list[Grade | None] = [None] * len(completions)
        jobs = self._plan(completions, golds, results)
        while len(self._pool) < min(self.workers, len(jobs)):
            self._pool.append(_Worker(self._ctx, self.fallback))
        while jobs or any(w.job is not None for w in self._pool):
            for slot, w in enumerate(self._pool):
                if w.ready and w.job is None and jobs:
                    self._send(w, self._next_job(slot, jobs), results)
            self._poll(results)
        return results  # type: ignore[return-value]

    def _plan(self, completions, golds, results) -> list[_Job]:
        """Settle what the parent can; one job per item left or per distinct question, in order.
        An answer spelled like its gold is settled once a worker has parsed that gold (the
        verdict is whether it parses: see _math_verify_fast), as every later epoch's is."""
        jobs: list[_Job] = []
        asked: dict[tuple[str, str], _Job] = {}
        for i, (completion, gold) in enumerate(zip(completions, golds)):
            got = _prepare(completion, gold, fallback=False) if len(completion) <= PARENT_MAX_CHARS else None
            if isinstance(got, _Question) and got.pred == got.norm_gold and got.norm_gold in self._gold_parses:
                got = Grade(self._gold_parses[got.norm_gold], True, got.extracted)
            if got is None or (self.fallback and isinstance(got, Grade) and not got.formatted):
                jobs.append(_Job(("grade", completion, gold), [i], [None]))  # long text, or the fallback's regexes
            elif isinstance(got, Grade):
                results[i] = got
            elif (job := asked.get((got.pred, got.norm_gold))) is not None:
                job.items.append(i)
                job.extracted.append(got.extracted)
            else:
                job = asked[got.pred, got.norm_gold] = _Job(("ask", got), [i], [got.extracted], got.norm_gold)
                jobs.append(job)
        return jobs[::-1]  # popped from the end: input order

    def _next_job(self, slot: int, jobs: list[_Job]) -> _Job:
        """The next job in order, preferring (among the next 64) one whose gold this slot owns or
        no slot does yet, so each gold is parsed in one worker."""
        if len(self._owner) > 100_000:
            self._owner.clear()  # a long-lived Grader over endless distinct golds: forget, stay small
        for k in range(len(jobs) - 1, max(-1, len(jobs) - 65), -1):
            gold = jobs[k].gold
            if gold is None or self._owner.setdefault(gold, slot) == slot:
                return jobs.pop(k)
        return jobs.pop()

    def _send(self, w: _Worker, job: _Job, results) -> None:
        w.job, w.sent_at = job, time.monotonic()
        try:
            w.conn.send(job.message)
        except (BrokenPipeError, OSError):
            self._lost(w, results)

    def _poll(self, results: list) -> None:
        """Wait for the next message or deadline, then handle whatever is due."""
        busy = [w for w in self._pool if w.job is not None]
        starting = [w for w in self._pool if not w.ready]
        now = time.monotonic()
        wait_s = min((w.sent_at + self.timeout_s - now for w in busy), default=self.startup_s)
        ready = wait([w.conn for w in busy + starting], timeout=max(0.0, wait_s))
        for w in list(self._pool):
            if w.conn in ready:
                self._receive(w, results)
        now = time.monotonic()
        for w in list(self._pool):
            if w.job is not None and now - w.sent_at > self.timeout_s:
                self._lost(w, results)
        if not busy and starting and not ready:
            raise RuntimeError(f"grader workers did not start within {self.startup_s:.0f} s")

    def _receive(self, w: _Worker, results: list) -> None:
        """Handle every message the worker has sent (a job's "x" and "g" often come together)."""
        while True:
            try:
                msg = w.conn.recv()
            except (EOFError, OSError):
                if not w.ready:
                    code = w.proc.exitcode
                    raise RuntimeError(f"a grader worker died while starting (exit code {code})")
                self._lost(w, results)
                return
            if msg[0] == "ready":
                w.ready = True
            elif msg[0] == "x":
                w.job.extracted[0] = msg[1]
            else:
                _, correct, formatted = msg
                for i, extracted in zip(w.job.items, w.job.extracted):
                    results[i] = Grade(correct, formatted, extracted)
                if w.job.message[0] == "ask" and (q := w.job.message[1]).pred == q.norm_gold:
                    if len(self._gold_parses) > 100_000:
                        self._gold_parses.clear()  # endless distinct golds: forget, stay small
                    self._gold_parses[q.norm_gold] = correct
                w.job = None
            if not w.conn.poll():
                return

    def _lost(self, w: _Worker, results: list) -> None:
        """No verdict in time (hung or dead worker): score the job's items 0, replace the worker."""
        if w.job is not None:
            for i, extracted in zip(w.job.items, w.job.extracted):
                results[i] = Grade(False, extracted is not None, extracted, timed_out=True)
            self.timeouts += len(w.job.items)
        w.stop(kill=True)
        slot = self._pool.index(w)
        self._pool[slot] = _Worker(self._ctx, self.fallback, warm=False)
        self._owner = {gold: s for gold, s in self._owner.items() if s != slot}  # its parses are gone

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> "Grader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def grade_batch(
    completions: list[str],
    golds: list[str],
    *,
    workers: int | None = None,
    timeout_s: float = 5.0,
    fallback: bool = False,
) -> list[Grade]:
    """A one-off batch: starts and stops its own workers (keep a Grader to reuse them)."""
    with Grader(workers=workers, timeout_s=timeout_s, fallback=fallback) as grader:
        return grader.grade_many(completions, golds)
