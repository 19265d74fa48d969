"""Paper grading mode: the evaluation the 1-shot RLVR authors ran, reimplemented, quirks included.

arXiv 2504.20571 reports accuracies from the Qwen2.5-Math evaluation code in the authors'
repository (ypwang61/One-Shot-RLVR, folder Qwen2.5-Eval/evaluation, prompt type
"qwen25-math-cot"). Our own grader (selector/grader.py, "strict") reads only the last box and asks
math-verify; theirs extracts and compares differently, so the same completions score differently.
This module reproduces their behaviour so that our numbers can stand beside the paper's tables.
It is a reimplementation from reading their code, not a copy. Every rule below cites the file at
the pinned commit; `Q` is
https://github.com/ypwang61/One-Shot-RLVR/blob/21ed529ec90002597c92aee957af1dd8166bb66c/Qwen2.5-Eval/evaluation

The pipeline, as math_eval.py `main` and evaluate.py `evaluate` run it on one completion:
1. the text is stripped and cut at the first stop word (Q/math_eval.py, "remove input_prompt");
   an empty completion has no prediction and is wrong;
2. extraction (Q/parser.py `extract_answer`): "final answer is $X$. I hope" (Minerva's few-shot
   form) wins over the last "boxed", which wins over "he answer is" / "final answer is" (all the
   text after the LAST occurrence), else the last number in the text;
3. string normalisation (Q/parser.py `strip_string`), applied twice (once inside extraction, once
   in `run_execute`): LaTeX spacing and \\left/\\right go, a trailing \\text{unit} goes, some 300
   unit words from MathQA go (NOT for Minerva, whose data name is in STRIP_EXCEPTIONS), degrees,
   dollars and percent signs go, number words become digits, `x=`/`k=` prefixes go, `a/b` and
   \\frac12 become \\frac{a}{b}, ...;
4. the multiple-choice clean-up of math_eval.py (matters only for golds made of the letters A-E;
   MATH500 row 97's gold normalises to "" and so accepts any answer without those letters);
5. `math_equal` (Q/grader.py): case-insensitive string match; numbers with relative tolerance
   1e-4 against the gold, gold/100 and gold*100 (so 50 matches 0.5 and 0.5 matches 50);
   brackets dropped; tuples, intervals and matrices element by element; equations; then sympy
   (their LaTeX parser chain, simplify, numeric evaluation) - all within 3 s or wrong.

Golds (`paper_gold`): their loader's reading of each benchmark's row (Q/parser.py
`parse_ground_truth`, called twice: in math_eval.py and again inside evaluate.py, which is why
AIME/AMC/OlympiadBench golds go through `strip_string` twice and MATH500's once).

Where we cannot be them (measured by perf/paper_grader_agreement.py):
- their environment pins sympy 1.12 with antlr4 4.11; we run the project's sympy and antlr4
  4.13 (math-verify pins it). sympy's LaTeX parser refuses to start on antlr4 != 4.11 only
  through a version check, the grammar it ships is the same, so we call it past that check
  (`_parse_latex_sympy`). Their third parser, their bundled latex2sympy2 1.9.0, is replaced by
  latex2sympy2_extended (math-verify's fork of the same grammar): a new dependency on their
  latex2sympy would need antlr4 4.11 and clash with math-verify.
- sympy's `parse_expr` (their second parser) runs `eval` on the answer: we refuse strings that
  name Python builtins or dunders (they would run code); theirs would evaluate them.
- a completion ending in a ``` code block and without "boxed" makes their harness execute the
  program and prompt the model again; a grader cannot, so we grade the text as it is.
- their 3 s limit covers `math_equal` only; ours covers the whole item, extraction included.

Everything runs in one spawned worker process with a hard 3 s deadline per item (a C-level sympy
or big-integer hang is killed, as their Pebble pool does); calls from several threads take turns.
As with selector.grader.Grader, a script that grades must do so under `if __name__ == "__main__":`.
"""

import atexit
import io
import logging
import multiprocessing as mp
import os
import re
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from math import isclose
from typing import Callable

from selector.verdict import Grade
from selector.paper_parser import CHOICE_LETTER, CHOICES, choice_from_text, extract, normalise, shorten_relations

TIMEOUT_S = 3.0  # their per-item limit (Q/evaluate.py: pool.map(..., timeout=3)); a timeout is wrong


