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
    ("tiny_4th_digit", "\\boxed{1.601\\times 10^{-19}}", "1.6e-19", False),
    # A relative 1e-6 (selector/equivalence.py, rule 1): the 5th digit counts, the 7th does not
    # (g1 kept only 4 significant digits for tiny golds).
    ("tiny_5th_digit", "\\boxed{1.6001\\times 10^{-19}}", "1.6e-19", False),
    ("tiny_7th_digit", "\\boxed{1.600001\\times 10^{-19}}", "1.6e-19", True),
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
    # A decimal takes part, so both compare within a relative 1e-6 (4e-7 here): a gold written 1
    # or 1.0 (AMC stores 27.0) grades alike (math-verify: Integer vs Float exact, Float vs Float
    # rounded to 6 decimals).
    ("int_vs_near_float", "\\boxed{1.0000004}", "1", True),
    ("float_vs_near_float", "\\boxed{1.0000004}", "1.0", True),
    ("relative_not_absolute", "\\boxed{0.1000005}", "0.1", False),  # 5e-6 relative (math-verify: 6 decimals agree)
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

# The grader's comparison and notation rules (selector/equivalence.py, grader._normalize), by
# class: (id, answer, gold, expected correct, math-verify's own verdict on the raw text). The
# last column records where the rule departs from the library (tests/test_equivalence.py checks
# it, so a math-verify upgrade that changes it shows up here).
EQUIVALENCE = [
    # Exact values compare exactly: no tolerance swallows small numbers.
    ("pow_1_3_80_vs_81", "\\frac{1}{3^{80}}", "\\frac{1}{3^{81}}", False, True),
    ("pow_same_value", "\\frac{1}{3^{80}}", "3^{-80}", True, True),
    ("factorial_20_vs_21", "\\frac{1}{20!}", "\\frac{1}{21!}", False, True),
    ("factorial_same_value", "\\frac{21}{21!}", "\\frac{1}{20!}", True, True),
    ("pow2_60_vs_61", "2^{-60}", "2^{-61}", False, True),
    ("pow2_same_value", "2\\cdot 2^{-61}", "2^{-60}", True, True),
    ("radical_over_3_40_vs_41", "\\frac{\\sqrt{2}}{3^{40}}", "\\frac{\\sqrt{2}}{3^{41}}", False, True),
    ("tiny_vs_zero_exact", "\\frac{1}{2^{100}}", "0", False, False),
    ("huge_plus_one", "10^{30}+1", "10^{30}", False, False),
    # A decimal takes part: relative 1e-6 of the larger value, never an absolute tolerance.
    ("decimal_tiny_10x", "1e-9", "1e-8", False, False),  # g1 normalisation; plain math-verify: both 0 at 6 decimals
    ("decimal_tiny_vs_zero", "0.0000001", "0", False, False),
    ("decimal_six_digits_of_third", "0.333333", "\\frac{1}{3}", True, True),  # exactly 1e-6 relative: equal
    ("decimal_five_digits_of_third", "0.33333", "\\frac{1}{3}", False, False),
    ("decimal_six_digits_of_pi", "3.14159", "\\pi", True, False),  # 8.4e-7 relative (math-verify: 6 decimals)
    ("decimal_five_digits_of_pi", "3.1416", "\\pi", False, False),  # 2.3e-6
    ("decimal_of_surd", "0.7071068", "\\frac{\\sqrt{2}}{2}", True, True),
    ("decimal_large_near_miss", "123456.7", "123457.7", False, False),  # 8e-6 relative
    # The price of a relative rule: two decimals of 7+ significant digits differing in the last
    # one are equal (8e-7 here; no benchmark or DSR-sub gold has a decimal that long).
    ("decimal_seventh_digit", "123456.7", "123456.8", True, False),
    ("decimal_integer_gold", "42.0", "42", True, True),
    # Separators: `, ` separates list items; a thousands comma has no space and groups of three.
    ("comma_space_is_a_list", "1, 000", "1000", False, False),  # g1 dropped the space: true
    ("comma_space_list_vs_number", "10, 100", "10100", False, False),  # g1: true
    ("list_order_free", "100, 10", "10, 100", True, True),  # g1 read the answer as 10,010... : false
    ("thousands_comma", "1,000", "1000", True, True),
    ("thousands_millions", "12,345,678", "12345678", True, True),
    ("not_groups_of_three", "1,23", "123", False, False),
    ("list_of_three", "1, 2, 3", "3,2,1", True, True),
    # Radicals of fractions against rationalised or inverted forms.
    ("sqrt_frac_rationalised", "\\sqrt{\\frac{2}{3}}", "\\frac{\\sqrt{6}}{3}", True, True),
    ("inverse_sqrt_rationalised", "\\frac{1}{\\sqrt{3}}", "\\frac{\\sqrt3}{3}", True, True),
    ("conjugate_rationalised", "\\frac{2}{\\sqrt{5}-1}", "\\frac{1+\\sqrt5}{2}", True, True),
    ("sqrt_frac_wrong", "\\sqrt{\\frac{1}{2}}", "\\frac{\\sqrt{3}}{2}", False, False),
    ("sqrt_of_quotient_symbols", "\\sqrt{\\frac{a}{b}}", "\\frac{\\sqrt{a}}{\\sqrt{b}}", True, False),
    ("inverse_sqrt_symbol", "\\frac{1}{\\sqrt{x}}", "\\sqrt{\\frac{1}{x}}", True, False),
    ("product_of_roots", "\\sqrt{a}\\sqrt{b}", "\\sqrt{ab}", True, False),
    ("sqrt_quotient_inverted_wrong", "\\sqrt{\\frac{a}{b}}", "\\frac{\\sqrt{b}}{\\sqrt{a}}", False, False),
    ("sqrt_square_is_not_x", "\\sqrt{x^2}", "x", False, False),  # a radical on one side only
    # Intervals and conditions compare as sets of reals, endpoints by the number rule.
    ("union_rounded_decimals", "(-\\infty, 0.333333) \\cup (0.5, \\infty)", "(-\\infty, \\frac{1}{3}) \\cup (\\frac{1}{2}, \\infty)", True, False),
    ("interval_rounded_decimals", "[0.333333, 2]", "[\\frac{1}{3}, 2]", True, True),
    ("interval_rounded_too_far", "[0.33, 2]", "[\\frac{1}{3}, 2]", False, False),
    ("condition_for_interval", "x > 0.5", "(\\frac{1}{2}, \\infty)", True, False),
    ("double_inequality_for_interval", "1 < x \\le 2", "(1, 2]", True, False),
    ("double_inequality_reversed", "2 > x > 1", "1 < x < 2", True, False),
    ("or_conditions_for_union", "x < -1 \\text{ or } x > 1", "(-\\infty,-1)\\cup(1,\\infty)", True, False),
    ("union_for_or_conditions", "(-\\infty,-1)\\cup(1,\\infty)", "x < -1 \\text{ or } x > 1", True, False),
    ("closedness_differs", "x \\le 1", "(-\\infty, 1)", False, False),
    ("union_with_gap_vs_whole", "(1,2)\\cup(2,3)", "(1,3)", False, False),
    ("complement_as_union", "[1, 2) \\cup (2, 3]", "[1,3] \\setminus \\{2\\}", True, True),
    ("other_variable", "y > 1", "x > 1", False, False),
    ("overlapping_conditions_stay", "x > 1, x < 2", "(1,2)", False, False),  # `and` or `or`? not read as a set
    # Set-builder membership against a double inequality or an interval.
    ("set_builder_mid", "\\{x \\mid 1 < x < 2\\}", "(1,2)", True, False),
    ("set_builder_colon", "\\{x : x > 3\\}", "x > 3", True, False),
    ("set_builder_reals", "\\{x \\in \\mathbb{R} \\mid x \\le 0\\}", "(-\\infty, 0]", True, False),
    ("set_builder_middle", "\\left\\{x \\middle| 0<x<1\\right\\}", "(0,1)", True, False),
    ("set_builder_wrong_end", "\\{x \\mid x > 3\\}", "[3, \\infty)", False, False),
    ("set_builder_integers_stay", "\\{x \\in \\mathbb{Z} \\mid 1<x<4\\}", "(1,4)", False, False),  # not an interval
    # LaTeX spacing inside products of symbols.
    ("tilde_space", "4\\pi~r^2", "4\\pi r^2", True, False),
    ("enspace", "x\\enspace y", "xy", True, False),
    ("hspace", "x\\hspace{1em}y", "xy", True, False),
    ("last_factor_not_hours", "\\pi r h", "\\pi rh", True, False),  # math-verify strips ` h` as hours
    ("last_factor_kept", "\\pi r h", "\\pi r", False, True),
    ("last_factor_after_exponent", "m g h", "mgh", True, False),
    ("number_then_unit", "5 m", "5", True, True),  # after a plain number, `m` stays metres
    # Braces around the whole answer only group (math-verify: a set, equal to its element).
    ("outer_braces", "{{\\frac{1}{2}}}", "0.5", True, True),
    ("outer_braces_wrong", "{{5}}", "6", False, False),
    ("inner_braces_kept", "{a}{b}", "ab", True, True),
    # \text{} around numbers with units, and clock times.
    ("text_number_unit", "\\text{10 hours}", "10", True, False),
    ("text_number_unit_squared", "\\text{5 cm}^2", "5", True, False),
    ("mbox_number_unit", "\\mbox{12 inches}", "12", True, False),
    ("text_number_wrong", "\\text{10 hours}", "11", False, False),
    ("text_or_stays_text", "\\text{3 or 4}", "3", False, False),
    ("text_colon_in_time", "3\\text{:}00", "3:00", True, False),
    ("text_time_pm", "\\text{3:30 PM}", "3:30 PM", True, False),
    ("time_am_vs_pm", "3:30\\text{ PM}", "3:30\\text{ AM}", False, True),  # math-verify: units dropped, both 3/30
    ("time_am_vs_pm_bare", "3:30 pm", "3:30 am", False, True),
    ("time_12h_vs_24h", "3:30 PM", "15:30", True, False),
    ("time_midnight", "12:15 AM", "0:15", True, False),
    ("time_text_am", "\\text{4:40 a.m.}", "4:40", True, False),
    ("time_other_minute", "3:30 PM", "3:40 PM", False, False),
    # Equations: different unknowns, or sides differing by a constant, are different.
    ("no_real_roots_other_variable", "x^2 = -1", "y^2 = -4", False, True),  # math-verify: solve finds none for both
    ("no_real_roots_other_constant", "x^2 = -4", "x^2 = -1", False, True),
    ("parallel_lines", "x + y = 1", "x + y = 2", False, False),
    ("same_line_moved", "y = 2x + 1", "2x - y + 1 = 0", True, True),
    ("same_line_scaled", "2y = 4x + 2", "y = 2x + 1", True, True),
    ("same_curve_solved", "xy = 1", "y = \\frac{1}{x}", True, True),
    ("assignment_other_branch", "d = -\\sqrt{n}", "d = \\sqrt{n}", False, False),
    ("assignment_same_rhs", "M = 2^{N-2}+1", "M=2^{N-2}+1", True, True),
    # What math-verify cannot parse is compared as written, never by a fragment of it.
    # (math-verify on `\\boxed{answer}` alone, as the grader asks it, read the first two as 2/3 and
    # 1/4: true; on the sentence it reads nothing and compares the texts.)
    ("unparsed_not_by_inner_fraction", "\\frac{1}{2}E_{1}+\\frac{1}{4}E_{5}", "\\frac{1}{2}E_{1}+\\frac{1}{4}E_{6}", False, False),
    ("unparsed_fraction_is_not_the_answer", "\\frac{1}{2}E_{1}+\\frac{1}{4}E_{5}", "\\frac{1}{4}", False, False),
    ("unparsed_same_text", "\\frac{1}{2}E_{1}+\\frac{1}{4}E_{5}", "\\frac{1}{2} E_{1}+\\frac{1}{4} E_{5}", True, False),
    ("truncated_text_not_compared", "\\lambda_{\\text{max}}/\\sqrt{3}", "\\lambda_{\\text{max}}/\\sqrt{2}", False, True),  # both `\\lambda_{` after its normalisation
    ("truncated_same_text", "\\lambda_{\\text{max}}/\\sqrt{2}", "\\lambda_{\\text {max}} / \\sqrt{2}", True, False),
]
