"""The grader's exact number reader (selector/equivalence.py: read_number, values_equal_exactly)
against values computed here: rational expressions with Python's Fraction (every one must be
read, to exactly its value), expressions with square roots and pi with sympy at 60 digits (what
is read must have sympy's value), and the comparison of two read numbers against sympy's.

    python -m pytest tests/test_number_reader.py -q

No math-verify here (tests/test_equivalence.py holds the reader to it): these run in seconds.
"""

import math
import re
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from selector.equivalence import read_number, values_equal_exactly


def _id(text: str) -> str:
    """A test id of letters, digits and dashes only (mutmut passes ids back to pytest)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "empty"


def _value(read) -> sympy.Expr:
    """The number a read_number dict stands for: sum of c * sqrt(n) * pi^k."""
    return sum((sympy.Rational(c.numerator, c.denominator) * sympy.sqrt(n) * sympy.pi**k for (n, k), c in read.items()),
               sympy.Integer(0))


# --------------------------------------------------------------------------- rational expressions: always read, exactly


def _rational_leaf():
    return st.integers(0, 10**6).map(lambda n: (str(n), Fraction(n)))


def _rational_combine(children):
    pair = st.tuples(children, children)
    nonzero = children.filter(lambda c: c[1] != 0)
    return st.one_of(
        pair.map(lambda t: (f"{t[0][0]}+{t[1][0]}", t[0][1] + t[1][1])),
        pair.map(lambda t: (f"{t[0][0]}-({t[1][0]})", t[0][1] - t[1][1])),
        pair.map(lambda t: (f"({t[0][0]})\\cdot ({t[1][0]})", t[0][1] * t[1][1])),
        pair.map(lambda t: (f"({t[0][0]})\\times ({t[1][0]})", t[0][1] * t[1][1])),
        st.tuples(children, nonzero).map(lambda t: (f"\\frac{{{t[0][0]}}}{{{t[1][0]}}}", t[0][1] / t[1][1])),
        st.tuples(children, nonzero).map(lambda t: (f"({t[0][0]})/({t[1][0]})", t[0][1] / t[1][1])),
        st.tuples(nonzero, st.integers(-3, 4)).map(lambda t: (f"\\left({t[0][0]}\\right)^{{{t[1]}}}", t[0][1] ** t[1])),
        children.map(lambda c: (f"-{{{c[0]}}}", -c[1])),
        st.integers(0, 12).map(lambda n: (f"{n}!", Fraction(math.factorial(n)))),
    )


_rational = st.recursive(_rational_leaf(), _rational_combine, max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(_rational)
def test_every_rational_expression_is_read_to_its_exact_value(expr):
    text, want = expr
    got = read_number(text)
    assert got is not None, f"{text}: not read (expected {want})"
    value, decimal = got
    assert (value, decimal) == ({(1, 0): want} if want else {}, False), f"{text}: expected {want}, got {value}"


# --------------------------------------------------------------------------- radicals and pi: what is read is right


def _leaf():
    return st.one_of(
        st.integers(0, 50).map(lambda n: (str(n), sympy.Integer(n))),
        st.just(("\\pi", sympy.pi)),
        st.integers(0, 200).map(lambda n: (f"\\sqrt{{{n}}}", sympy.sqrt(n))),
        st.integers(0, 9).map(lambda n: (f"\\sqrt{n}", sympy.sqrt(n))),
        st.tuples(st.integers(1, 40), st.integers(1, 40)).map(
            lambda t: (f"\\sqrt{{\\frac{{{t[0]}}}{{{t[1]}}}}}", sympy.sqrt(sympy.Rational(t[0], t[1])))),
    )


def _combine(children):
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda t: (f"{t[0][0]}+{t[1][0]}", t[0][1] + t[1][1])),
        pair.map(lambda t: (f"{t[0][0]}-({t[1][0]})", t[0][1] - t[1][1])),
        pair.map(lambda t: (f"({t[0][0]})\\cdot ({t[1][0]})", t[0][1] * t[1][1])),
        pair.map(lambda t: (f"\\frac{{{t[0][0]}}}{{{t[1][0]}}}", t[0][1] / t[1][1] if t[1][1] != 0 else sympy.zoo)),
        st.tuples(children, st.integers(-2, 3)).map(
            lambda t: (f"({t[0][0]})^{{{t[1]}}}", t[0][1] ** t[1] if t[0][1] != 0 or t[1] >= 0 else sympy.zoo)),
        children.map(lambda c: (f"\\sqrt{{{c[0]}}}", sympy.sqrt(c[1]))),
    )


_expression = st.recursive(_leaf(), _combine, max_leaves=4)


@settings(max_examples=300, deadline=None)
@given(_expression)
def test_what_is_read_has_the_value_sympy_gives(expr):
    text, want = expr
    got = read_number(text)
    if got is None:
        return  # a form left to math-verify (a sum under a root or a denominator, 1/0, ...)
    assert want.is_finite, f"{text}: read as {got[0]} but it is {want}"
    assert abs(sympy.N(_value(got[0]) - want, 60)) <= sympy.Float(10) ** -50 * (1 + abs(sympy.N(want, 20))), (
        f"{text}: expected {sympy.N(want, 30)}, read {sympy.N(_value(got[0]), 30)} ({got[0]})")


@settings(max_examples=300, deadline=None)
@given(_expression, _expression, st.booleans())
def test_two_read_numbers_compare_as_sympy_says(a, b, same):
    if same:
        b = (f"{{{b[0]}}}+{{{a[0]}}}-({b[0]})", a[1])  # the same value written another way
    ra, rb = read_number(a[0]), read_number(b[0])
    if ra is None or rb is None:
        return
    got = values_equal_exactly(ra, rb)
    # Equal when sympy's 80-digit difference vanishes: these small algebraic numbers, when they
    # differ, differ far above 1e-60 (and simplify would take seconds per pair).
    want = bool(abs(sympy.N(a[1] - b[1], 80)) < sympy.Float(10) ** -60)
    # Exact values (no decimal): equal only when equal; None only where 100 digits cannot tell.
    assert got in (want, None), f"{a[0]} vs {b[0]}: sympy says {want}, got {got}"
    if abs(sympy.N(a[1] - b[1], 30)) > sympy.Float(10) ** -20:
        assert got is False, f"{a[0]} vs {b[0]}: clearly different, got {got}"
    if same:
        assert got is True, f"{a[0]} vs {b[0]}: the same value, got {got}"


READ = [
    # (text, value as {(squarefree n, power of pi): coefficient}, whether it is a decimal)
    ("1,234,567", {(1, 0): Fraction(1234567)}, False),  # thousands commas
    ("-1,234.5", {(1, 0): Fraction(-12345, 10)}, True),
    ("0.5", {(1, 0): Fraction(1, 2)}, False),  # latex2sympy rewrites exactly 0.5 as 1/2
    (".5", {(1, 0): Fraction(1, 2)}, False),
    ("0.25", {(1, 0): Fraction(1, 4)}, True),
    ("+3", {(1, 0): Fraction(3)}, False),
    ("\\sqrt{12}", {(3, 0): Fraction(2)}, False),
    ("\\sqrt{72}\\pi^{2}", {(2, 2): Fraction(6)}, False),
    ("\\frac12", {(1, 0): Fraction(1, 2)}, False),  # TeX's one-character arguments
    ("2^3", {(1, 0): Fraction(8)}, False),
    ("\\pi^{-1}", {(1, -1): Fraction(1)}, False),
    ("\\frac{\\sqrt{2}}{\\sqrt{8}}", {(1, 0): Fraction(1, 2)}, False),
    ("\\sqrt{2}\\cdot\\sqrt{6}", {(3, 0): Fraction(2)}, False),
    ("\\left(2\\right)^{2}", {(1, 0): Fraction(4)}, False),
    ("3!!", {(1, 0): Fraction(720)}, False),  # (3!)! = 720, as latex2sympy reads it
    ("1 + 2", {(1, 0): Fraction(3)}, False),  # spaces and TeX spacing are dropped
    ("1\\,000", {(1, 0): Fraction(1000)}, False),  # TeX spacing between digits is dropped
    ("\\sqrt{9}", {(1, 0): Fraction(3)}, False),  # a prime's square is a whole number, not sqrt(9)
    ("\\sqrt{49}\\sqrt{2}", {(2, 0): Fraction(7)}, False),
    ("\\sqrt{100000000}", {(1, 0): Fraction(10000)}, False),  # the largest radicand searched
    ("\\sqrt{0}", {}, False),
    ("0^{0}", {(1, 0): Fraction(1)}, False),  # sympy's 0**0
    ("(1+\\sqrt{2})^{0}", {(1, 0): Fraction(1)}, False),  # a sum to the 0th power: 1, no inverse needed
    ("2^{256}", {(1, 0): Fraction(2**256)}, False),  # the largest power read
    ("2*3", {(1, 0): Fraction(6)}, False),
    ("+\\sqrt{2}", {(2, 0): Fraction(1)}, False),  # a unary plus
    ("-+\\sqrt{2}", {(2, 0): Fraction(-1)}, False),
    ("\\sqrt{2}\\frac{\\pi}{2}", {(2, 1): Fraction(1, 2)}, False),  # implicit products
    ("2(\\pi)", {(1, 1): Fraction(2)}, False),
    ("2{\\pi}", {(1, 1): Fraction(2)}, False),
    ("2\\pi\\frac{1}{2}", None, None),  # ends in a rational: latex2sympy's mixed-number reading, math-verify's
    ("\\frac{1}0", None, None),  # TeX's one-character 0 as a denominator
    ("\\sqrt{4)", None, None),  # a brace closed by a parenthesis
    ("(2}", None, None),
    ("1.5.2", None, None),
    ("1,23", None, None),  # not groups of three
    ("2^{1/2}", None, None),  # a root as a power: math-verify's
    ("0^{-1}", None, None),  # zoo
    ("300!", {(1, 0): Fraction(math.factorial(300))}, False),  # the largest factorial read
    ("301!", None, None),
    ("\\pi!", None, None),  # a factorial of what is not a whole number: math-verify's
    ("(1/2)!", None, None),
    ("(-1)!", None, None),
    ("2^{257}", None, None),
    ("\\sqrt{100000007}", None, None),  # past the squarefree search
    ("1+" + "1" * 1001, None, None),  # past the digit limit, in an expression
    ("1" * 1100, None, None),  # past the digit limit, plain (raised _Unsupported out of grade)
    ("1" * 1100 + ".5", None, None),
    ("(1", None, None),
    ("1)", None, None),
    ("\\frac{1}", None, None),
    ("", None, None),
]


@pytest.mark.parametrize("text,value,decimal", READ, ids=[_id(t[:30]) for t, _, _ in READ])
def test_read_number_table(text, value, decimal):
    got = read_number(text)
    want = None if value is None else (value, decimal)
    assert got == want, f"{text!r}: expected {want}, got {got}"


@pytest.mark.parametrize("digits", [1100, 3000])
def test_a_boxed_number_past_the_digit_limit_is_graded_not_raised(digits):
    from selector.grader import _grade_slow, grade

    answer = "\\boxed{" + "1" * digits + "}"
    assert grade(answer, "5") == _grade_slow(answer, "5") and not grade(answer, "5").correct


PI_50 = "3" + "14159265358979323846264338327950288419716939937510"  # pi truncated to 50 decimals: 5.8e-51 below
EXACT = [
    # (a, b, values_equal_exactly: True / False / None = only a closer evaluation than 100 digits tells)
    ("\\pi", "\\frac{355}{113}", False),  # 8.5e-8 apart: exact values never use the 1e-6 tolerance
    ("\\pi", "\\frac{31415926535897932384626433832795}{10^{31}}", False),  # 1e-32 apart: told at 100 digits
    ("\\pi", f"\\frac{{{PI_50}}}{{10^{{50}}}}", None),  # 1.9e-51 relative: within 1e-50, not equal
    ("\\sqrt{8}", "2\\sqrt{2}", True),
    ("2.414214", "1+\\sqrt{2}", True),  # a decimal against a sum of terms
    ("2.4142", "1+\\sqrt{2}", False),
]


@pytest.mark.parametrize("a,b,want", EXACT, ids=[_id(f"{a}-{b}"[:40]) for a, b, _ in EXACT])
def test_values_equal_exactly_table(a, b, want):
    got = values_equal_exactly(read_number(a), read_number(b))
    assert got is want, f"{a} vs {b}: expected {want}, got {got}"


CLOSE = [
    # (a, b as (real, imaginary), |a - b| <= 1e-6 max(|a|, |b|)): on and past the edge, with
    # imaginary parts (values the sympy path hands to close)
    ((0, 10), (0, 10 - Fraction(1, 10**5)), True),  # exactly 1e-6 x |a| apart
    ((0, 10 - Fraction(1, 10**5)), (0, 10), True),
    ((0, 10), (0, 10 - Fraction(2, 10**5)), False),
    ((0, 10 - Fraction(2, 10**5)), (0, 10), False),
    ((3, 4), (3, 4 + Fraction(5, 10**6)), True),  # |a| = 5
    ((3, 4), (3, 4 + Fraction(6, 10**6)), False),
]


@pytest.mark.parametrize("a,b,want", CLOSE, ids=[f"row{i}" for i in range(len(CLOSE))])
def test_close_compares_complex_numbers_relative_to_the_larger(a, b, want):
    from selector.equivalence import RTOL, close

    a, b = tuple(map(Fraction, a)), tuple(map(Fraction, b))
    exact = (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 <= RTOL**2 * max(a[0] ** 2 + a[1] ** 2, b[0] ** 2 + b[1] ** 2)
    assert exact is want, "the row itself"
    assert close(a, b, RTOL) is want, (a, b, want)
