"""When two parsed answers mean the same: the grader's comparison rules, applied inside math-verify.

math-verify (HuggingFace, pinned in pyproject.toml) decides most of it: which forms are tried,
sets as sets, equations solved, `simplify` as the last resort. The grader changes these of its
decisions, each where math-verify's verdict is wrong (rows in tests/grader_cases.py, EQUIVALENCE):

1. Numbers. An exact value (integers, fractions, powers, factorials, radicals, pi: anything
   written without a decimal point) equals another exact value only when it is the same number:
   rationals compare exactly, so 1/3^80 != 1/3^81 and 1/20! != 1/21! (math-verify's
   `evalf(chop=True)` called any two numbers below ~1e-15 equal); irrational values compare at
   60 significant digits (equal when within 1e-50 of each other, relatively). A decimal
   (0.333333, 1.6e-19) is a measurement: where one takes part, a == b when
   |a - b| <= RTOL * max(|a|, |b|), RTOL = 1e-6, a relative tolerance (math-verify rounds both to
   6 decimals, an absolute tolerance under which every |x| < 5e-7 equals 0). A decimal counts as
   the number it spells (0.1 is 1/10, not a binary float), so the rule is exact arithmetic, at
   its boundary too (0.333333 against 1/3 is on it, and equal). Number against number is decided
   by value alone (math-verify compared structure, then left it to `simplify`). In an expression
   with variables, decimals are read as the numbers they spell and the comparison is exact
   (0.5x == x/2), as before by `simplify`.
2. Sets. Intervals, unions of intervals, and conditions on one variable (1 < x <= 2, a list of
   non-overlapping conditions such as `x < -1 or x > 1`) are compared as sets of reals, the
   endpoints by rule 1; a condition may stand for the set on either side (math-verify accepts
   it only as the reference answer; verify(allow_set_relation_comp=True)), and 2 > x > 1 is
   1 < x < 2.
3. Equations. Equations in different unknowns are different answers, as math-verify intends for
   assignments (x = 1 is not y = 1); so are two that assign the same variable or function value
   (`M = ...`, `f(x) = ...`) different right sides, and two whose sides differ by a nonzero
   number (E = a against E = b). None of these reaches `solve`, which called x^2 = -1 and
   y^2 = -4 equal (neither has a real solution) and can spend minutes on two unrelated
   differential equations.
4. Radicals of variables are compared for positive variables when they differ otherwise:
   sqrt(a/b) == sqrt(a)/sqrt(b) and sqrt(1/x) == 1/sqrt(x), as an answer with such radicals
   presumes (latex2sympy makes every symbol real, where they differ for negative values).
   Only when both answers have a radical of a variable, so x is still not sqrt(x^2).

`read_number` and `values_equal_exactly` decide rule 1 without sympy for numbers as answers
write them (the grader's fast path, in the calling process); the tests hold them to the sympy
path on random expressions.

The patches are installed once per process on first use and act only inside `enabled()`: the
grader always runs with them; `grader._grade_math_verify` (the benchmark's comparison with plain
math-verify) runs without. selector/verify_speedup.py's shortcuts sit inside them and only skip
work. If math-verify's internals change shape, `install` raises, naming what it missed.
"""

import math
import re
from decimal import Context, Decimal, localcontext
from fractions import Fraction

from selector.verify_speedup import Scope

RTOL = Fraction(1, 10**6)  # where a decimal takes part; see rule 1
EXACT_DIGITS = 60  # irrational values are compared at this many significant digits
_EXACT_RTOL = Fraction(1, 10**50)  # ... with this much left for evalf's last digits

_installed = False
_scope = Scope(lambda: install())  # the rules act only inside enabled(), in that thread
enabled, _on = _scope.enabled, _scope.on


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
    from math_verify import grader as mvg
    from sympy import Expr, Float, Rational

    if not isinstance(e, Expr) or e.free_symbols:
        return None
    e = mvg.safe_sympy_doit(e)  # latex2sympy leaves 3^{80} and 20! unevaluated: make them Integers
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


