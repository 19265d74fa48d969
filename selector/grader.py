"""The answer grader: one verdict function for both the RL reward and evaluation.

A response is correct when the content of its LAST \\boxed{...} (or \\fbox{...}) means the same
as the reference answer. The meaning check is math-verify (HuggingFace): gold and prediction are
each parsed as a boxed LaTeX answer and compared with verify(gold, pred), in that order (verify
is not symmetric). Around it sits a thin layer:

- extraction: the last box only, brace-balanced, iterative (no recursion limit). An unclosed last
  box means no answer, as in verl's `last_boxed_only_string`, which the paper trained with.
- normalisation, applied identically to gold and prediction, fixing measured math-verify misses:
  Python e-notation (`4.5e33`, `1e-5`: a fifth of Minerva's golds) reads as 4.5*e*33, and
  `a\\times 10^{b}` goes through evalf(chop=True), so 1.6e-19 "equals" 3e-19. Both become plain
  decimals. Also `-1./3` (Minerva) and TeX thousands `1\\,000` (read as 1*0).
- tiny golds: math-verify rounds floats to 6 decimals, so every |x| < 5e-7 equals 0. For a numeric
  gold below 1e-3, float_rounding grows to keep 4 significant digits.
- bad golds (empty, unbalanced braces) are never correct, whatever the response says.
- a fast path for plain numbers and for fractions of integers (`\\frac{a}{b}`, `a/b`) that only
  skips work: it answers only where math-verify's verdict is certain (checked against it on random
  numbers and fractions in the tests), else it defers. Verdicts are
  also memoised per (prediction, gold) string, exact since math-verify is deterministic. So an
  answer identical to the gold costs one math-verify call per gold per process, and is correct
  exactly when math-verify says gold == gold. That holds even for golds it can only keep as
  strings (e.g. `np.arcsin(10/13)`), which it then compares as normalised strings.

Inside math-verify, selector/verify_speedup.py skips work (ANTLR's SLL-first parse, a numeric
witness before simplify) on the fast path only; `_grade_slow` is plain math-verify.

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
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from fractions import Fraction
from functools import lru_cache
from importlib.metadata import version
from multiprocessing.connection import wait

from selector import verify_speedup


# Bump the "g" number whenever any verdict can change; math-verify's version is part of it.
GRADER_VERSION = f"g1+math-verify-{version('math-verify')}"


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
# as TeX's escaped space `\ `; elsewhere it is dropped, so `4.5 \times 10^{33}` hits the memo.
_USELESS_SPACE = re.compile(r"(?<!\\)(?:(?<![A-Za-z0-9]) | (?![A-Za-z0-9]))")
_SCI = re.compile(
    r"(?<![\w.\\])([+-]?)(\d+(?:\.\d*)?|\.\d+)"  # mantissa, not glued to a word or command
    r"(?:[eE]| ?\\(?:times|cdot) ?10\^)"  # Python `e` (unspaced: `2e - 1` is Euler's) or `\times 10^`
    r"(?:\{([+-]?\d{1,3})\}|([+-]?\d{1,3}))(?![\d.])"  # exponent, braced or bare, |b| < 1000
)
_THIN_SPACE_THOUSANDS = re.compile(r"(?<=\d)(?:\\,|\\!|\\ |\{,\})(?=\d{3}(?!\d))")
_TRAILING_DOT = re.compile(r"(?<=\d)\.(?!\d)")  # Minerva's Python-style `-1./3`


def _plain_decimal(m: re.Match) -> str:
    sign, mantissa, exponent = m[1], m[2], m[3] or m[4]
    exact = Context(prec=len(mantissa) + 1, Emax=MAX_EMAX, Emin=MIN_EMIN)  # default keeps 28 digits
    text = format(Decimal(sign + mantissa).scaleb(int(exponent), context=exact), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _normalize(s: str) -> str:
    """The one normalisation gold and prediction both get before math-verify sees them."""
    # Lone surrogates (they occur in sampled text) cannot be encoded: U+FFFD, once, up front.
    s = s.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    s = _DOLLAR.sub("", s).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _SCI.sub(_plain_decimal, _SPACE.sub(" ", s.strip()))
    s = _USELESS_SPACE.sub("", _THIN_SPACE_THOUSANDS.sub("", s))
    return _TRAILING_DOT.sub("", s[:-1] if s.endswith(".") else s)  # a sentence's full stop


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
    Either way `grade` never calls a bad gold correct."""
    if not isinstance(gold, str):
        raise ValueError(f"gold must be a str, got {type(gold).__name__} (convert numbers with str())")
    norm_gold = _normalize(gold)
    problem = _gold_problem(gold, norm_gold)
    if problem is None and parse and _as_number(norm_gold) is None:  # plain numbers always parse
        if not _parse_gold(norm_gold, _mv_timeout(), fast=True):
            problem = "unparseable"  # math-verify extracts nothing, so no answer can match it
    return problem


