"""selector/verify_speedup.py: the shortcuts inside math-verify must never change a parse or a verdict."""

import pytest
from sympy import Dummy, Function, Matrix, Symbol, cos, oo, simplify, sin, sqrt, srepr, symbols, zoo

from selector import verify_speedup
from selector.grader import _grade_slow, _normalize, grade
from selector.verify_speedup import _nonzero_witness, _point

# Strings whose parse must be the same with the speed-ups on. `3R^2` and `n^{2}+1` are ones SLL
# prediction rejects (measured on the benchmark answers), so they take the LL retry.
PARSE = [
    "3R^2",
    "n^{2}+1",
    "\\frac{1}{2}",
    "\\sqrt{2}\\cos(2 t-\\pi/4)",
    "\\{1,2,3\\}",
    "(1,2]",
    "x=5",
    "M=2^{N-2}+1",
    "\\begin{pmatrix}1\\\\2\\end{pmatrix}",
    "\\text{(A)}",
    "50\\%",
    "\\frac{",  # unparseable either way
    "1,000,000",
]


def _parse(s):
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    got = parse("\\boxed{" + s + "}", [LatexExtractionConfig(), ExprExtractionConfig()], parsing_timeout=None)
    return [x if isinstance(x, str) else srepr(x) for x in got]


@pytest.mark.parametrize("text", PARSE)
def test_sll_first_parses_exactly_like_ll(text):
    plain = _parse(text)
    with verify_speedup.enabled():
        fast = _parse(text)
    assert fast == plain


def test_sll_alone_rejects_the_retry_cases():
    # Why the retry exists: without it these would be parse failures.
    import latex2sympy2_extended.latex2sympy2 as l2s
    from antlr4.atn.PredictionMode import PredictionMode

    parser = l2s._Latex2Sympy().create_parser("3R^2")
    parser._interp.predictionMode = PredictionMode.SLL
    with pytest.raises(Exception):
        parser.math()


x, y, t = symbols("x y t", real=True)  # latex2sympy2 makes its symbols real
n = Symbol("n", integer=True)
m = Symbol("m", positive=True)
z = Symbol("z", real=False)  # how latex2sympy2 reads a bare `i`

# (case, a, b, witness expected): True only where a - b is certainly not identically zero.
WITNESS = [
    ("different polynomials", x**2 + 1, x**2 + 2, True),
    ("different exponents", 2 * y, 3 * y, True),
    ("trig near miss", sqrt(2) * cos(2 * t - sqrt(2)), sqrt(2) * cos(2 * t - sqrt(3)), True),
    ("non-real symbol", sqrt(3) * z + 1, 2 * z + 1, True),
    ("an identity: simplify decides", sin(x) ** 2 + cos(x) ** 2, 1 + 0 * x, False),
    ("equal only for integer n", (-1) ** (2 * n), 1 + 0 * n, False),
    ("equal only for positive m", sqrt(m**2), m, False),
    ("equal for x >= 0 only: the point is positive", sqrt(x**2), x, False),
    ("undefined functions", Function("f")(t), Function("g")(t), False),
    ("complex infinity", zoo, 1 + 0 * x, False),
    ("infinity", oo, 1 + 0 * x, False),
    ("matrices", Matrix([1, 2]), Matrix([1, 3]), False),
    ("a symbol with no usable point", Dummy("k", integer=True, positive=True, even=True, prime=True), 2, False),
    ("equal expressions", (x + 1) ** 2, x**2 + 2 * x + 1, False),
]


@pytest.mark.parametrize("case,a,b,expected", WITNESS, ids=[w[0] for w in WITNESS])
def test_nonzero_witness(case, a, b, expected):
    assert _nonzero_witness(a, b) is expected, case
    if expected:  # soundness on the table itself: simplify agrees the difference is not zero
        assert simplify(a - b).is_zero is not True


@pytest.mark.parametrize("symbol", [x, n, m, z, Symbol("p", negative=True), Symbol("q", integer=True, negative=True)])
def test_witness_point_satisfies_every_assumption(symbol):
    point = _point(symbol, 1)
    assert point is not None
    for key, want in symbol.assumptions0.items():
        assert getattr(point, "is_" + key) == want, (symbol, point, key)


# --------------------------------------------------------------------------- real benchmark answers

BENCHMARKS = ["math500", "minerva_math", "olympiadbench"]


def _symbolic_pairs(data):
    """(gold, completion): each non-numeric gold against itself, the same plus sin^2 w + cos^2 w - 1
    (right only by simplify: a witness that misfired would turn it wrong), a near miss (its last
    digit moved by one) and the next problem's gold: the symbolic pairs where math-verify decides."""
    import re

    from selector.benchmark import load_rows
    from selector.benchmarks import get_benchmark

    digit = re.compile(r"\d")
    pairs = []
    for name in BENCHMARKS:
        golds = [r["answer"] for r in load_rows(get_benchmark(name), data_dir=data)]
        golds = [g for g in golds if not re.fullmatch(r"[+-]?[\d.]+", _normalize(g))]
        for i, gold in enumerate(golds):
            wrong = [golds[(i + 1) % len(golds)]]
            if (last := list(digit.finditer(gold))):
                d = last[-1]
                wrong.append(gold[: d.start()] + str((int(d.group()) + 1) % 10) + gold[d.end():])
            same = f"{gold}+\\sin^{{2}}(w)+\\cos^{{2}}(w)-1"
            pairs += [(gold, f"so $\\boxed{{{a}}}$") for a in [gold, same, *wrong]]
    return pairs


@pytest.mark.slow
def test_fast_verdicts_equal_plain_math_verify_on_symbolic_answers(shared_data):
    pairs = _symbolic_pairs(shared_data)
    assert len(pairs) > 1000
    pairs = pairs[::2]
    verdicts = [(grade(c, g), _grade_slow(c, g)) for g, c in pairs]
    assert [(p, f, s) for p, (f, s) in zip(pairs, verdicts) if f != s] == []
    assert sum(s.correct for _, s in verdicts) > 200  # the right ones include simplify's
