"""Hand rows for tests/test_paper_grader.py: one behaviour of the authors' evaluation per row.

Each row is (case id, completion, gold, benchmark, their verdict, their extracted answer). The
gold is given as their evaluate() holds it (already normalised, as paper_gold returns it). The
expected values follow their rules (Qwen2.5-Eval/evaluation at One-Shot-RLVR 21ed529, read in
selector/paper_grader.py); every row was also checked against their code, run unchanged, when
it was written. A new quirk gets a row here before its fix.
"""

# Which extraction wins (parser.py extract_answer), and what reaches the comparison.
EXTRACTION = [
    # Minerva's few-shot form beats any box, even a later one.
    ("hope_beats_box", "Final Answer: The final answer is $5$. I hope it is correct. $\\boxed{6}$", "5", "math500", True, "5"),
    # The last box, not the first.
    ("last_box_wins", "First $\\boxed{1}$, then $\\boxed{2}$.", "2", "math500", True, "2"),
    # A box beats a later "the answer is".
    ("box_beats_answer_is", "$\\boxed{3}$. So the answer is 4.", "3", "math500", True, "3"),
    # "the answer is" takes ALL the text after its last occurrence; unit words then go...
    ("answer_is_takes_the_rest", "So the answer is 7 apples.", "7", "math500", True, "7"),
    # ...but not for Minerva (STRIP_EXCEPTIONS), where the words stay and spaces go.
    ("answer_is_minerva_keeps_words", "So the answer is 7 apples.", "7", "minerva_math", False, "7apples"),
    ("final_answer_is", "My final answer is 12", "12", "aime24", True, "12"),
    # No trigger at all: the last number, with thousands commas dropped first.
    ("last_number", "We get 3 and then 4.5 in the end", "4.5", "math500", True, "4.5"),
    ("last_number_commas", "The total is 1,234 units", "1234", "aime24", True, "1234"),
    ("last_number_not_the_answer", "The sum is 10, found in 2 steps.", "10", "aime24", False, "2"),
    # Only the word "boxed" counts: \fbox is ignored (the last number is read instead).
    ("fbox_is_not_boxed", "Thus $\\fbox{9}$ and 8 more", "9", "math500", False, "8"),
    # An unclosed box reads to the end of the text.
    ("unclosed_box", "so $\\boxed{12", "12", "math500", True, "12"),
    # \boxed without a brace reads up to the next dollar.
    ("box_without_brace", "so $\\boxed 5$.", "5", "math500", True, "5"),
    # "boxed" as the very last word: an empty answer.
    ("boxed_at_the_end", "the answer is boxed", "5", "math500", False, None),
    # Stop words end the completion.
    ("stop_word_cuts", "$\\boxed{1}$<|im_end|> and later $\\boxed{2}$", "1", "math500", True, "1"),
    # Nothing to grade.
    ("empty_completion", "", "5", "math500", False, None),
    ("whitespace_completion", "  \n ", "5", "math500", False, None),
]

# String normalisation (parser.py strip_string, applied twice to predictions).
NORMALISATION = [
    ("trailing_text_unit", "$\\boxed{5\\text{ cm}}$", "5", "math500", True, "5"),
    ("unit_word_removed", "$\\boxed{5 meters}$", "5", "math500", True, "5"),
    ("unit_word_kept_for_minerva", "$\\boxed{5 meters}$", "5", "minerva_math", False, "5meters"),
    ("degrees", "$\\boxed{30^\\circ}$", "30", "math500", True, "30"),
    ("dollars", "$\\boxed{\\$18.90}$", "18.90", "math500", True, "18.90"),
    ("variable_prefix", "$\\boxed{x = 3}$", "3", "math500", True, "3"),
    ("short_lhs_dropped", "$\\boxed{k=5}$", "5", "math500", True, "5"),
    ("dfrac", "$\\boxed{\\dfrac{1}{2}}$", "\\frac{1}{2}", "math500", True, "\\frac{1}{2}"),
    ("slash_fraction", "$\\boxed{3/4}$", "\\frac{3}{4}", "math500", True, "\\frac{3}{4}"),
    ("unbraced_frac", "$\\boxed{\\frac34}$", "\\frac{3}{4}", "math500", True, "\\frac{3}{4}"),
    ("unbraced_sqrt", "$\\boxed{2\\sqrt2}$", "2\\sqrt{2}", "math500", True, "2\\sqrt{2}"),
    ("word_number", "$\\boxed{five}$", "5", "math500", True, "5"),
    ("trailing_zeros", "$\\boxed{2.000}$", "2", "aime24", True, "2"),
    ("leading_dot", "$\\boxed{.5}$", "0.5", "math500", True, "0.5"),
    ("case_insensitive", "$\\boxed{X+1}$", "x+1", "math500", True, "X+1"),
    # "and" is deleted anywhere, so "1 and 2" reads as 12.
    ("and_deleted", "$\\boxed{1 and 2}$", "12", "math500", True, "12"),
    # j becomes i when there is no i.
    ("j_is_i", "$\\boxed{3+2j}$", "3+2i", "math500", True, "3+2i"),
    ("text_wrapper", "$\\boxed{\\text{(C)}}$", "(C)", "math500", True, "(C)"),
    ("spaces_dropped", "$\\boxed{1 2 3}$", "123", "aime24", True, "123"),
    ("infinity_word", "$\\boxed{infinity}$", "\\infty", "math500", True, "\\infty"),
]

