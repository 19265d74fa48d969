"""Hand-written grader cases (lighteval style): each row is one edge case, commented.

Kept apart from tests/test_grader.py so the table reads as a table. Rows are
(id, input..., expected); the id names the edge case in pytest's output.
"""

NESTED = 100_000  # deep enough to break any recursive brace matcher (Python's limit is ~1,000)

# (id, response text, expected extract_boxed)
EXTRACT = [
    ("simple", "so \\boxed{5}", "5"),
    ("nested_braces", "\\boxed{\\frac{1}{2^{x}}}", "\\frac{1}{2^{x}}"),
    ("last_of_many", "\\boxed{1} then \\boxed{2}, finally \\boxed{3}", "3"),  # the final answer
    ("fbox", "\\fbox{7}", "7"),
    ("fbox_after_boxed", "\\boxed{1} \\fbox{7}", "7"),  # \fbox counts as a box too
    ("no_box", "The answer is 5.", None),
    ("in_dollars", "Hence $\\boxed{x+1}$.", "x+1"),
    ("in_display", "\\[ \\boxed{ 12.8 } \\]", " 12.8 "),  # returned verbatim; grading strips
    ("unclosed", "\\boxed{5", None),
    ("unclosed_last_box", "\\boxed{5} so \\boxed{6", None),  # truncated final box: no answer (verl)
    ("space_form", "so $\\boxed 5$.", "5"),  # TeX's one-token `\boxed 5`
    ("space_form_command", "\\boxed \\pi", "\\pi"),
    ("bare_boxed", "the end \\boxed", None),
    ("not_a_box", "\\boxedx{5}", None),  # a different command
    ("empty_box", "\\boxed{}", ""),
    ("box_in_box", "\\boxed{x=\\boxed{5}}", "5"),  # innermost is the last one to start
    ("escaped_braces", "\\boxed{\\{1,2\\}}", "\\{1,2\\}"),  # `\{` is a character, not a group
    ("escaped_open_brace", "\\boxed{\\left\\{ x \\right.}", "\\left\\{ x \\right."),
    ("deep_nesting", "\\boxed{" + "{" * NESTED + "1" + "}" * NESTED + "}", "{" * NESTED + "1" + "}" * NESTED),
    ("deep_unbalanced", "\\boxed{" + "{" * NESTED, None),
    ("lone_surrogate", "\ud800 \\boxed{5} \udfff", "5"),
    ("long_text", "x" * 10_000_000 + "\\boxed{3}", "3"),
]

