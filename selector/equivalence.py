"""When two parsed answers mean the same: the grader's comparison rules, applied inside math-verify.

math-verify (HuggingFace, pinned in pyproject.toml) decides most of it: which forms are tried,
sets as sets, equations solved, `simplify` as the last resort. The grader changes five of its
decisions, each a case where math-verify's verdict is wrong (see tests/test_equivalence.py):

1. Numbers. An exact value (integers, fractions, powers, factorials, radicals, pi: anything
   written without a decimal point) equals another exact value only when it is the same number:
   rationals compare exactly, so 1/3^80 != 1/3^81 and 1/20! != 1/21! (math-verify's
   `evalf(chop=True)` called any two numbers below ~1e-15 equal); irrational values compare at
   60 significant digits. A decimal (0.333333, 1.6e-19) is a measurement: where one takes part,
   a == b when |a - b| <= RTOL * max(|a|, |b|), a relative tolerance (math-verify rounds to 6
   decimals, an absolute tolerance under which every |x| < 5e-7 equals 0 and 123456.7 is not
   123456.70001). A decimal counts as the number it spells (0.1 is 1/10, not a binary float),
   so the rule is exact arithmetic, also at its boundary. In an expression with variables,
   decimals are read as the numbers they spell and the comparison is exact (0.5x == x/2).
2. Sets. Intervals, unions of intervals, and conditions on one variable (1 < x <= 2, a list of
   non-overlapping conditions such as `x < -1 or x > 1`) are compared as sets of reals, the
   endpoints by rule 1; a condition may stand for the set on either side (math-verify accepts
   it only as the reference answer), and 2 > x > 1 is 1 < x < 2.
3. Equations in different unknowns are different answers, as math-verify intends for
   assignments (x = 1 is not y = 1): they never reach `solve`, which called x^2 = -1 and
   y^2 = -4 equal (neither has a real solution) and can spend minutes on two unrelated
   differential equations.
4. Radicals of variables are compared for positive variables when they differ otherwise:
   sqrt(a/b) == sqrt(a)/sqrt(b) and sqrt(1/x) == 1/sqrt(x), as an answer with such radicals
   presumes (latex2sympy makes every symbol real, where they differ for negative values).
   Only when both answers have a radical of a variable, so x is still not sqrt(x^2).
5. math-verify is called with allow_set_relation_comp=True, so a condition answered for a set
   reference is converted (rule 2 again).

The patches are installed once per process on first use and act only inside `enabled()`: the
grader always runs with them; `grader._grade_math_verify` (the benchmark's comparison with plain
math-verify) runs without. selector/verify_speedup.py's shortcuts sit inside them and only skip
work. If math-verify's internals change shape, `install` raises, naming what it missed.
"""

import threading
from contextlib import contextmanager
from fractions import Fraction

RTOL = Fraction(1, 10**6)  # where a decimal takes part; see rule 1
EXACT_DIGITS = 60  # irrational values are compared at this many significant digits
_EXACT_RTOL = Fraction(1, 10**50)  # ... with this much left for evalf's last digits

_state = threading.local()  # .on: inside enabled() in this thread
_installed = False


@contextmanager
def enabled():
    install()
    before = getattr(_state, "on", False)
    _state.on = True
    try:
        yield
    finally:
        _state.on = before


def _on() -> bool:
    return getattr(_state, "on", False)


# --------------------------------------------------------------------------- rule 1: numbers


