"""Verdict-preserving speed-ups inside math-verify, on only while the grader's fast path runs.

Where the time goes when math-verify has to decide (the symbolic quarter of the pairs in
perf/grader_speed.py; measured on 2 cores with cProfile):
- parsing: ~11 ms per pair, ~70% of it in ANTLR's full-context (LL) prediction inside
  latex2sympy2_extended's parser;
- verifying a WRONG answer: ~20 ms for a near miss, ~50 ms for another problem's answer, mostly
  in the last resort of `math_verify.grader.sympy_expr_eq`: `simplify(gold - pred).is_zero`
  (a right answer usually stops at the cheap string/number comparisons before it).

Two changes that only skip work:
1. SLL first. ANTLR's documented two-stage parse: predict with SLL, which returns exactly the
   tree LL prediction would, or a syntax error; on any error, parse again with LL as before.
   (PredictionMode.SLL in the ANTLR 4 runtime; the ALL(*) paper, Parr et al. 2014, section 3.2.)
2. A numeric witness before simplify. If gold - pred evaluates to a clearly non-zero number at
   one point that satisfies every assumption of its symbols (latex2sympy2 makes them real),
   gold - pred is not identically zero there, so no simplification can make it zero and
   `sympy_symbolic_eq` would return False: return False without simplifying. Anything that
   does not evaluate to a plain number at that point (undefined functions, derivatives,
   matrices, zoo, a value near 0) goes to simplify as before.

The patches are installed once, per process, on first use, and act only inside `enabled()`:
`grader._grade_slow` runs math-verify without them (under the grader's rules,
selector/equivalence.py, whose symbolic rule calls the patched function), the reference that the
tests and the benchmark hold the fast path to (0 differing verdicts is the contract). The
libraries are pinned in pyproject.toml; if their internals change shape, `install` raises,
naming what it missed.
"""

import threading
from contextlib import contextmanager


class Scope:
    """Where patches installed once per process into math-verify act: only inside
    `with scope.enabled():`, in this thread; outside it (the plain path, other threads) math-verify
    runs as it ships. equivalence.py's rules use a scope of their own."""

    def __init__(self, install):
        self._install, self._state = install, threading.local()

    @contextmanager
    def enabled(self):
        self._install()
        before = getattr(self._state, "on", False)
        self._state.on = True
        try:
            yield
        finally:
            self._state.on = before

    def on(self) -> bool:
        return getattr(self._state, "on", False)


_installed = False
_scope = Scope(lambda: install())
enabled, _on = _scope.enabled, _scope.on


def install() -> None:
    global _installed
    if _installed:
        return
    import latex2sympy2_extended.latex2sympy2 as l2s
    import math_verify.grader as mvg
    from antlr4.atn.PredictionMode import PredictionMode

    converter = l2s._Latex2Sympy
    for owner, name in [(converter, "parse"), (converter, "create_parser"), (mvg, "sympy_symbolic_eq")]:
        if not callable(getattr(owner, name, None)):
            raise RuntimeError(
                f"{owner.__name__}.{name} is gone: selector/verify_speedup.py patches it; "
                "install the math-verify/latex2sympy2_extended versions pinned in pyproject.toml"
            )
    plain_parse, plain_create, plain_symbolic_eq = converter.parse, converter.create_parser, mvg.sympy_symbolic_eq

    def create_parser(self, latex_str):
        parser = plain_create(self, latex_str)
        if getattr(self, "_sll_stage", False):
            parser._interp.predictionMode = PredictionMode.SLL
        return parser

    def parse(self, latex_str):
        if not _on():
            return plain_parse(self, latex_str)
        self._sll_stage = True
        try:
            return plain_parse(self, latex_str)
        except Exception:  # a syntax error under SLL (or a failed conversion): LL decides, as before;
            self._sll_stage = False  # math-verify's timeout is a BaseException and passes through
            return plain_parse(self, latex_str)
        finally:
            self._sll_stage = False

    def sympy_symbolic_eq(a, b):
        if _on() and _nonzero_witness(a, b):
            return False
        return plain_symbolic_eq(a, b)

    converter.create_parser, converter.parse = create_parser, parse
    mvg.sympy_symbolic_eq = sympy_symbolic_eq
    _installed = True


def _point(symbol, index: int):
    """A value for `symbol` that satisfies every assumption it carries, or None.

    Distinct per symbol (index), irrational-free and away from 0, 1 and the integers, so that a
    polynomial identity in disguise is unlikely to vanish there by accident (a vanishing point
    only costs the speed-up: simplify then decides)."""
    from sympy import I, Integer, Rational

    x = Rational(7, 11) + Rational(index, 3)
    for value in (x, -x, Integer(index + 2), Integer(-index - 2), x + Rational(5, 13) * I):
        if all(getattr(value, "is_" + key) == want for key, want in symbol.assumptions0.items()):
            return value
    return None


def _nonzero_witness(a, b) -> bool:
    """True only if a - b is certainly not zero: it evaluates, at two precisions that agree, to
    a number of magnitude > 1e-10 at a point satisfying its symbols' assumptions."""
    from sympy import Expr, Symbol

    if not (isinstance(a, Expr) and isinstance(b, Expr)):
        return False  # matrices, sets, relations: simplify's business
    try:
        d = a - b
        symbols = sorted(d.free_symbols, key=lambda s: s.name)
        point = {}
        for i, s in enumerate(symbols):
            if not isinstance(s, Symbol) or (value := _point(s, i)) is None:
                return False
            point[s] = value
        at = d.xreplace(point)
        lo, hi = complex(at.evalf(30)), complex(at.evalf(45))
    except Exception:  # sympy raises all sorts on odd expressions; then simplify decides, as before
        return False
    finite = all(abs(z) < float("inf") for z in (lo, hi))  # complex() of nan/zoo: nan or inf
    return finite and abs(lo) > 1e-10 and abs(lo - hi) <= 1e-6 * abs(lo)
