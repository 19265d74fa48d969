"""selector/equivalence.py and the notation rules in grader._normalize: each class of answer
pairs the grader decides differently from math-verify, with true and false rows.

    PYTHONPATH=$PWD python -m pytest tests/test_equivalence.py -q

Rows live in tests/grader_cases.py (EQUIVALENCE). Every row is checked three ways: the grader's
verdict, the fast path against `_grade_slow` (the rules without speed-ups), and math-verify's own
verdict on the raw text (the column that says where a rule departs from the library).
"""

import logging
from fractions import Fraction

import pytest
from grader_cases import EQUIVALENCE
from hypothesis import given, settings
from hypothesis import strategies as st

from selector import equivalence
from selector.equivalence import RTOL, close, numbers_equal
from selector.grader import _grade_slow, _normalize, grade

logging.getLogger("math_verify").setLevel(logging.ERROR)


def ids(rows):
    return [r[0] for r in rows]


def boxed(answer: str) -> str:
    return f"so the answer is $\\boxed{{{answer}}}$."


@pytest.mark.parametrize("case,answer,gold,expected,_", EQUIVALENCE, ids=ids(EQUIVALENCE))
def test_rule(case, answer, gold, expected, _):
    g = grade(boxed(answer), gold)
    assert g.correct == expected, f"{case}: {answer!r} vs gold {gold!r} (normalised {_normalize(answer)!r} vs {_normalize(gold)!r}): expected {expected}, got {g}"


@pytest.mark.parametrize("case,answer,gold,expected,_", EQUIVALENCE, ids=ids(EQUIVALENCE))
def test_fast_path_agrees_with_slow_path(case, answer, gold, expected, _):
    assert grade(boxed(answer), gold) == _grade_slow(boxed(answer), gold), case


@pytest.mark.parametrize("case,answer,gold,_,math_verify", EQUIVALENCE, ids=ids(EQUIVALENCE))
def test_math_verify_alone(case, answer, gold, _, math_verify):
    # The library called directly, as its README shows: the recorded verdict is what the row
    # changes (or, where equal to the expected one, keeps).
    from math_verify import parse, verify

    got = verify(parse(f"\\boxed{{{gold}}}"), parse(boxed(answer)))
    assert got == math_verify, f"{case}: math-verify says {got} for {answer!r} vs {gold!r}"


def test_rules_stay_inside_the_grader():
    # Grading installs the patches; math-verify called directly in the same process keeps its
    # own comparison (the benchmark's baseline, and any user code, rely on that).
    from math_verify import parse, verify

    assert not grade(boxed("\\frac{1}{3^{80}}"), "\\frac{1}{3^{81}}").correct
    assert verify(parse("\\boxed{\\frac{1}{3^{81}}}"), parse("\\boxed{\\frac{1}{3^{80}}}"))


third = (Fraction(1, 3), Fraction(0))

# (case, a, b, rtol, expected): close() is exact rational arithmetic, boundary included.
CLOSE = [
    ("equal", third, third, RTOL, True),
    ("six_digits_at_the_boundary", (Fraction(333333, 10**6), Fraction(0)), third, RTOL, True),
    ("just_past_the_boundary", (Fraction(333333, 10**6) - Fraction(1, 10**18), Fraction(0)), third, RTOL, False),
    ("relative_not_absolute", (Fraction(1, 10**30), Fraction(0)), (Fraction(2, 10**30), Fraction(0)), RTOL, False),
    ("zero_vs_tiny", (Fraction(0), Fraction(0)), (Fraction(1, 10**40), Fraction(0)), RTOL, False),
    ("zero_vs_zero", (Fraction(0), Fraction(0)), (Fraction(0), Fraction(0)), RTOL, True),
    ("complex_modulus", (Fraction(3), Fraction(4)), (Fraction(3), Fraction(4) + Fraction(1, 10**7)), RTOL, True),
    ("complex_conjugate", (Fraction(3), Fraction(4)), (Fraction(3), Fraction(-4)), RTOL, False),
]


@pytest.mark.parametrize("case,a,b,rtol,expected", CLOSE, ids=ids(CLOSE))
def test_close(case, a, b, rtol, expected):
    assert close(a, b, rtol) is expected and close(b, a, rtol) is expected, case


def test_exact_numbers_never_use_the_tolerance():
    assert not numbers_equal(Fraction(1, 3**80), Fraction(1, 3**81), decimal=False)
    assert numbers_equal(Fraction(1, 3**80), Fraction(1, 3**80) * (1 + Fraction(1, 10**7)), decimal=True)
    assert not numbers_equal(Fraction(1, 3**80), Fraction(1, 3**80) * (1 + Fraction(1, 10**7)), decimal=False)