# Numbers (grader.py math_equal): relative tolerance 1e-4, and the gold, gold/100, gold*100.
NUMBERS = [
    ("within_1e-4", "$\\boxed{1.00009}$", "1", "aime24", True, "1.00009"),
    ("beyond_1e-4", "$\\boxed{1.0002}$", "1", "aime24", False, "1.0002"),
    ("rounded_fraction", "$\\boxed{0.33333}$", "\\frac{1}{3}", "math500", True, "0.33333"),
    ("rounded_too_far", "$\\boxed{0.333}$", "\\frac{1}{3}", "math500", False, "0.333"),
    # sympy's LaTeX parser reads \pi as a symbol named pi, not the constant: no value to compare.
    ("pi_is_a_symbol", "$\\boxed{3.14159}$", "\\pi", "math500", False, "3.14159"),
    ("pi_times_number", "$\\boxed{6.28318}$", "2\\pi", "math500", False, "6.28318"),
    ("percent_of_fraction", "$\\boxed{50}$", "0.5", "math500", True, "50"),
    ("fraction_of_percent", "$\\boxed{0.5}$", "50", "math500", True, "0.5"),
    ("percent_sign_dropped", "$\\boxed{50\\%}$", "0.5", "math500", True, "50"),
    ("hundredfold_integer", "$\\boxed{5000}$", "50", "aime24", True, "5000"),
    ("hundredth_integer", "$\\boxed{0.5}$", "50", "aime24", True, "0.5"),
    ("leading_zero_pred", "$\\boxed{033}$", "33", "aime24", True, "33"),
    ("off_by_one", "$\\boxed{34}$", "33", "aime24", False, "34"),
    # Commas go before a number is read (thousands), so "1,2" is twelve.
    ("commas_are_dropped", "$\\boxed{1,2}$", "12", "aime24", True, "1,2"),
]

# Tuples, intervals, matrices, equations, symbolic equality.
STRUCTURE = [
    # Elementwise after dropping the outer characters: the openness of an interval is ignored...
    ("interval_openness_ignored", "$\\boxed{[1,2]}$", "(1,2)", "math500", True, "[1,2]"),
    # ...but the order is not.
    ("tuple_order", "$\\boxed{(1,2)}$", "(2,1)", "math500", False, "(1,2)"),
    ("tuple_elementwise_numbers", "$\\boxed{(0.5,2)}$", "(\\frac{1}{2},2)", "math500", True, "(0.5,2)"),
    ("matrix_elementwise", "$\\boxed{\\begin{pmatrix}1.00001\\\\2\\end{pmatrix}}$", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", "math500", True,
     "\\begin{pmatrix}1.00001\\\\2\\end{pmatrix}"),
    # Normalisation drops a short left side ("y="), so a rearranged equation no longer matches...
    ("short_lhs_lost", "$\\boxed{y=2x+1}$", "2x-y+1=0", "math500", False, "2x+1"),
    # ...while two equations with longer sides compare as lhs - rhs, up to sign.
    ("equation_rearranged", "$\\boxed{2b-4a=2}$", "4a-2b+2=0", "math500", True, "2b-4a=2"),
    # "x=" is deleted wherever it stands, even inside an equation.
    ("x_equals_deleted_inside", "$\\boxed{2y-4x=2}$", "4x-2y+2=0", "math500", False, "2y-42"),
    ("expanded_square", "$\\boxed{x^2+2x+1}$", "(x+1)^2", "math500", True, "x^2+2x+1"),
    ("sqrt_simplified", "$\\boxed{\\sqrt{8}}$", "2\\sqrt{2}", "math500", True, "\\sqrt{8}"),
    ("not_equal_expression", "$\\boxed{x^2+1}$", "(x+1)^2", "math500", False, "x^2+1"),
]