# --------------------------------------------------------------------------- the verdict

_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _as_number(s: str) -> Decimal | None:
    return Decimal(s) if len(s) <= 4000 and _PLAIN_NUMBER.fullmatch(s) else None


def _float_rounding(norm_gold: str) -> int:
    """math-verify's 6 decimals, or more for a tiny numeric gold, so 4 significant digits count."""
    g = _as_number(norm_gold)
    if g is None or g == 0:
        return 6
    return max(6, 3 - g.adjusted())  # adjusted() is floor(log10|g|)


# An exact fraction as answers write it: `\\frac{a}{b}` or `a/b` with digits only (no decimals).
_FRACTION = re.compile(r"([+-]?)(?:\\frac\{(\d+)\}\{(\d+)\}|(\d+)/(\d+))")


def _as_fraction(s: str) -> Fraction | None:
    """A plain integer or an exact fraction of two, as a Fraction; None for anything else
    (decimals included: math-verify compares a Float to 6 decimals, see _fast_verdict)."""
    if len(s) > 200:
        return None
    if (m := _FRACTION.fullmatch(s)) is None:
        return Fraction(s) if _INTEGER.fullmatch(s) else None
    num, den = (m[2], m[3]) if m[2] is not None else (m[4], m[5])
    if int(den) == 0:
        return None  # sympy's zoo: math-verify decides
    return Fraction(int(num), int(den)) * (-1 if m[1] == "-" else 1)


_INTEGER = re.compile(r"[+-]?\d+")


def _fast_rational_verdict(pred: str, gold: str, rounding: int) -> bool | None:
    """Integers and fractions of integers (at least one a fraction): sympy Rationals, which
    math-verify compares exactly (no Float, so no rounding). The margin below is kept anyway,
    so a near miss is still math-verify's to decide."""
    p, g = _as_fraction(pred), _as_fraction(gold)
    if p is None or g is None:
        return None
    if p == g:
        return True  # \\frac{2}{4} vs \\frac12, \\frac{6}{3} vs 2: one Rational
    if abs(p - g) > 2 * Fraction(1, 10**rounding):
        return False
    return None


def _fast_verdict(pred: str, gold: str, rounding: int) -> bool | None:
    """math-verify's verdict where it is certain from the numbers alone, else None (ask it)."""
    p, g = _as_number(pred), _as_number(gold)
    if p is None or g is None:
        return _fast_rational_verdict(pred, gold, rounding)
    if "." not in pred and "." not in gold:
        return p == g  # two sympy Integers: exact
    # A written decimal becomes a sympy Float of max(15, written digits) digits, and Floats of
    # different precision can differ after rounding (measured: 1927485165.300000 != 1927485165.3).
    if max(len(p.as_tuple().digits), len(g.as_tuple().digits)) > 15:
        return None
    if p == g:
        return True  # 27 vs 27.0, 0.5 vs 0.50: the same 53-bit Float, or simplify(g - p) == 0
    if abs(p - g) > 2 * Decimal(10) ** -rounding:
        return False  # rounding to `rounding` decimals moves each by < 10**-rounding / 2
    return None  # near the rounding edge: math-verify decides


_IN_WORKER = False  # set in Grader's workers, where the hard deadline replaces the alarms


def _mv_timeout() -> int | None:
    # math-verify's signal alarms raise outside the main thread; in workers they'd race the kill.
    if _IN_WORKER or threading.current_thread() is not threading.main_thread():
        return None
    return 5  # math-verify's own default


def _boxed_parse(s: str, configs: list, timeout: int | None) -> list:
    from math_verify import parse  # imported on first use: sympy takes ~0.5 s to import

    return parse("\\boxed{" + s + "}", extraction_config=configs, parsing_timeout=timeout)