def _decimal(x: Fraction, digits: int, rounding: str) -> str:
    """x written with `digits` decimals, truncated or rounded half up."""
    scaled = x * 10**digits
    n = int(scaled) if rounding == "truncate" else int(scaled + Fraction(1, 2))
    text = str(n).rjust(digits + 1, "0")
    return f"{text[:-digits]}.{text[-digits:]}" if digits else text


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 10**6), st.integers(0, 12), st.sampled_from(["truncate", "round"]),
       st.sampled_from(["\\frac{{{p}}}{{{q}}}", "{p}/{q}"]))
def test_decimals_of_fractions_fast_path_agrees_with_slow_path(p, q, digits, rounding, style):
    # A fraction against its decimal expansions, truncated or rounded at every length: both sides
    # of the 1e-6 boundary (1/3 truncated to 6 digits is on it), fast path vs math-verify.
    gold = style.format(p=p, q=q)
    answer = _decimal(Fraction(p, q), digits, rounding)
    assert grade(boxed(answer), gold) == _grade_slow(boxed(answer), gold), (answer, gold)


@settings(max_examples=150, deadline=None)
@given(st.integers(-10**12, 10**12), st.integers(0, 9), st.integers(-8, 8), st.integers(0, 3))
def test_nearby_decimals_fast_path_agrees_with_slow_path(n, shift, nudge, zeros):
    # Two decimals a relative ~10^-k apart, around the 1e-6 boundary, with trailing zeros.
    gold = Fraction(n, 10**shift)
    answer = gold * (1 + Fraction(nudge, 10**7))
    a, g = _decimal(abs(answer), shift + 7, "round"), _decimal(abs(gold), shift, "round") + "0" * zeros
    a, g = ("-" if answer < 0 else "") + a, ("-" if gold < 0 else "") + g
    assert grade(boxed(a), g) == _grade_slow(boxed(a), g), (a, g)


# Golds whose answer spelled the same way is settled without parsing it (the gold-parses rule in
# grader._math_verify_fast): odd ones, against the slow path's full comparison.
SELF = ["\\frac{1}{0}", "3:00", "np.arcsin(10/13)", "\\infty", "\\emptyset", "\\text{even}", "x \\in (1, 2]",
        "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "1 < x < 2", "x<-1 \\text{ or } x>1", "0.0", "\\sqrt{-1}",
        "f(x)=x^2", "\\{1,2\\}", "(1,2)", "\\pm 3", "a\\%", "\\quad", "\\,"]


@pytest.mark.parametrize("gold", SELF)
def test_answer_spelled_like_the_gold(gold):
    slow = _grade_slow(boxed(gold), gold)
    assert grade(boxed(gold), gold) == slow, gold


def test_install_checks_the_patched_functions(monkeypatch):
    # A math-verify whose internals changed shape is named, not silently half-patched.
    from math_verify import grader as mvg

    monkeypatch.setattr(equivalence, "_installed", False)
    monkeypatch.delattr(mvg, "sympy_compare_relational")
    with pytest.raises(RuntimeError, match="sympy_compare_relational is gone"):
        equivalence.install()


# --------------------------------------------------------------------------- numbers read without sympy

_leaf = st.one_of(
    st.integers(0, 60).map(str),
    st.integers(10**12, 10**25).map(str),
    st.just("\\pi"),
    st.integers(0, 80).map(lambda k: f"\\sqrt{{{k}}}"),
    st.tuples(st.integers(1, 30), st.integers(1, 30)).map(lambda t: f"\\sqrt{{\\frac{{{t[0]}}}{{{t[1]}}}}}"),
    st.integers(0, 9).map(lambda k: f"\\sqrt{k}"),  # TeX's one-character argument
)


def _combine(children):
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda t: f"{t[0]}+{t[1]}"),
        pair.map(lambda t: f"{t[0]}-{t[1]}"),
        pair.map(lambda t: f"\\frac{{{t[0]}}}{{{t[1]}}}"),
        pair.map(lambda t: f"{t[0]}\\cdot {t[1]}"),
        pair.map(lambda t: f"({t[0]})/({t[1]})"),
        pair.map(lambda t: f"{t[0]}{t[1]}"),  # implicit product (an integer before a rational is a mixed number)
        st.tuples(children, st.integers(-3, 4)).map(lambda t: f"({t[0]})^{{{t[1]}}}"),
        st.tuples(children, st.integers(0, 9)).map(lambda t: f"\\left({t[0]}\\right)^{t[1]}"),
        st.integers(0, 8).map(lambda n: f"{n}!"),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"\\sqrt{{{c}}}"),
    )