# Multiple choice (math_eval.py main) and the gold MATH500 row 97 normalises to ("").
CHOICES = [
    ("choice_from_text", "I think the answer is (C) because it is the largest.", "C", "math500", True, "C"),
    ("choice_wrong_letter", "The answer is (B).", "C", "math500", False, "B"),
    # An empty gold counts as a multiple-choice gold: every letter other than A-E is dropped.
    ("empty_gold_accepts_digits", "$\\boxed{7}$", "", "math500", True, None),
    ("empty_gold_rejects_letters", "$\\boxed{BAD}$", "", "math500", False, "BAD"),
    # (Their clean-up crashes on an empty completion with an empty gold; we grade it wrong.)
    ("empty_gold_empty_completion", "", "", "math500", False, None),
]

# Gold reading per benchmark (parser.py parse_ground_truth): (case, benchmark, raw row, gold).
GOLDS = [
    ("math500_from_solution_box", "math500", {"solution": "So $\\boxed{\\dfrac{1}{2}}$.", "answer": "\\frac12"}, "\\frac{1}{2}"),
    ("math500_ignores_answer_field", "math500", {"solution": "Hence $\\boxed{4}$.", "answer": "5"}, "4"),
    ("math500_east_is_empty", "math500", {"solution": "facing $\\boxed{\\text{east}}$.", "answer": "\\text{east}"}, ""),
    ("math500_interval_prefix", "math500", {"solution": "$\\boxed{x \\in [-2,7]}$"}, "x\\in[-2,7]"),
    ("minerva_keeps_units", "minerva_math", {"solution": "$\\boxed{5 meters}$"}, "5meters"),
    ("minerva_relations_shortened", "minerva_math", {"solution": "$\\boxed{x \\leq 2}$"}, "x\\le2"),
    ("minerva_python_e", "minerva_math", {"solution": "$\\boxed{4.5e33}$"}, "4.5e33"),
    ("olympiad_first_answer", "olympiadbench", {"final_answer": ["$\\frac{1}{2}$", "$3$"]}, "\\frac{1}{2}"),
    # Only the outer dollars go before normalisation, which then deletes the unit word "a".
    ("olympiad_unit_a_deleted", "olympiadbench", {"final_answer": ["$a$, $b$"]}, ",b"),
    ("olympiad_outer_dollars", "olympiadbench", {"final_answer": ["$x$, $y$"]}, "x,y"),
    ("olympiad_unit_words_go", "olympiadbench", {"final_answer": ["$12$ cm"]}, "12"),
    # A digit string goes through int() (word2number's shortcut): the leading zero goes.
    ("aime_leading_zero", "aime24", {"answer": "033"}, "33"),
    ("aime25_plain", "aime25", {"answer": "70"}, "70"),
    ("amc_float", "amc23", {"answer": 27.0}, "27"),
    ("amc_fraction_float", "amc23", {"answer": 0.5}, "0.5"),
]

# word2number 1.1 as their convert_word_number calls it: (text, what strip_string sees after).
WORD_NUMBERS = [
    ("five", "5"),
    ("twenty-one", "21"),
    ("one hundred twenty three", "123"),
    ("two million three thousand", "2004003"),  # w2n adds "three thousand" twice (3 + 1000)
    ("one point two five", "1.25"),
    ("five point zero", "5.0"),
    ("point", "0"),
    ("one two three four five", "1"),  # a group of five words: only the first counts
    ("thousand one", "thousand one"),  # w2n fails: the text stays
    ("two thousand thousand", "two thousand thousand"),
    ("the answer is seven apples", "7"),
    ("x+1", "x+1"),
]