# (id, response, gold, expected correct)
GRADE = [
    # Python e-notation: math-verify alone reads the `e` as Euler's number (Minerva golds).
    ("sci_latex_vs_e", "\\boxed{4.5\\times10^{33}}", "4.5e33", True),
    ("sci_latex_spaces_vs_e", "\\boxed{4.5 \\times 10^{33}}", "4.5e33", True),
    ("sci_cdot_vs_e", "\\boxed{4.5 \\cdot 10^{33}}", "4.5e33", True),
    ("sci_e_vs_latex", "\\boxed{4.5e33}", "4.5\\times 10^{33}", True),
    ("sci_negative_exp", "\\boxed{0.00001}", "1e-5", True),
    ("sci_pow_only", "\\boxed{10^{-5}}", "1e-5", True),
    ("sci_trailing_zero_mantissa", "\\boxed{6\\times10^{-3}}", "6.0e-3", True),
    ("sci_plain_decimal", "\\boxed{0.006}", "6.0e-3", True),
    ("sci_capital_e_plus", "\\boxed{4.5E+33}", "4.5e33", True),
    ("sci_wrong_mantissa", "\\boxed{4.6\\times 10^{33}}", "4.5e33", False),
    ("sci_wrong_exponent", "\\boxed{4.5\\times 10^{32}}", "4.5e33", False),
    # Tiny golds: math-verify alone rounds to 6 decimals (and chops in evalf), so 3e-19 == 1.6e-19.
    ("tiny_wrong", "\\boxed{3\\times10^{-19}}", "1.6e-19", False),
    ("tiny_sign", "\\boxed{-1.6\\times10^{-19}}", "1.6e-19", False),
    ("tiny_right", "\\boxed{1.6\\times10^{-19}}", "1.6e-19", True),
    ("tiny_4th_digit", "\\boxed{1.601\\times 10^{-19}}", "1.6e-19", False),  # 4 digits count
    ("tiny_5th_digit", "\\boxed{1.6001\\times 10^{-19}}", "1.6e-19", True),  # the 5th does not
    ("tiny_vs_zero", "\\boxed{0}", "1e-8", False),
    # Euler's e stays Euler's e: only digit-e-digit with no spaces is read as a power of ten.
    ("euler_product", "\\boxed{2e}", "2e", True),
    ("euler_power", "\\boxed{e^{2}}", "e^2", True),
    ("euler_minus_spaced", "\\boxed{2e - 1}", "0.2", False),  # `2e - 1` is 2e-1 with Euler's e
    ("python_2e-1", "\\boxed{2e-1}", "0.2", True),  # no spaces: Python's 0.2 (documented choice)
    # Thousands separators.
    ("thousands_comma_pred", "\\boxed{1,000}", "1000", True),
    ("thousands_comma_gold", "\\boxed{1000}", "1,000", True),
    ("thousands_braced_comma", "\\boxed{1{,}000}", "1000", True),
    ("thousands_thin_space", "\\boxed{1\\,000}", "1000", True),  # math-verify alone: 1*0 = 0
    ("thousands_millions", "\\boxed{1\\!000\\!000}", "1000000", True),
    ("thousands_wrong", "\\boxed{1,001}", "1000", False),
    # Fractions.
    ("dfrac_vs_frac", "\\boxed{\\dfrac{4}{3}}", "\\frac{4}{3}", True),
    ("frac_short_vs_dfrac", "\\boxed{\\frac43}", "\\dfrac{4}{3}", True),
    ("tfrac", "\\boxed{\\tfrac{961}{1280}}", "\\dfrac{961}{1280}", True),
    ("frac_vs_decimal", "\\boxed{\\frac{64}{5}}", "12.8", True),
    ("half", "\\boxed{0.5}", "\\frac12", True),
    ("frac_wrong", "\\boxed{\\frac{3}{4}}", "\\frac{4}{3}", False),
    ("python_trailing_dot", "\\boxed{-\\frac{1}{3}}", "-1./3", True),  # Minerva writes -1./3
    # Tuples and intervals.
    ("tuple_left_right", "\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "(3,\\frac{\\pi}{2})", True),
    ("tuple_swapped", "\\boxed{(\\frac{\\pi}{2},3)}", "(3,\\frac{\\pi}{2})", False),  # order matters
    ("interval_same", "\\boxed{(-\\infty, -5)}", "(-\\infty,-5)", True),
    ("interval_closedness", "\\boxed{[1,2)}", "[1,2]", False),
    ("set_order", "\\boxed{5,3}", "3,5", True),  # a list of solutions is a set
    # Plain numbers (the fast path) must agree with math-verify.
    ("float_gold_int_pred", "\\boxed{27}", "27.0", True),  # AMC23 golds are floats
    ("int_gold_float_pred", "\\boxed{27.0}", "27", True),
    ("trailing_zero", "\\boxed{12.80}", "12.8", True),
    ("leading_zeros", "\\boxed{007}", "7", True),
    ("plus_sign", "\\boxed{+2}", "2", True),
    ("negative_zero", "\\boxed{-0}", "0", True),
    ("leading_dot", "\\boxed{.5}", "0.5", True),
    ("int_vs_near_float", "\\boxed{1.0000004}", "1", False),  # math-verify: Integer vs Float exact
    ("float_vs_near_float", "\\boxed{1.0000004}", "1.0", True),  # two floats: 6 decimals
    ("rounding_edge", "\\boxed{0.1000005}", "0.1", True),  # math-verify rounds half up here
    ("wrong_int", "\\boxed{28}", "27", False),
    ("wrong_sign", "\\boxed{-27}", "27", False),
    ("huge_int_wrong", "\\boxed{4500000000000000000000000000000001}", "4.5e33", False),
    # Percentages, degrees, units, text.
    ("percent_pred", "\\boxed{50\\%}", "50", True),
    ("percent_gold", "\\boxed{50}", "50\\%", True),
    ("percent_gold_spaced", "\\boxed{8}", "8 \\%", True),  # OlympiadBench writes `8 \%`
    ("degrees", "\\boxed{336}", "336^\\circ", True),  # AIME25 writes `336^\circ`
    ("units_text", "\\boxed{5 \\text{ cm}}", "5", True),
    ("units_mathrm", "\\boxed{5}", "5 \\mathrm{~cm}", True),
    ("dollar_sign", "\\boxed{\\$5}", "5", True),
    ("choice_text", "\\boxed{\\text{(C)}}", "C", True),
    ("choice_bare", "\\boxed{C}", "\\text{(C)}", True),
    ("choice_wrong", "\\boxed{\\text{(D)}}", "\\text{(C)}", False),
    # Expressions and equations.
    ("expanded", "\\boxed{x^2+2x+1}", "(x+1)^2", True),
    ("wrong_expr", "\\boxed{x+1}", "x-1", False),
    ("assignment_pred", "\\boxed{x=5}", "5", True),
    ("assignment_gold", "\\boxed{5}", "x=5", True),
    ("sqrt_forms", "\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt3}{2}", True),
    ("decimal_of_surd", "\\boxed{0.8660254}", "\\frac{\\sqrt3}{2}", True),
    ("rounded_surd", "\\boxed{0.87}", "\\frac{\\sqrt3}{2}", False),  # 2 decimals are not 6
    ("trailing_period", "\\boxed{5.}", "5", True),
    # A gold math-verify can only keep as a string: exact match only (documented).
    ("string_gold_same", "\\boxed{np.arcsin(10/13)}", "np.arcsin(10/13)", True),
    ("string_gold_latex", "\\boxed{\\arcsin(10/13)}", "np.arcsin(10/13)", False),
    # Extraction feeds the verdict.
    ("no_box", "The answer is 5.", "5", False),
    ("earlier_box_wrong", "\\boxed{4} no wait \\boxed{5}", "5", True),
    ("earlier_box_right", "\\boxed{5} no wait \\boxed{4}", "5", False),
    ("unclosed_last", "\\boxed{5} so \\boxed{5", "5", False),
    ("empty_box", "\\boxed{}", "5", False),
    ("surrogate_outside", "\ud800\\boxed{5}", "5", True),
    ("surrogate_inside", "\\boxed{5\ud800}", "5", False),  # garbage in the answer: wrong, no crash
]

# (id, gold, check_gold's reason)
BAD_GOLDS = [
    ("empty", "", "empty"),
    ("blank", "  $ $ ", "empty"),
    # From the DSR-sub training pool: the closing brace of the last \frac is missing.
    ("unbalanced", "\\frac{2 k n}{n+k-1}-2 \\frac{k!n!}{(k+n-1)!", "unbalanced braces"),
    ("stray_close", "5}", "unbalanced braces"),
    ("empty_text", "\\text{}", "unparseable"),  # math-verify extracts nothing
]

GOOD_GOLDS = ["12.8", "\\frac{4}{3}", "\\dfrac{961}{1280}", "(3,\\frac{\\pi}{2})", "4.5e33", "np.arcsin(10/13)"]

# (id, response, gold, fallback, expected correct, expected formatted)
FALLBACK = [
    ("off_by_default", "The answer is 5.", "5", False, False, False),
    ("answer_is", "The answer is 5.", "5", True, True, True),
    ("answer_is_latex", "So the final answer is $\\frac{1}{2}$. Done", "0.5", True, True, True),
    ("answer_colon", "Answer: 42\nsome more text 7", "42", True, True, True),
    ("last_number", "we get 3 and then 4.5 apples", "4.5", True, True, True),
    ("nothing", "no idea", "5", True, False, False),
    ("box_wins", "The answer is 4. \\boxed{5}", "5", True, True, True),  # a box is always preferred
]

# Inputs that must come back incorrect, within the deadline, through Grader: (id, response, gold).
PATHOLOGICAL = [
    ("tower_of_powers", "\\boxed{9^{9^{9^{9}}}}", "5"),  # minutes in C big-int code
    ("huge_factorial", "\\boxed{1000000!}", "5"),
    ("deep_nesting", "\\boxed{" + "{" * NESTED + "1" + "}" * NESTED + "}", "5"),
    ("unbalanced", "\\boxed{" + "{" * NESTED, "5"),
    ("long_sum", "\\boxed{" + "1+" * 5_000_000 + "1}", "5"),  # a 10 MB answer
    ("long_text", "\ud800" * 1000 + "y" * 10_000_000, "5"),  # 10 MB, no box
]