# --------------------------------------------------------------------------- rule 1 without sympy

# The calling process settles numbers it can read exactly (grader._fast_verdict): what math-verify
# would parse them to, compared by the same rule. Values are sums of c * sqrt(n) * pi^k (c
# rational, n squarefree, k an integer), kept as {(n, k): c}; these terms are linearly independent
# over the rationals (distinct square roots of squarefree integers are, and pi is transcendental),
# so equal values have equal dicts.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)")
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")  # math-verify's own reading
_FRACTION = re.compile(r"([+-]?)(?:\\frac\{(\d+)\}\{(\d+)\}|(\d+)/(\d+))")  # `\frac{a}{b}`, `a/b`
_EXPRESSION = re.compile(r"(?:[\d+\-*/^!(){} ]|\\(?:frac|sqrt|pi|cdot|times|left|right)(?![A-Za-z])|\\[,;:!])+")
_TOKEN = re.compile(r"\\(?:frac|sqrt|pi|cdot|times)|\\left(?=\()|\\right(?=\))|\\[,;:! ]| |.")
_PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803"
              "482534211706798214808651328230664709384460955058223172535940812848111745028410270193852")
_MAX_DIGITS = 1000  # numerators and denominators past this are math-verify's (and its deadline's)
_MAX_SQUAREFREE = 10**8  # square roots of larger integers are math-verify's (trial division up to 10^4)


_SPACING = {" ", "\\left", "\\right", "\\,", "\\;", "\\:", "\\!", "\\ "}


class _Unsupported(Exception):
    """Outside what read_number decides exactly: math-verify decides."""


def _square_free(n: int) -> tuple[int, int]:
    """(s, m) with n == s * s * m and m squarefree."""
    if n > _MAX_SQUAREFREE:
        raise _Unsupported
    s, d = 1, 2
    while d * d <= n:
        while n % (d * d) == 0:
            n //= d * d
            s *= d
        d += 1
    return s, n


def _checked(v: dict) -> dict:
    v = {key: c for key, c in v.items() if c}
    if len(v) > 16 or any(max(abs(c.numerator), c.denominator).bit_length() > 3.33 * _MAX_DIGITS for c in v.values()):
        raise _Unsupported
    return v


def _add(a: dict, b: dict, sign: int = 1) -> dict:
    out = dict(a)
    for key, c in b.items():
        out[key] = out.get(key, Fraction(0)) + sign * c
    return _checked(out)


