"""The grader's fast paths (selector/grader.py), each decision against a value written out or
derived here: e-notation and `\\times 10^{k}` read as the exact decimal they mean, what is settled
before math-verify (`_prepare`) and what is left to it, the golds known to parse, and the number
verdicts (`_fast_verdict`), which must also be math-verify's (`_grade_slow`).

    python -m pytest tests/test_grader_fast_path.py -q
"""

import re
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selector.grader import Grade, _fast_verdict, _grade_slow, _normalize, _parses_surely, _prepare, _Question, grade


def _id(text: str) -> str:
    """A test id of letters, digits and dashes only (mutmut passes ids back to pytest)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "empty"

SCI = [
    # (written, the value it means): Python e-notation and TeX's a \times 10^{b}
    ("4.5e33", Fraction(45, 10) * 10**33),
    ("1.6\\times 10^{-19}", Fraction(16, 10) / 10**19),
    ("-2.5e-3", Fraction(-25, 10000)),
    ("1e3", Fraction(1000)),
    ("2.50E+2", Fraction(250)),
    ("3\\cdot10^{2}", Fraction(300)),
    (".5e1", Fraction(5)),
    ("+7.25e1", Fraction(725, 10)),
    ("1.234567890123456789e5", Fraction(1234567890123456789, 10**13)),  # every written digit kept
    ("9.99e-30", Fraction(999, 10**32)),
    ("1.50e1", Fraction(15)),  # 15.0 in plain digits: the zero and the point go
    ("-2.500e-1", Fraction(-1, 4)),
    # 32 significant digits, past decimal's default 28: all kept
    ("1.2345678901234567890123456789012e5", Fraction(12345678901234567890123456789012, 10**26)),
    ("98765432109876543210987654321098765\\times 10^{-40}", Fraction(98765432109876543210987654321098765, 10**40)),
]


@pytest.mark.parametrize("text,value", SCI, ids=[_id(t) for t, _ in SCI])
def test_scientific_notation_becomes_the_plain_decimal_it_means(text, value):
    got = _normalize(text)
    assert "e" not in got.lower() and "times" not in got and "cdot" not in got, got
    assert Fraction(got) == value, f"{text}: expected {value}, got {got} = {Fraction(got)}"
    assert not ("." in got and got.endswith(("0", "."))), f"{text}: trailing zeros in {got}"


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**17), st.integers(0, 17), st.integers(-40, 40), st.sampled_from(["", "-"]),
       st.sampled_from(["{m}e{b}", "{m}E{b}", "{m}\\times 10^{{{b}}}", "{m} \\times 10^{b}"]))
def test_any_mantissa_and_exponent_reads_exactly(digits, point, exponent, sign, style):
    text = str(digits)
    point = min(point, len(text) - 1)
    mantissa = text[: len(text) - point] + ("." + text[len(text) - point:] if point else "")
    written = sign + style.format(m=mantissa, b=exponent)
    want = Fraction(sign + mantissa) * Fraction(10) ** exponent
    got = _normalize(written)
    assert Fraction(got) == want, f"{written}: expected {want}, got {got}"


def test_a_plain_decimal_ends_in_no_point_so_a_tex_space_after_it_stays_a_space():
    # 1.50e1 is 15, not `15.`: a point left behind would glue the space's next number on (15.5).
    assert _normalize("1.50e1~5") == _normalize("1.50e1\\ 5") == _normalize("15~5") == "15 5"
    assert _normalize("2.50e2~3") == "250 3" and _normalize("-1.0\\times 10^{1}~2") == "-10 2"


def test_a_million_digit_mantissa_with_the_largest_exponent_reads_exactly():
    # 10^6 + 999 digits before the point: past decimal's default exponent limit (999999), so read in
    # a context without one. Compared as text (Fraction would go through int(), capped at 4300 digits).
    nines = "9" * 1_000_001
    assert _normalize(f"{nines}e999") == nines + "0" * 999
    assert _normalize(f"-{nines}.5\\times 10^{{2}}") == f"-{nines}50"


PREPARE = [
    # (completion, gold, fallback, what _prepare settles: a Grade, or "ask" for math-verify)
    ("\\boxed{12}", "12", False, Grade(True, True, "12")),
    ("\\boxed{12.0000001}", "12", False, Grade(True, True, "12.0000001")),  # a decimal within 1e-6
    ("\\boxed{12.00002}", "12", False, Grade(False, True, "12.00002")),
    ("\\boxed{13}", "12", False, Grade(False, True, "13")),
    ("no box, 12", "12", False, Grade(False, False, None)),
    ("the answer is 12", "12", True, Grade(True, True, "12")),  # the fallback's extraction
    ("\\boxed{}", "1", False, Grade(False, True, "")),  # an empty box
    ("\\boxed{5}", "{", False, Grade(False, True, "5")),  # a gold nothing can match
    ("\\boxed{5}", "", False, Grade(False, True, "5")),
    ("\\boxed{3:30 PM}", "15:30", False, Grade(True, True, "3:30 PM")),  # clock times
    ("\\boxed{3:30 AM}", "15:30", False, Grade(False, True, "3:30 AM")),
    ("\\boxed{\\pi}", "\\pi", False, Grade(True, True, "\\pi")),  # no digit, but a number as written: read
    ("\\boxed{x+y}", "x+y", False, "ask"),  # spelled like the gold but no digit: whether it parses is math-verify's
    ("\\boxed{2x}", "2x", False, Grade(True, True, "2x")),  # spelled like a gold with a digit: it parses
    ("\\boxed{x^2}", "x^{2}", False, "ask"),
    ("\\boxed{\\boxed{2}}", "\\boxed{2}", False, "ask"),  # a box inside: not decided here
]


@pytest.mark.parametrize("completion,gold,fallback,want", PREPARE, ids=[_id(f"{c}-{g}-{f}") for c, g, f, _ in PREPARE])
def test_what_is_settled_before_math_verify(completion, gold, fallback, want):
    got = _prepare(completion, gold, fallback)
    if want == "ask":
        assert isinstance(got, _Question), f"expected a question for math-verify, got {got}"
        assert (got.pred, got.norm_gold) == (_normalize(got.extracted), _normalize(gold))
    else:
        assert got == want, f"expected {want}, got {got}"
        assert grade(completion, gold, fallback=fallback) == _grade_slow(completion, gold, fallback=fallback) == want


def test_without_the_fast_path_everything_extracted_goes_to_math_verify():
    got = _prepare("\\boxed{12}", "12", False, fast=False)
    assert isinstance(got, _Question) and (got.pred, got.norm_gold, got.extracted) == ("12", "12", "12")
    seen = []
    _prepare("x \\boxed{7} y", "7", False, on_extracted=seen.append)
    assert seen == ["7"]
    assert _prepare("\\boxed{3:30 PM}", "15:30", False, rules=False, fast=False) == _Question("3:30 PM", "15:30", "3:30 PM")


PARSES = [
    # (normalised gold, known to parse without asking math-verify)
    ("2x", True), ("x_1", True), ("\\frac{a}{2}", True), ("x", False), ("\\pi", False), ("", False),
    ("\\boxed{2}", False), ("\\fbox{2}", False),
]


@pytest.mark.parametrize("gold,want", PARSES, ids=[_id(g) for g, _ in PARSES])
def test_golds_with_a_digit_and_no_box_are_known_to_parse(gold, want):
    assert _parses_surely(gold) is want


VERDICTS = [
    # (answer, gold, the fast verdict: True / False, or None = not a number as written, ask math-verify)
    ("12", "12.0", True),
    ("\\frac{1}{3}", "0.333333", True),  # |1/3 - 0.333333| = 1/3 x 1e-6: on the edge
    ("\\frac{1}{3}", "0.33333", False),
    ("3.14159", "\\pi", True),  # 8.4e-7 relative
    ("3.1415", "\\pi", False),
    ("2\\sqrt{2}", "\\sqrt{8}", True),  # exact values: equal
    ("\\frac{1}{3^{80}}", "\\frac{1}{3^{81}}", False),  # exact values never use the tolerance
    ("1.414214", "\\sqrt{2}", True),  # a decimal against a radical: 1e-6 relative
    ("1.4142", "\\sqrt{2}", False),
    ("0.4714045", "\\frac{\\sqrt{2}}{3}", True),
    ("0.471", "\\frac{\\sqrt{2}}{3}", False),
    ("-3.14159", "\\pi", False),
    ("0.0000031416", "\\frac{\\pi}{1000000}", False),  # relative, not absolute: 2.3e-6 apart relatively
    ("0.00000314159", "\\frac{\\pi}{1000000}", True),
    ("2.414214", "1+\\sqrt{2}", True),  # a decimal against a sum of terms
    ("\\frac{355}{113}", "\\pi", False),  # exact values: 8.5e-8 apart is apart
    ("1,000", "1000", True),
    ("x", "1", None),
    ("12", "x", None),
]


@pytest.mark.parametrize("answer,gold,want", VERDICTS, ids=[_id(f"{a}-{g}") for a, g, _ in VERDICTS])
def test_number_verdicts_of_the_fast_path(answer, gold, want):
    got = _fast_verdict(_normalize(answer), _normalize(gold))
    assert got is want, f"{answer} vs {gold}: expected {want}, got {got}"
    if want is not None:
        assert _grade_slow(f"\\boxed{{{answer}}}", gold).correct is want  # math-verify's verdict too