def close(a: tuple[Fraction, Fraction], b: tuple[Fraction, Fraction], rtol: Fraction) -> bool:
    """|a - b| <= rtol * max(|a|, |b|) for complex numbers given as (real, imaginary), exactly."""
    d2 = (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2
    return d2 <= rtol * rtol * max(a[0] ** 2 + a[1] ** 2, b[0] ** 2 + b[1] ** 2)


def numbers_equal(a: Fraction, b: Fraction, decimal: bool) -> bool:
    """Rule 1 for two rationals (the parent's fast path uses this too): exact, unless a decimal
    takes part."""
    return close((a, Fraction(0)), (b, Fraction(0)), RTOL) if decimal else a == b


def _fraction(x) -> Fraction | None:
    """A sympy Integer, Rational or Float as an exact Fraction (a Float is a binary number)."""
    from sympy import Float, Rational

    if isinstance(x, Rational):
        return Fraction(int(x.p), int(x.q))
    if isinstance(x, Float) and x.is_finite:
        sign, man, exp, _ = x._mpf_
        value = Fraction(int(man)) * (Fraction(2) ** int(exp))
        return -value if sign else value
    return None


def _spelled(f) -> Fraction:
    """The decimal a parsed Float stands for: latex2sympy keeps every written digit (a Float of
    max(15, written) digits), and printing it gives them back, as 0.1 -> 1/10."""
    return Fraction(str(f))


def _value(e):
    """(value as (real, imaginary) Fractions, kind) of a sympy number, or None if `e` is not a
    finite number. kind is "exact" (rational), "decimal" (a written decimal takes part) or
    "irrational" (the value is evaluated to EXACT_DIGITS digits)."""
    from sympy import Expr, Float, Rational

    if not isinstance(e, Expr) or e.free_symbols:
        return None
    floats = e.atoms(Float)
    kind = "decimal" if floats else "exact"
    if floats:
        e = e.xreplace({f: Rational(_spelled(f).numerator, _spelled(f).denominator) for f in floats})
    if isinstance(e, Rational):
        return (_fraction(e), Fraction(0)), kind
    if not e.is_finite:
        return None
    re, im = e.evalf(EXACT_DIGITS).as_real_imag()
    re, im = _fraction(re), _fraction(im)
    if re is None or im is None:
        return None
    return (re, im), ("decimal" if floats else "irrational")


def values_equal(a, b) -> bool | None:
    """Rule 1 for two sympy numbers; None when either is not a finite number."""
    try:
        va, vb = _value(a), _value(b)
    except Exception:  # sympy raises many kinds on odd input (math-verify catches them all too):
        return None  # not a number this rule can compare, so `simplify` decides, as before
    if va is None or vb is None:
        return None
    kinds = {va[1], vb[1]}
    if kinds == {"exact"}:
        return va[0] == vb[0]
    return close(va[0], vb[0], RTOL if "decimal" in kinds else _EXACT_RTOL)


def _exact_decimals(e):
    """`e` with every Float replaced by the rational it spells."""
    from sympy import Float, Rational

    floats = e.atoms(Float)
    return e.xreplace({f: Rational(_spelled(f).numerator, _spelled(f).denominator) for f in floats}) if floats else e


# --------------------------------------------------------------------------- rules 2-4: sets, equations, radicals


def _inequality_set(r):
    """The set of reals a condition on one variable describes (x > 1, 1 < x <= 2, x != 3), or None."""
    from latex2sympy2_extended.logic import And
    from sympy import Eq, Ne
    from sympy.core.relational import Relational

    parts = r._unsorted_args if isinstance(r, And) else [r]
    if not parts or not all(isinstance(p, Relational) and not isinstance(p, Eq) for p in parts):
        return None
    if any(isinstance(p, Ne) for p in parts) and len(parts) > 1:
        return None
    symbols = r.free_symbols
    if len(symbols) != 1:
        return None
    try:
        return r.as_set()
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return None  # sympy cannot solve it for the variable: math-verify decides


def _variable(r):
    symbols = r.free_symbols
    return next(iter(symbols)) if len(symbols) == 1 else None


def _conditions_as_set(s):
    """A list of conditions on one variable whose sets do not overlap (math-verify parses
    `x < -1 or x > 1`, and `x < -1, x > 1`, as a FiniteSet of two relations) as their union;
    overlapping ones may mean `and`, so they stay math-verify's."""
    from sympy import EmptySet, FiniteSet, Union

    if not isinstance(s, FiniteSet) or len(s.args) < 2:
        return None
    variables = {_variable(a) for a in s.args}
    if len(variables) != 1 or None in variables:
        return None
    sets = [_inequality_set(a) for a in s.args]
    if any(x is None for x in sets):
        return None
    for i, x in enumerate(sets):
        for y in sets[i + 1:]:
            if x.intersect(y) != EmptySet:
                return None
    return Union(*sets)


def _pieces(s) -> list | None:
    """An evaluated set of reals as its intervals and finite sets, or None if it is anything else."""
    from sympy import EmptySet, FiniteSet, Interval, Union

    pieces = list(s.args) if isinstance(s, Union) else [] if s == EmptySet else [s]
    return pieces if all(isinstance(p, (Interval, FiniteSet)) for p in pieces) else None


def _real_set(x):
    """x as the pieces of a set of reals with at least one interval in it (rule 2), else None."""
    from sympy import Complement, FiniteSet, Intersection, Interval, Union

    if isinstance(x, FiniteSet):
        s = _conditions_as_set(x)
    elif isinstance(x, (Interval, Union, Complement, Intersection)):
        s = _evaluated(x)
    else:
        s = _inequality_set(x)
    pieces = None if s is None else _pieces(s)
    if pieces is None or not any(isinstance(p, Interval) for p in pieces):
        return None  # points only: math-verify compares finite sets element by element
    return pieces


def _evaluated(s):
    """A set expression that latex2sympy built unevaluated (`Union(..., evaluate=False)`), evaluated."""
    from sympy import Complement, Intersection, Union

    if isinstance(s, (Union, Complement, Intersection)):
        return s.func(*[_evaluated(a) for a in s.args])
    return s


def _sorted_pieces(pieces):
    from sympy import FiniteSet, Interval

    out = []
    for p in pieces:
        if isinstance(p, Interval):
            out.append(("interval", p))
        else:
            out += [("point", q) for q in p.args]

    def start(item):
        kind, p = item
        x = p.start if kind == "interval" else p
        try:
            return float(x)
        except (TypeError, ValueError):
            return float("nan")

    return sorted(out, key=start)


def _same_set(gold_pieces, pred_pieces, float_rounding, numeric_precision) -> bool:
    """Piece by piece: the same intervals (closedness and endpoints by rule 1) and points."""
    from math_verify import grader as mvg

    a, b = _sorted_pieces(gold_pieces), _sorted_pieces(pred_pieces)
    if len(a) != len(b):
        return False
    for (ka, pa), (kb, pb) in zip(a, b):
        if ka != kb:
            return False
        if ka == "point":
            if not mvg.sympy_expr_eq(pa, pb, float_rounding, numeric_precision):
                return False
        elif (pa.left_open, pa.right_open) != (pb.left_open, pb.right_open) or not (
            mvg.sympy_expr_eq(pa.start, pb.start, float_rounding, numeric_precision)
            and mvg.sympy_expr_eq(pa.end, pb.end, float_rounding, numeric_precision)
        ):
            return False
    return True


def _same_assigned(gold, pred) -> bool:
    """Both equations assign the same variable or function value (`M = ...`, `f(x) = ...`), which
    appears on neither right side: then they are the same answer when the right sides are."""
    from sympy import Symbol
    from sympy.core.function import AppliedUndef

    lhs = gold.lhs
    return (isinstance(lhs, (Symbol, AppliedUndef)) and pred.lhs == lhs
            and not gold.rhs.has(lhs) and not pred.rhs.has(lhs))


def _parallel(gold, pred) -> bool:
    """E = a against E = b with a != b: one side minus the other differs between the equations by
    a nonzero number (sides swapped or not), so no value satisfies both."""
    f, g = gold.lhs - gold.rhs, pred.lhs - pred.rhs
    for d in (f - g, f + g):
        if not d.is_Number:
            d = d.doit()  # latex2sympy builds `-7y` as an unevaluated -1*7*y, which stays beside 7*y
        if d.is_Number and d.is_finite and d.is_zero is False:
            return True
    return False


def _radical_of_variable(e) -> bool:
    from sympy import Pow, Rational

    return any(
        isinstance(p, Pow) and isinstance(p.exp, Rational) and not p.exp.is_integer and p.base.free_symbols
        for p in e.atoms(Pow)
    )


# --------------------------------------------------------------------------- the patches


def install() -> None:
    global _installed
    if _installed:
        return
    from math_verify import grader as mvg

    from selector import verify_speedup

    verify_speedup.install()  # its symbolic shortcut sits inside rule 4 (installed first, wrapped here)
    names = ["sympy_numeric_eq", "sympy_symbolic_eq", "sympy_compare_sets", "sympy_compare_relational",
             "sympy_expr_eq", "is_equation", "is_atomic_or_pct_atomic", "safe_sympy_doit"]
    for name in names:
        if not callable(getattr(mvg, name, None)):
            raise RuntimeError(
                f"math_verify.grader.{name} is gone: selector/equivalence.py patches or calls it; "
                "install the math-verify version pinned in pyproject.toml"
            )
    plain_numeric, plain_symbolic = mvg.sympy_numeric_eq, mvg.sympy_symbolic_eq
    plain_sets, plain_relational = mvg.sympy_compare_sets, mvg.sympy_compare_relational

    def sympy_numeric_eq(a, b, float_rounding, numeric_precision):
        if not _on():
            return plain_numeric(a, b, float_rounding, numeric_precision)
        from sympy import Float, MatrixBase, Number
        from sympy.matrices.expressions import MatrixExpr

        if isinstance(a, (MatrixBase, MatrixExpr)) or isinstance(b, (MatrixBase, MatrixExpr)):
            return plain_numeric(a, b, float_rounding, numeric_precision)  # element by element, through this
        pct = mvg.is_atomic_or_pct_atomic
        if pct(a, Number) or pct(b, Number):
            if not (pct(a, Float) or pct(b, Float)):
                return plain_numeric(a, b, float_rounding, numeric_precision)  # exact already
            return bool(values_equal(mvg.safe_sympy_doit(a), mvg.safe_sympy_doit(b)))  # was: 6-decimal rounding
        if not (a.free_symbols or b.free_symbols):
            return bool(values_equal(a, b))  # was: evalf(chop=True) == 0, an absolute tolerance
        try:
            return (_exact_decimals(a) - _exact_decimals(b)) == 0
        except (TypeError, ValueError, AttributeError):
            return False  # not subtractable (sympy raises these on odd mixes): simplify decides

    def sympy_symbolic_eq(a, b):
        if plain_symbolic(a, b):
            return True
        if not _on() or not (_radical_of_variable(a) and _radical_of_variable(b)):
            return False
        from sympy import Symbol

        positive = {s: Symbol(s.name, positive=True) for s in a.free_symbols | b.free_symbols if isinstance(s, Symbol)}
        return plain_symbolic(a.xreplace(positive), b.xreplace(positive))

    def sympy_compare_sets(gold, pred, float_rounding, numeric_precision):
        if _on():
            g, p = _real_set(gold), _real_set(pred)
            if g is not None and p is not None:
                return _same_set(g, p, float_rounding, numeric_precision)
        return plain_sets(gold, pred, float_rounding, numeric_precision)

    def sympy_compare_relational(gold, pred, float_rounding, numeric_precision):
        from sympy import Eq, Expr

        if _on():
            g, p = _inequality_set(gold), _inequality_set(pred)
            if g is not None and p is not None and _variable(gold) == _variable(pred):
                g, p = _pieces(g), _pieces(p)
                if g is not None and p is not None:
                    return _same_set(g, p, float_rounding, numeric_precision)
            if mvg.is_equation(gold) and mvg.is_equation(pred) and gold.free_symbols != pred.free_symbols:
                return False
            sides = (gold.lhs, gold.rhs, pred.lhs, pred.rhs) if isinstance(gold, Eq) and isinstance(pred, Eq) else ()
            if sides and all(isinstance(x, Expr) for x in sides):
                if _same_assigned(gold, pred):
                    return mvg.sympy_expr_eq(gold.rhs, pred.rhs, float_rounding, numeric_precision)
                if _parallel(gold, pred):
                    return False
        return plain_relational(gold, pred, float_rounding, numeric_precision)

    mvg.sympy_numeric_eq, mvg.sympy_symbolic_eq = sympy_numeric_eq, sympy_symbolic_eq
    mvg.sympy_compare_sets, mvg.sympy_compare_relational = sympy_compare_sets, sympy_compare_relational
    _installed = True

