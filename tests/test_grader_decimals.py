"""Long decimals (15-17 significant digits, past a binary float's exactness) through the grader's
fast path, at the edges of the 1e-6 relative tolerance, against the rule computed here in exact
fractions and against math-verify (`_grade_slow`).

    python -m pytest tests/test_grader_decimals.py -q

Rule 1 (selector/equivalence.py): where a decimal takes part, a == b when
|a - b| <= 1e-6 * max(|a|, |b|), a decimal being the number it spells (0.1 is 1/10).
"""

from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from selector.grader import _fast_verdict, _grade_slow, _normalize, grade

RTOL = Fraction(1, 10**6)


def _text(x: Fraction, decimals: int) -> str:
    """x, a multiple of 10^-decimals, written with exactly that many decimals."""
    sign = "-" if x < 0 else ""
    n = abs(x) * 10**decimals
    assert n.denominator == 1, (x, decimals)
    digits = str(n.numerator).rjust(decimals + 1, "0")
    return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}" if decimals else sign + digits


def _rule(a: Fraction, b: Fraction) -> bool:
    return abs(a - b) <= RTOL * max(abs(a), abs(b))


# How the answer is made from the gold g (exact, so each lands where it says):
NUDGES = {
    "same": lambda g, u: g,
    "upper-edge": lambda g, u: g * (1 + RTOL),  # |a - g| = 1e-6 |g| <= 1e-6 |a|: equal
    "lower-edge": lambda g, u: g * (1 - RTOL),  # |a - g| = 1e-6 |g| = 1e-6 max: equal, on the edge
    "just-outside": lambda g, u: g * (1 - RTOL) - u * (1 if g > 0 else -1),  # one unit past the edge: not equal
    "just-inside": lambda g, u: g * (1 - RTOL) + u * (1 if g > 0 else -1),
    "last-digit": lambda g, u: g + u * 10**7,  # the gold's own last digit: ~1e-15 relative, equal
    "far": lambda g, u: g * (1 + 3 * RTOL),
}


@settings(max_examples=120, deadline=None)
@given(st.integers(15, 17), st.data(), st.sampled_from(sorted(NUDGES)), st.sampled_from([1, -1]), st.integers(0, 3))
@example(17, None, "lower-edge", 1, 0)
def test_long_decimals_at_the_tolerance_edges_agree_with_the_rule_and_math_verify(digits, data, nudge, sign, zeros):
    if data is None:  # the explicit example: 17 digits, 0.12345678901234567
        mantissa, decimals = 12345678901234567, 17
    else:
        mantissa = data.draw(st.integers(10 ** (digits - 1), 10**digits - 1), label="mantissa")
        decimals = data.draw(st.integers(1, digits), label="decimals")  # a decimal point somewhere in the digits
    gold = sign * Fraction(mantissa, 10**decimals)
    answer_decimals = decimals + 13  # room for g * 1e-6 and one unit below it, exactly
    unit = Fraction(1, 10**answer_decimals)
    answer = NUDGES[nudge](gold, unit)
    gold_text = _text(gold, decimals) + "0" * zeros  # trailing zeros change a sympy Float's precision
    answer_text = _text(answer, answer_decimals).rstrip("0").rstrip(".")
    if "." not in answer_text:
        answer_text += ".0"
    want = _rule(answer, gold)
    completion = f"So the answer is \\boxed{{{answer_text}}}."
    fast, slow = grade(completion, gold_text), _grade_slow(completion, gold_text)
    assert (fast.correct, slow.correct) == (want, want), (
        f"{answer_text} vs gold {gold_text} ({nudge}): rule says {want}, fast path {fast.correct}, math-verify {slow.correct}")
    # Plain decimals are the fast path's to settle, never left to math-verify.
    assert _fast_verdict(_normalize(answer_text), _normalize(gold_text)) is want


EDGES = [
    # (answer, gold, equal): hand-checked cases at 16-17 digits
    ("0.1234567890123456", "0.1234567890123457", True),  # last digit: 1e-16 apart
    ("1234567.890123456", "1234567.890123457", True),
    ("1.000001", "1.0000000000000000", True),  # exactly 1e-6 above: |a - b| = 1e-6 <= 1e-6 x 1.000001
    ("0.999999", "1.0000000000000000", True),  # exactly 1e-6 below: on the edge, equal
    ("0.9999989999999999", "1.0000000000000000", False),  # 1e-16 past the edge
    ("99999999999999999", "100000000000000000.0", True),  # 17 nines against 1e17: 1e-17 apart
    ("-3.141592653589793", "-3.141592653589794", True),
    ("3.141592653589793", "-3.141592653589793", False),
]


def test_long_decimal_edges_by_hand():
    for answer, gold, want in EDGES:
        completion = f"\\boxed{{{answer}}}"
        got = (grade(completion, gold).correct, _grade_slow(completion, gold).correct)
        assert got == (want, want), f"{answer} vs {gold}: expected {want} (fast, math-verify), got {got}"
