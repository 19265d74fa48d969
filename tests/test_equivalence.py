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
from hypothesis import given, settings
from hypothesis import strategies as st

from grader_cases import EQUIVALENCE
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