# --------------------------------------------------------------------------- benchmarks

@dataclass(frozen=True)
class _Reader:
    data_name: str  # their name for the benchmark (the paper's scripts: Q/sh/eval_all_math.sh)
    skip_units: bool  # in STRIP_EXCEPTIONS: no unit-word stripping, golds not normalised
    gold: Callable[[dict], str]


def _gold_from_solution(row: dict, skip_units: bool) -> str:
    return extract(str(row["solution"]).strip(), skip_units)


def _gold_from_answer(raw) -> str:
    # Their loader normalises the gold when it reads the row and evaluate() normalises it again.
    return normalise(normalise(raw, False), False)


BENCHMARKS: dict[str, _Reader] = {
    # MATH500: evaluate() re-extracts from the solution (its "gt_cot"), one normalisation.
    "math500": _Reader("math500", False, lambda r: _gold_from_solution(r, False)),
    # Minerva: the solution's last box, normalised without unit stripping, then only
    # \neq/\leq/\geq shortened (the STRIP_EXCEPTIONS branch of parse_ground_truth).
    "minerva_math": _Reader("minerva_math", True, lambda r: shorten_relations(_gold_from_solution(r, True))),
    # OlympiadBench: final_answer[0] with only its OUTER dollars stripped (strip("$")).
    "olympiadbench": _Reader("olympiadbench", False, lambda r: _gold_from_answer(r["final_answer"][0].strip("$"))),
    # AIME/AMC: `answer` as is; AMC's 27.0 reads "27.0", which normalisation turns into "27".
    "aime24": _Reader("aime24x8", False, lambda r: _gold_from_answer(r["answer"])),
    "aime25": _Reader("aime25x8", False, lambda r: _gold_from_answer(r["answer"])),
    "amc23": _Reader("amc23x8", False, lambda r: _gold_from_answer(r["answer"])),
}