@lru_cache(maxsize=1024)
def _parse_gold(norm_gold: str, timeout: int | None, fast: bool = False) -> list:
    from math_verify import LatexExtractionConfig

    with verify_speedup.enabled() if fast else nullcontext():
        return _boxed_parse(norm_gold, [LatexExtractionConfig()], timeout)


def _math_verify(pred: str, norm_gold: str, rounding: int, timeout: int | None) -> bool:
    """Plain math-verify: the reference."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, verify

    pred_parsed = _boxed_parse(pred, [LatexExtractionConfig(), ExprExtractionConfig()], timeout)
    gold_parsed = _parse_gold(norm_gold, timeout)  # cached: one gold serves a whole RL step
    return verify(gold_parsed, pred_parsed, float_rounding=rounding, timeout_seconds=timeout)


MEMO_MAX_CHARS = 2000  # longer answers are neither memoised nor kept parsed: they would crowd the caches


@lru_cache(maxsize=4096)
def _parse_pred_fast(pred: str, timeout: int | None) -> list:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig

    with verify_speedup.enabled():
        return _boxed_parse(pred, [LatexExtractionConfig(), ExprExtractionConfig()], timeout)


def _math_verify_fast(pred: str, norm_gold: str, rounding: int, timeout: int | None) -> bool:
    """The same verdict with verify_speedup's shortcuts inside math-verify (they only skip work),
    both parses cached (sympy expressions are immutable; an answer recurs across golds)."""
    from math_verify import verify

    gold_parsed = _parse_gold(norm_gold, timeout, fast=True)
    parse_pred = _parse_pred_fast if len(pred) < MEMO_MAX_CHARS else _parse_pred_fast.__wrapped__
    pred_parsed = parse_pred(pred, timeout)
    with verify_speedup.enabled():
        return verify(gold_parsed, pred_parsed, float_rounding=rounding, timeout_seconds=timeout)


_math_verify_memo = lru_cache(maxsize=8192)(_math_verify_fast)


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
    rounding: int
    extracted: str


def _prepare(completion: str, gold: str, fallback: bool, fast: bool = True, on_extracted=None):
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
    rounding = _float_rounding(norm_gold)
    verdict = _fast_verdict(pred, norm_gold, rounding) if fast else None
    if verdict is not None:
        return Grade(verdict, True, extracted)
    return _Question(pred, norm_gold, rounding, extracted)


def _ask_math_verify(q: _Question, fast: bool = True) -> bool:
    if not fast:
        return _math_verify(q.pred, q.norm_gold, q.rounding, _mv_timeout())
    check = _math_verify_memo if len(q.pred) < MEMO_MAX_CHARS else _math_verify_fast
    return bool(check(q.pred, q.norm_gold, q.rounding, _mv_timeout()))


def _grade(completion: str, gold: str, fallback: bool, fast: bool = True, on_extracted=None) -> Grade:
    """The verdict. fast=False is the reference: math-verify on every item, no memo, no speed-ups."""
    q = _prepare(completion, gold, fallback, fast, on_extracted)
    if isinstance(q, Grade):
        return q
    return Grade(_ask_math_verify(q, fast), True, q.extracted)


def _grade_slow(completion: str, gold: str, fallback: bool = False) -> Grade:
    """math-verify on every item: no fast path, no memo. The tests hold `grade` to it."""
    return _grade(completion, gold, fallback, fast=False)


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


def _worker_main(conn, fallback: bool) -> None:
    """A Grader worker: answer ("grade", completion, gold) and ("ask", _Question) jobs until None."""
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    logging.getLogger("math_verify").setLevel(logging.ERROR)  # "timeout disabled": on purpose
    _grade("\\boxed{x^2}", "x^{2}", fallback)  # load sympy and the parser before taking work
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

    def __init__(self, ctx, fallback: bool):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, fallback), daemon=True)
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
    the deadline is the point of this class.
    """

    def __init__(self, workers: int | None = None, timeout_s: float = 5.0, fallback: bool = False):
        workers = (os.cpu_count() or 1) if workers is None else workers
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
        """Settle what the parent can; one job per item left or per distinct question, in order."""
        jobs: list[_Job] = []
        asked: dict[tuple[str, str], _Job] = {}
        for i, (completion, gold) in enumerate(zip(completions, golds)):
            got = _prepare(completion, gold, fallback=False) if len(completion) <= PARENT_MAX_CHARS else None
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
        self._pool[slot] = _Worker(self._ctx, self.fallback)
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