def _mul(a: dict, b: dict) -> dict:
    out: dict = {}
    for (n, k), c in a.items():
        for (m, j), d in b.items():
            g = math.gcd(n, m)  # sqrt(n) sqrt(m) = g sqrt(nm / g^2), squarefree again
            key = (n // g * (m // g), k + j)
            out[key] = out.get(key, Fraction(0)) + c * d * g
    return _checked(out)


def _rational(v: dict) -> Fraction | None:
    if not v:
        return Fraction(0)
    return v.get((1, 0)) if len(v) == 1 and (1, 0) in v else None


def _inverse(v: dict) -> dict:
    """1 / v for a single term (c sqrt(n) pi^k)^-1 = sqrt(n) / (c n) pi^-k; sums are not read."""
    if len(v) != 1:
        raise _Unsupported
    ((n, k), c), = v.items()
    return {(n, -k): 1 / (c * n)}


def _power(v: dict, e: dict) -> dict:
    e = _rational(e)
    if e is None or e.denominator != 1 or abs(e) > 256:
        raise _Unsupported  # a root, or a tower: math-verify's
    if not v and e < 0:
        raise _Unsupported  # 0^-1 is zoo
    base, out, e = (_inverse(v) if e < 0 else v), {(1, 0): Fraction(1)}, abs(int(e))
    while e:
        if e & 1:
            out = _mul(out, base)
        e >>= 1
        if e:
            base = _mul(base, base)
    return out


def _sqrt(v: dict) -> dict:
    r = _rational(v)
    if r is None or r < 0:
        raise _Unsupported  # a nested radical, or an imaginary one
    if r == 0:
        return {}
    s, m = _square_free(r.numerator * r.denominator)  # sqrt(p/q) = sqrt(pq) / q
    return _checked({(m, 0): Fraction(s, r.denominator)})


def _factorial(v: dict) -> dict:
    r = _rational(v)
    if r is None or r.denominator != 1 or not 0 <= r <= 300:
        raise _Unsupported
    return {(1, 0): Fraction(math.factorial(int(r)))}


class _Reader:
    r"""Recursive descent over latex2sympy2_extended's precedence (PS.g4): sums of products,
    products by `\cdot`, `\times`, `*`, `/` of unary terms, a unary term an implicit product
    of postfixes (`2\sqrt{3}\pi`), a postfix a power with `!`s."""

    def __init__(self, text: str):
        self.tokens = [t for t in _TOKEN.findall(text) if t not in _SPACING]
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, want: str | None = None) -> str:
        t = self.peek()
        if t is None or (want is not None and t != want):
            raise _Unsupported
        self.i += 1
        return t

    def read(self) -> dict:
        v = self.expr()
        if self.peek() is not None:
            raise _Unsupported
        return v

    def expr(self) -> dict:
        v = self.product()
        while self.peek() in ("+", "-"):
            sign = 1 if self.take() == "+" else -1
            v = _add(v, self.product(), sign)
        return v

    def product(self) -> dict:
        v = self.unary()
        while self.peek() in ("*", "\\cdot", "\\times", "/"):
            op = self.take()
            w = self.unary()
            if op == "/" and not w:
                raise _Unsupported  # zoo
            v = _mul(v, _inverse(w) if op == "/" else w)
        return v

    def unary(self) -> dict:
        if self.peek() in ("+", "-"):
            sign = 1 if self.take() == "+" else -1
            return _mul({(1, 0): Fraction(sign)}, self.unary())
        items = [self.postfix()]
        while self.peek() is not None and (self.peek().isdigit() or self.peek() in ("\\frac", "\\sqrt", "\\pi", "(", "{")):
            items.append(self.postfix())
        if len(items) > 1 and _rational(items[-1]) is not None:
            # latex2sympy reads an integer before a rational as a mixed number (`2\frac{1}{2}` is
            # 5/2, and `3(2)` is 5): that is math-verify's to decide.
            raise _Unsupported
        v = items[0]
        for w in items[1:]:
            v = _mul(v, w)
        return v

    def postfix(self) -> dict:
        v = self.comp()
        if self.peek() == "^":
            self.take()
            v = _power(v, self.argument())
            if self.peek() == "^":
                raise _Unsupported  # a tower
        while self.peek() == "!":
            self.take()
            v = _factorial(v)
        return v

    def argument(self) -> dict:
        r"""`{expr}`, or TeX's one-character argument (`\frac12`, `\sqrt2`, `2^3`)."""
        if self.peek() == "{":
            self.take()
            v = self.expr()
            self.take("}")
            return v
        t = self.take()
        if not t.isdigit():
            raise _Unsupported
        return {(1, 0): Fraction(int(t))} if t != "0" else {}

    def comp(self) -> dict:
        t = self.peek()
        if t is not None and t.isdigit():
            digits = ""
            while self.peek() is not None and self.peek().isdigit():
                digits += self.take()
            if len(digits) > _MAX_DIGITS:
                raise _Unsupported
            return _checked({(1, 0): Fraction(int(digits))})
        self.take()
        if t == "\\frac":
            top, bottom = self.argument(), self.argument()
            if not bottom:
                raise _Unsupported  # zoo
            return _mul(top, _inverse(bottom))
        if t == "\\sqrt":
            return _sqrt(self.argument())
        if t == "\\pi":
            return {(1, 1): Fraction(1)}
        if t in ("(", "{"):
            v = self.expr()
            self.take(")" if t == "(" else "}")
            return v
        raise _Unsupported