def _reader(benchmark: str | None) -> _Reader:
    if benchmark is None:
        raise ValueError(f"paper grading needs benchmark=: its rules differ per benchmark; one of {', '.join(BENCHMARKS)}")
    if benchmark not in BENCHMARKS:
        raise ValueError(f"paper grading has no rules for benchmark {benchmark!r}; "
                         f"valid benchmarks: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[benchmark]


def paper_gold(benchmark: str, row: dict) -> str:
    """The reference answer their evaluate() compares with, read from a raw row of our jsonl
    file for `benchmark` (same layout as theirs). Pass it as `gold` to `grade`."""
    return _reader(benchmark).gold(row)


# --------------------------------------------------------------------------- their prediction

_STOP_WORDS = ("</s>", "<|im_end|>", "<|endoftext|>")  # Q/math_eval.py stop_words


def _prediction(completion: str, gold: str, reader: _Reader) -> str | None:
    """Their saved `pred` for a completion: None when the completion is empty."""
    code = completion.strip()
    for stop in _STOP_WORDS:
        if stop in code:
            code = code.split(stop)[0].strip()
    if not code or code == "error":  # Q/parser.py run_execute: no result (their clean-up
        return None  # below would then crash on an empty gold; ours just grades it wrong)
    pred = normalise(extract(code, reader.skip_units), reader.skip_units)
    # Q/math_eval.py main: the clean-up for multiple-choice golds, against the gold as main()
    # read it; that is one normalisation more than evaluate()'s for MATH500, the same elsewhere.
    gold_then = normalise(gold, False) if reader.data_name == "math500" else gold
    if gold_then in CHOICES and pred not in CHOICES:
        pred = choice_from_text(code)
    elif all(ch in "ABCDE" for ch in gold_then) and not all(ch in "ABCDE" for ch in pred):
        pred = "".join(ch for ch in pred if ch in "ABCDE")
    return pred


# --------------------------------------------------------------------------- math_equal

def _attempt(check: Callable[[], object]) -> bool:
    """One of their comparisons. Their code wraps each in a bare `try/except: pass`, so any error
    (an unparsed string, a shape mismatch, a sympy refusal) means "not shown equal this way"."""
    try:
        return bool(check())
    except Exception:  # noqa: BLE001 - the verdict they give to every failing check: not equal
        return False


def _as_number(s: str) -> float | None:
    """Q/grader.py `parse_digits`: Python's float() (so "1_000", "inf", "1e5" count) after
    dropping commas, or a percentage (50% and 50\\% -> 0.5)."""
    s = s.replace(",", "")
    try:
        return float(s)
    except ValueError:
        pass
    if s.endswith("%"):
        s = s[:-1].removesuffix("\\")
        try:
            return float(s) / 100
        except ValueError:
            pass
    return None


def _choice_letter(pred: str) -> str:
    """Q/grader.py's own `choice_answer_clean` (the last letter, unlike the parser's)."""
    pred = pred.strip("\n").rstrip(".").rstrip("/").strip(" ").lstrip(":")
    letters = CHOICE_LETTER.findall(pred.upper())
    return (letters[-1] if letters else pred.strip().strip(".")).rstrip(".").rstrip("/")


def _rows_as_pmatrix(s: str) -> str:
    """Q/grader.py `str_to_pmatrix`, used when only the prediction is a matrix: each "{a,b}" in
    the gold becomes a pmatrix whose commas turn into ONE backslash (so no row break)."""
    found = re.findall(r"\{.*,.*\}", s.strip())
    return ", ".join("\\begin{pmatrix}" + m.strip("{}").replace(",", "\\") + "\\end{pmatrix}" for m in found)


_MATRIX_OPEN = ("\\begin{pmatrix}", "\\begin{bmatrix}")
_MATRIX_CLOSE = ("\\end{pmatrix}", "\\end{bmatrix}")
_BRACKETED = re.compile(r"(\(|\[).+(\)|\])")


def _matrix_cells(m: str) -> list[list[str]]:
    body = m[len("\\begin{pmatrix}") : -len("\\end{pmatrix}")]
    return [line.strip().split("&") for line in body.split("\\\\") if line.strip()]


def _math_equal(pred: str | None, ref: str | None) -> bool:
    """Q/grader.py `math_equal` with include_percentage and is_close on, as evaluate() calls it."""
    if pred is None or ref is None:
        return False
    if pred.strip().lower() == ref.strip().lower():
        return True
    if ref in CHOICES and _choice_letter(pred) == ref:
        return True
    p, r = _as_number(pred), _as_number(ref)
    if p is not None and r is not None:
        # Numbers: rel. tolerance 1e-4 against the gold and, for percentages, gold/100 and gold*100.
        return any([_attempt(lambda g=g: isclose(g, p, rel_tol=1e-4)) for g in (r / 100, r, r * 100)])
    if not pred:
        return False
    ref, pred = ref.strip(), pred.strip()
    if "pmatrix" in pred and "pmatrix" not in ref:
        ref = _rows_as_pmatrix(ref)
    # Brackets of any kind dropped, unless the two are intervals of different openness.
    p_str, r_str = pred, ref
    if (pred.startswith("[") and pred.endswith("]") and not ref.startswith("(")) or (
            pred.startswith("(") and pred.endswith(")") and not ref.startswith("[")):
        p_str, r_str = p_str.strip("[]()"), r_str.strip("[]()")
    for bracket in "{}()":
        p_str, r_str = p_str.replace(bracket, ""), r_str.replace(bracket, "")
    if p_str.lower() == r_str.lower():
        return True
    # Tuples and intervals: element by element, after dropping the first and last character.
    if _BRACKETED.match(pred) and _BRACKETED.match(ref):
        p_parts, r_parts = pred[1:-1].split(","), ref[1:-1].split(",")
        if len(p_parts) == len(r_parts) and all([_math_equal(a, b) for a, b in zip(p_parts, r_parts)]):
            return True
    if pred.startswith(_MATRIX_OPEN) and pred.endswith(_MATRIX_CLOSE) and ref.startswith(_MATRIX_OPEN) and ref.endswith(_MATRIX_CLOSE):
        p_rows, r_rows = _matrix_cells(pred), _matrix_cells(ref)
        if len(p_rows) == len(r_rows) and all(
                len(a) == len(b) and all([_math_equal(x, y) for x, y in zip(a, b)]) for a, b in zip(p_rows, r_rows)):
            return True
    if pred.count("=") == 1 and ref.count("=") == 1:
        lhs_p, rhs_p = pred.split("=")
        lhs_r, rhs_r = ref.split("=")
        p_zero, r_zero = f"{lhs_p.strip()} - ({rhs_p.strip()})", f"{lhs_r.strip()} - ({rhs_r.strip()})"
        if _symbolic_equal(p_zero, r_zero) or _symbolic_equal(f"-({p_zero})", r_zero):
            return True
    elif pred.count("=") == 1 and len(pred.split("=")[0].strip()) <= 2 and "=" not in ref:
        if _math_equal(pred.split("=")[1], ref):
            return True  # "k=5" against "5"
    elif ref.count("=") == 1 and len(ref.split("=")[0].strip()) <= 2 and "=" not in pred:
        if _math_equal(pred, ref.split("=")[1]):
            return True
    return _symbolic_equal(pred, ref)


# --------------------------------------------------------------------------- sympy

def _parse_latex_sympy(s: str, strict: bool = False):
    """sympy's ANTLR LaTeX parser (their first choice), past its antlr4 == 4.11 version check:
    the generated parser loads under the antlr4 4.13 runtime math-verify pins (it prints a
    version warning, which the worker discards). Non-strict, as in sympy 1.12: text after the
    first complete expression is ignored ("1,2" reads as 1). `_serve` also installs it as the
    module's own `parse_latex`, which sympy calls back for the top of \\frac{dM}{dt}."""
    import antlr4
    from sympy.parsing.latex import _parse_latex_antlr as antlr

    s = s.strip()
    listener = antlr.MathErrorListener(s)
    lexer = antlr.LaTeXLexer(antlr4.InputStream(s))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser = antlr.LaTeXParser(antlr4.CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    return antlr.convert_relation(parser.math().relation())


# parse_expr runs Python's eval on the text: identifiers that could reach the interpreter are
# refused (a deliberate departure: theirs would run them).
_UNSAFE = re.compile(r"__|\b(?:import|exec|eval|open|compile|getattr|setattr|delattr|globals|locals|vars|"
                     r"breakpoint|input|exit|quit|help|memoryview|lambda|os|sys|subprocess|builtins)\b")


def _parse_expr(s: str):
    from sympy.parsing.sympy_parser import parse_expr

    if _UNSAFE.search(s):
        raise ValueError("refused: the text names Python internals")
    return parse_expr(s)


def _parse_latex2sympy(s: str):
    """Their third parser is their bundled latex2sympy2 1.9.0; ours is math-verify's fork of the
    same grammar, set as close to it as its options go: no extra normalisation, symbols keep
    their case, `x=2` reads as 2. Their grammar has no sets, intervals or tuples ("(1,2]" fails,
    "[1,2]" is a Python list that only an identical list equals), so where the fork builds one
    we fail too. Measured cost of the remaining differences: docs/grading-modes.md."""
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig
    from latex2sympy2_extended.math_normalization import NormalizationConfig
    from sympy import Set, Tuple
    from sympy.sets.contains import Contains

    parsed = latex2sympy(s, normalization_config=NormalizationConfig(False, False, False, False, "none", False),
                         conversion_config=ConversionConfig(interpret_as_mixed_fractions=False,
                                                            interpret_simple_eq_as_assignment=True,
                                                            interpret_contains_as_eq=False, lowercase_symbols=False))
    if isinstance(parsed, (Set, Tuple, Contains)):
        raise ValueError("a set, interval or tuple: their latex2sympy2 builds none")
    return parsed


def _parse(s: str):
    """Their `_parse`: each parser in turn, first on the text with `\\\\` -> `\\`, then as is;
    the string itself if all fail."""
    for parse in (_parse_latex_sympy, _parse_expr, _parse_latex2sympy):
        for text in (s.replace("\\\\", "\\"), s):
            try:
                return parse(text)
            except Exception:  # noqa: BLE001 - any failure: try the next form, then the next parser
                continue
    return s


def _symbolic_equal(a: str, b: str) -> bool:
    """Q/grader.py `symbolic_equal`: parse both, then string/structural equality, simplify(a - b),
    equations as |lhs - rhs|, numeric values (rel. 1e-4), matrices rounded to 3 decimals."""
    from sympy import N, simplify

    x, y = _parse(a), _parse(b)
    if _attempt(lambda: str(x) == str(y) or x == y):
        return True
    if (isinstance(x, str) and _UNSAFE.search(x)) or (isinstance(y, str) and _UNSAFE.search(y)):
        return False  # the checks below would hand the raw string to sympify, i.e. eval
    return (_attempt(lambda: x.equals(y) or simplify(x - y) == 0)
            or _attempt(lambda: abs(x.lhs - x.rhs).equals(abs(y.lhs - y.rhs)))
            or _attempt(lambda: isclose(float(N(y)), float(N(x)), rel_tol=1e-4))
            or _attempt(lambda: x.shape == y.shape and x.applyfunc(lambda v: round(v, 3)).equals(
                y.applyfunc(lambda v: round(v, 3)))))


# --------------------------------------------------------------------------- the worker

STARTUP_S = 120.0  # a fresh worker imports sympy and builds two parsers: seconds, not minutes
log = logging.getLogger(__name__)
_lock = threading.Lock()
_worker: "_Worker | None" = None


def _serve(conn) -> None:
    """The worker: answer each (completion, gold, benchmark) with ("x", pred) then ("v", correct),
    or ("error", text) if their rules raise (their evaluate() would stop the whole run)."""
    import signal

    from sympy.parsing.latex import _parse_latex_antlr

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    sys.stdout = io.StringIO()  # antlr4's version warning is printed on every parser made
    warnings.simplefilter("ignore")  # parse_expr's SyntaxWarnings on LaTeX read as Python
    _parse_latex_antlr.parse_latex = _parse_latex_sympy  # its own recursive calls skip the check
    _math_equal(_prediction("\\boxed{\\frac{x}{2}}", "0.5x", BENCHMARKS["math500"]), "0.5x")  # warm up
    conn.send(("ready",))
    while (job := conn.recv()) is not None:
        completion, gold, benchmark = job
        try:
            pred = _prediction(completion, gold, _reader(benchmark))
            conn.send(("x", pred))
            conn.send(("v", _math_equal(pred, gold)))
        except Exception as e:  # noqa: BLE001 - e.g. RecursionError on 10k nested brackets: reported
            conn.send(("error", f"{type(e).__name__}: {str(e)[:200]}"))
        sys.stdout.seek(0)
        sys.stdout.truncate()


class _Worker:
    """One spawned process answering paper verdicts, owned by the process that started it."""

    def __init__(self):
        ctx = mp.get_context("spawn")  # safe once torch/CUDA live in the parent
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.pid = os.getpid()  # a forked child must not talk over its parent's pipe
        if not self.conn.poll(STARTUP_S) or self.conn.recv() != ("ready",):
            self.stop()
            raise RuntimeError(f"the paper-grading worker did not start within {STARTUP_S:.0f} s")

    def ask(self, completion: str, gold: str, benchmark: str) -> Grade:
        """The verdict; TimeoutError(pred so far) past TIMEOUT_S, EOFError if the worker died."""
        self.conn.send((completion, gold, benchmark))
        pred, deadline = None, time.monotonic() + TIMEOUT_S
        while self.conn.poll(max(0.0, deadline - time.monotonic())):
            kind, value = self.conn.recv()
            if kind == "x":
                pred = value
            elif kind == "v":
                return Grade(bool(value), bool(pred), pred or None)
            else:
                log.warning("paper grading raised %s on %r; graded wrong", value, completion[:200])
                return Grade(False, bool(pred), pred or None)
        raise TimeoutError(pred)

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()


def _stop_worker() -> None:
    global _worker
    if _worker is not None and _worker.pid == os.getpid():
        _worker.stop()
    _worker = None


atexit.register(_stop_worker)


def grade(completion: str, gold: str, benchmark: str) -> Grade:
    """Their verdict on one completion: Grade(correct, formatted = an answer was extracted,
    extracted = their normalised prediction, timed_out). `gold` is `paper_gold(benchmark, row)`.
    Past TIMEOUT_S the worker is killed and replaced, and the item is wrong with timed_out=True."""
    global _worker
    if not isinstance(completion, str) or not isinstance(gold, str):
        raise ValueError(f"completion and gold must be str, got {type(completion).__name__} and "
                         f"{type(gold).__name__} (read golds with paper_gold(benchmark, row))")
    _reader(benchmark)
    with _lock:
        if _worker is None or _worker.pid != os.getpid():
            _worker = _Worker()
        try:
            return _worker.ask(completion, gold, benchmark)
        except TimeoutError as late:
            pred = late.args[0]
        except (EOFError, OSError):
            pred = None  # the worker died (a C-level crash): no verdict in time either
        except BaseException:
            _stop_worker()  # e.g. Ctrl-C mid-question: its late answer must not reach the next one
            raise
        _stop_worker()
        return Grade(False, bool(pred), pred or None, timed_out=True)