_expression = st.recursive(_leaf, _combine, max_leaves=5)


def _digits_of(answer: str, digits: int) -> str | None:
    from decimal import Context, localcontext

    from selector.equivalence import _decimal, read_number

    got = read_number(answer)
    if got is None:
        return None
    with localcontext(Context(prec=60)):
        value, _ = _decimal(got[0])
    with localcontext(Context(prec=2100)):  # room for every integer digit (values reach 10^1000)
        return format(round(value, digits), "f")


@settings(max_examples=200, deadline=None)
@given(_expression, _expression, st.sampled_from(["other", "same", "decimal"]), st.integers(1, 12))
def test_numbers_read_without_sympy_agree_with_math_verify(a, b, how, digits):
    # Random exact expressions (sums, quotients, products, powers, factorials of integers, square
    # roots and pi): against another one, against themselves, or against their decimal value at
    # 1 to 12 digits. Where the fast path reads both, it must give math-verify's verdict under the
    # rules; where it cannot, it defers (and the comparison below is the slow path's with itself).
    if how == "same":
        b = a
    elif how == "decimal":
        b = _digits_of(a, digits) or b
    assert grade(boxed(a), b) == _grade_slow(boxed(a), b), (a, b)


READ = [
    # (case, text, value as {(squarefree n, power of pi): coefficient} or None if not read)
    ("integer", "007", {(1, 0): Fraction(7)}),
    ("radical_fraction", "\\frac{3\\sqrt{8}}{4}", {(2, 0): Fraction(3, 2)}),
    ("sqrt_of_fraction", "5\\sqrt{\\frac{2}{11}}", {(22, 0): Fraction(5, 11)}),
    ("pi_over_radical", "\\frac{\\pi}{\\sqrt{3}}", {(3, 1): Fraction(1, 3)}),
    ("power_and_factorial", "2^{-3}\\cdot 4!", {(1, 0): Fraction(3)}),
    ("square_of_sum", "\\left(1+\\sqrt{2}\\right)^{2}", {(1, 0): Fraction(3), (2, 0): Fraction(2)}),
    ("zero", "\\sqrt{2}-\\sqrt{2}", {}),
    ("mixed_number_is_math_verifys", "2\\frac{1}{2}", None),  # latex2sympy: 5/2
    ("integer_then_group_is_math_verifys", "3(2)", None),  # latex2sympy: 5 (the mixed-number rule)
    ("tower_is_math_verifys", "2^{2^{2}}^{2}", None),
    ("big_factorial_is_math_verifys", "1000!", None),
    ("division_by_zero_is_math_verifys", "\\frac{1}{0}", None),
    ("imaginary_is_math_verifys", "\\sqrt{-4}", None),
    ("divide_by_a_sum_is_math_verifys", "\\frac{1}{1+\\sqrt{2}}", None),
    ("decimal_inside_is_math_verifys", "\\sqrt{0.5}", None),
    ("variable_is_math_verifys", "2x", None),
]


@pytest.mark.parametrize("case,text,expected", READ, ids=ids(READ))
def test_read_number(case, text, expected):
    from selector.equivalence import read_number

    got = read_number(text)
    assert (None if got is None else got[0]) == expected, case


_latex_soup = st.lists(
    st.sampled_from(list("0123456789xyz+-*/^_=<>,.;:!()[]| {}~'") + ["\\frac", "\\sqrt", "\\pi", "\\text", "\\mathrm", "\\left",
                                                                  "\\right", "\\,", "\\!", "\\infty", "\\cdot", "\\displaystyle",
                                                                  "\\%", "\\$", "{}", " cm", "\\text{ m}"]),
    min_size=1, max_size=12).map("".join)


@settings(max_examples=150, deadline=None)
@given(_latex_soup)
def test_answer_spelled_like_a_gold_with_a_digit(gold):
    # An answer spelled exactly like a gold that has a digit is settled as correct without
    # math-verify (grader._parses_surely); math-verify itself must agree on any such text.
    assert grade(boxed(gold), gold) == _grade_slow(boxed(gold), gold), gold


@settings(max_examples=100, deadline=None)
@given(st.integers(1000, 10**12), st.sampled_from([",", ", ", "{,}", "\\,", ",\\!"]))
def test_thousands_separators(n, separator):
    # A comma followed by a space separates list items; every other separator here groups
    # thousands (groups of exactly three digits), so only `, ` makes the number a list.
    text = f"{n:,}".replace(",", separator)
    got = grade(boxed(text), str(n))
    assert got.correct is (separator != ", "), (text, n)
    assert got == _grade_slow(boxed(text), str(n)), text