def read_number(s: str) -> tuple[dict, bool] | None:
    r"""(value, whether it is a decimal) of an answer that is a number as written: an integer, a
    decimal, a number with thousands commas, or an exact expression of integers with + - * /
    \frac \sqrt \pi ^ ! (decimals only alone, never inside an expression); None for anything
    else, which math-verify decides."""
    if len(s) > 4000:
        return None  # past Python's int-from-text limit (4,300 digits): math-verify decides
    if _PLAIN_NUMBER.fullmatch(s) or _THOUSANDS.fullmatch(s):
        text = s.replace(",", "")
        try:
            if "." not in text:
                return _checked({(1, 0): Fraction(int(text))}), False
            if s in ("0.5", ".5"):
                # latex2sympy2_extended's `nits` normalisation rewrites exactly "0.5" (and ".5") as
                # \frac{1}{2}: for math-verify that one decimal is exact (0.25 is not).
                return {(1, 0): Fraction(1, 2)}, False
            return _checked({(1, 0): Fraction(text)}), True
        except _Unsupported:
            return None  # past _MAX_DIGITS (a boxed number of ~1,000-4,000 digits raised out of grade)
    if len(s) > 300 or not _EXPRESSION.fullmatch(s):
        return None
    try:
        return _Reader(s).read(), False
    except (_Unsupported, RecursionError):
        return None


def _decimal(v: dict) -> tuple[Decimal, Decimal]:
    """v as a Decimal (context precision), and the sum of its terms' sizes (for the rounding)."""
    total, size = Decimal(0), Decimal(0)
    for (n, k), c in v.items():
        term = Decimal(c.numerator) / Decimal(c.denominator) * Decimal(n).sqrt() * _PI**k
        total += term
        size += abs(term)
    return total, size


def values_equal_exactly(a: tuple[dict, bool], b: tuple[dict, bool]) -> bool | None:
    """Rule 1 on two read_number values: `values_equal`'s verdict, or None where only a closer
    evaluation than 100 digits could tell (math-verify then decides)."""
    (va, da), (vb, db) = a, b
    decimal = da or db
    try:
        if _add(va, vb, -1) == {}:
            return True
    except _Unsupported:
        return None
    ra, rb = _rational(va), _rational(vb)
    if ra is not None and rb is not None:
        return numbers_equal(ra, rb, decimal)
    with localcontext(Context(prec=110)):
        (x, sx), (y, sy) = _decimal(va), _decimal(vb)
        noise = (sx + sy) * Decimal(10) ** -100
        tol = Decimal(RTOL.numerator) / RTOL.denominator if decimal else Decimal(10) ** -50
        d, m = abs(x - y), max(abs(x), abs(y))
        if d - noise > tol * (m + noise):
            return False
        if decimal and d + noise < tol * (m - noise):
            return True
    return None  # within 1e-50 yet not equal, or at the decimal tolerance's edge


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
    from sympy import Interval

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
        from sympy import Float, Integer, MatrixBase, Number
        from sympy.matrices.expressions import MatrixExpr

        if isinstance(a, (MatrixBase, MatrixExpr)) or isinstance(b, (MatrixBase, MatrixExpr)):
            return plain_numeric(a, b, float_rounding, numeric_precision)  # element by element, through this
        pct = mvg.is_atomic_or_pct_atomic
        if pct(a, Number) or pct(b, Number):
            if pct(a, Float) or pct(b, Float):
                return bool(values_equal(mvg.safe_sympy_doit(a), mvg.safe_sympy_doit(b)))  # was: 6-decimal rounding
            if (pct(a, Integer) and pct(b, Integer)) or a.free_symbols or b.free_symbols:
                return plain_numeric(a, b, float_rounding, numeric_precision)  # 9% == 9, as math-verify says
            equal = values_equal(a, b)  # was: the same structure after doit(), else `simplify` decided
            return plain_numeric(a, b, float_rounding, numeric_precision) if equal is None else equal
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

