"""Their answer extraction and string normalisation (the paper's evaluation, parser.py).

Reimplemented from reading Qwen2.5-Eval/evaluation/parser.py in the authors' repository
(ypwang61/One-Shot-RLVR at 21ed529ec90002597c92aee957af1dd8166bb66c, `Q` below:
https://github.com/ypwang61/One-Shot-RLVR/blob/21ed529ec90002597c92aee957af1dd8166bb66c/Qwen2.5-Eval/evaluation),
step for step, because the order of their steps decides the result. Pure string work, no sympy;
selector/paper_grader.py runs it (in its worker, under the deadline) and compares the result.
"""

import re

# --------------------------------------------------------------------------- extraction

_LAST_NUMBER = re.compile(r"-?\d*\.?\d+")


def _after_brace(tail: str) -> str:
    """The text after `{` up to its matching `}` (no escapes); all of it if it never closes."""
    depth = 1
    for i, ch in enumerate(tail[1:], 1):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0:
            return tail[1:i]
    return tail[1:]


def extract(text: str, skip_units: bool) -> str:
    """Q/parser.py `extract_answer`, with its final `strip_string`."""
    text = text.replace("\u043a\u0438", "")  # Cyrillic "ки": a step tag of PRM data (our guess at why)
    if "final answer is $" in text and "$. I hope" in text:
        pred = text.split("final answer is $", 1)[1].split("$. I hope", 1)[0].strip()
    elif "boxed" in text:  # the word, so \fbox does not count and "boxed" in prose does
        tail = text.split("boxed")[-1]
        if not tail:
            return ""  # returned before the clean-up below
        pred = _after_brace(tail) if tail[0] == "{" else tail.split("$")[0].strip()
    elif "he answer is" in text:
        pred = text.split("he answer is")[-1].strip()
    elif "final answer is" in text:
        pred = text.split("final answer is")[-1].strip()
    elif "答案是" in text:
        pred = text.split("答案是")[1].strip().split("\n\n")[0].strip()
    else:
        numbers = _LAST_NUMBER.findall(text.replace(",", ""))
        pred = numbers[-1] if numbers else ""
    pred = re.sub(r"\n\s*", "", pred)
    pred = pred[1:] if pred.startswith(":") else pred
    pred = pred[:-1] if pred.endswith(".") else pred
    pred = pred[:-1] if pred.endswith("/") else pred
    return normalise(pred, skip_units)


CHOICES = ("A", "B", "C", "D", "E")
CHOICE_LETTER = re.compile(r"\b(A|B|C|D|E)\b")


def choice_from_text(text: str) -> str:
    """Q/parser.py `choice_answer_clean`: the letter after the last "answer is"/"choice is"."""
    text = text.strip("\n")
    if text.count("choice is") > 1 or text.count("answer is") > 1:
        text = text.split("\n\n")[0]  # a few-shot transcript: its first block
    pieces = re.split("choice is|answer is", text)
    after_trigger = len(pieces) > 1
    text = pieces[-1].strip("\n").rstrip(".").rstrip("/").strip(" ").lstrip(":")
    letters = CHOICE_LETTER.findall(text.upper()) or [text.strip().strip(".")]
    return (letters[0] if after_trigger else letters[-1]).rstrip(".").rstrip("/")


# --------------------------------------------------------------------------- normalisation

# Q/parser.py `unit_texts`, in their order (it matters: each is removed in turn, twice), then
# each with an "s". They are regular expressions there, so "q ." removes "q" and any character.
_UNIT_WORDS = [
    "east", "degree", "mph", "kmph", "ft", "m sqaure", " m east", "sq m", "deg", "mile", "q .",
    "monkey", "prime", "ratio", "profit of rs", "rd", "o", "gm", "p . m", "lb", "tile", "per", "dm",
    "lt", "gain", "ab", "way", "west", "a .", "b .", "c .", "d .", "e .", "f .", "g .", "h .", "t",
    "a", "h", "no change", "men", "soldier", "pie", "bc", "excess", "st", "inches", "noon",
    "percent", "by", "gal", "kmh", "c", "acre", "rise", "a . m", "th", "π r 2", "sq", "mark", "l",
    "toy", "coin", "sq . m", "gallon", "° f", "profit", "minw", "yr", "women", "feet", "am", "pm",
    "hr", "cu cm", "square", "v â € ™", "are", "rupee", "rounds", "cubic", "cc", "mtr", "s", "ohm",
    "number", "kmph", "day", "hour", "minute", "min", "second", "man", "woman", "sec", "cube",
    "mt", "sq inch", "mp", "∏ cm ³", "hectare", "more", "sec", "unit", "cu . m", "cm 2", "rs .",
    "rs", "kg", "g", "month", "km", "m", "cm", "mm", "apple", "liter", "loss", "yard", "pure",
    "year", "increase", "decrease", "d", "less", "Surface", "litre", "pi sq m", "s .", "metre",
    "meter", "inch",
]
_UNITS = [re.compile(r"(^|\W)" + u + r"($|\W)") for u in _UNIT_WORDS + [u + "s" for u in _UNIT_WORDS]]
# Prefixes dropped anywhere in the answer (Q/parser.py strip_string).
_VARIABLE_PREFIXES = ("x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to")


def normalise(s, skip_units: bool) -> str:
    """Q/parser.py `strip_string`, step for step (the order matters: each step sees the last's
    output). Not idempotent: their pipeline applies it twice to predictions, so do we."""
    s = str(s).strip().replace("\n", "").rstrip(".")
    s = s.replace("\\!", "")
    s = re.sub(r"\\begin\{array\}\{.*?\}", r"\\begin{pmatrix}", s)
    s = re.sub(r"\\end\{array\}", r"\\end{pmatrix}", s).replace("bmatrix", "pmatrix")
    s = shorten_relations(s.replace("tfrac", "frac").replace("dfrac", "frac"))
    s = s.replace("\\left", "").replace("\\right", "").replace("\\{", "{").replace("\\}", "}")
    without_unit = re.sub(r"\\text{.*?}$", "", s).strip()  # a trailing \text{...}, unless it is all
    if without_unit:
        s = without_unit
    if not skip_units:
        for _ in range(2):
            for unit in _UNITS:
                s = unit.sub(r"\1\2", s) or s  # a removal that would leave nothing is skipped
    s = s.replace("^{\\circ}", "").replace("^\\circ", "")
    s = s.replace("\\$", "").replace("$", "").replace("\\(", "").replace("\\)", "")
    s = number_from_words(s)
    s = re.sub(r"\\text\{(.*?)\}", r"\1", s)
    for prefix in _VARIABLE_PREFIXES:
        s = s.replace(prefix, "")
    s = s.replace("\\emptyset", "{}").replace("(-\\infty,\\infty)", "\\mathbb{R}")
    s = s.replace("\\%", "").replace("%", "")
    s = s.replace(" .", " 0.").replace("{.", "{0.")
    # (Their next step would unwrap "{x}" when the whole string isalnum(), which a string with
    # braces never is; and their quote removal discards its result. Neither changes anything.)
    s = s.replace("infinity", "\\infty")
    if "\\infty" not in s:
        s = s.replace("inf", "\\infty")
    s = s.replace("+\\inity", "\\infty").replace("and", "").replace("\\mathbf", "")
    s = re.sub(r"\\mbox{.*?}", "", s)
    if "j" in s and "i" not in s:
        s = s.replace("j", "i")  # an imaginary unit written j
    s = re.sub(r"(\d+)\.0*([^\d])", r"\1\2", s)  # 2.0 -> 2, 2.50 stays
    s = re.sub(r"(\d+)\.0*$", r"\1", s)
    if not s:
        return s
    if s[0] == ".":
        s = "0" + s
    if len(s.split("=")) == 2 and len(s.split("=")[0]) <= 2:
        s = s.split("=")[1]  # "k = 5" -> "5" (a short left side only)
    s = re.sub(r"\\sqrt(\w+)", r"\\sqrt{\1}", s).replace(" ", "")
    return _fraction_from_slash(_braced_fractions(s))


def _braced_fractions(s: str) -> str:
    """\\frac12 -> \\frac{1}{2}, \\frac1{72} -> \\frac{1}{72}; gives up (returns s) on a bare
    \\frac with under two characters after it."""
    head, *pieces = s.split("\\frac")
    out = head
    for piece in pieces:
        out += "\\frac"
        if piece.startswith("{"):
            out += piece
        elif len(piece) < 2:
            return s
        elif piece[1] == "{":
            out += "{" + piece[0] + "}" + piece[1:]
        else:
            out += "{" + piece[0] + "}{" + piece[1] + "}" + piece[2:]
    return out


def _fraction_from_slash(s: str) -> str:
    """`3/4` -> \\frac{3}{4} when both sides are canonical integers (or contain "sqrt")."""
    parts = s.split("/")
    if len(parts) != 2:
        return s
    try:
        a, b = (p if "sqrt" in p else int(p) for p in parts)
    except ValueError:
        return s
    return f"\\frac{{{a}}}{{{b}}}" if s == f"{a}/{b}" else s


# word2number 1.1 (`w2n.word_to_num`, which Q/parser.py convert_word_number calls), reimplemented.
_WORD_VALUES = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_WORD_VALUES.update({w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)})
_WORD_VALUES.update(hundred=100, thousand=1000, million=10**6, billion=10**9)
_SCALES = ("billion", "million", "thousand")


def _group(words: list[str]):
    """w2n's `number_formation`: a group of up to four words (raises IndexError on none)."""
    v = [_WORD_VALUES[w] for w in words]
    if len(v) == 4:
        return v[0] * v[1] + v[2] + v[3]
    if len(v) == 3:
        return v[0] * v[1] + v[2]
    if len(v) == 2:
        return v[0] * v[1] if 100 in v else v[0] + v[1]
    return v[0]


def _words_to_value(text: str):
    """The number the words in `text` spell, as w2n reads it; ValueError/IndexError if none."""
    text = text.replace("-", " ").lower()
    if text.isdigit():
        return int(text)
    words = [w for w in text.strip().split() if w in _WORD_VALUES or w == "point"]
    if not words:
        raise ValueError("no number words")
    if any(words.count(w) > 1 for w in _SCALES + ("point",)):
        raise ValueError("a scale word twice")
    decimals = []
    if "point" in words:
        decimals, words = words[words.index("point") + 1 :], words[: words.index("point")]
    at = {w: words.index(w) if w in words else -1 for w in _SCALES}
    if (at["thousand"] > -1 and (at["thousand"] < at["million"] or at["thousand"] < at["billion"])) or (
            at["million"] > -1 and at["million"] < at["billion"]):
        raise ValueError("scales out of order")
    total = 0
    if len(words) == 1:
        total = _WORD_VALUES[words[0]]
    elif words:
        start = 0  # each scale's multiplier is the group since the previous scale word
        for scale, size in zip(_SCALES, (10**9, 10**6, 1000)):
            if at[scale] > -1:
                total += _group(words[start : at[scale]]) * size
                start = at[scale] + 1
        # The words after the first scale (thousand, million, billion) that does not end the
        # list: "two million three thousand" adds "three thousand" read as 3 + 1000 again.
        end = len(words) - 1
        rest = next((words[at[w] + 1 :] for w in reversed(_SCALES) if -1 < at[w] != end), None)
        if rest is None and max(at.values()) == -1:
            rest = words
        total += _group(rest) if rest is not None else 0
    if decimals:
        total += 0 if any(w not in _WORD_VALUES or _WORD_VALUES[w] > 9 for w in decimals) else float(
            "0." + "".join(str(_WORD_VALUES[w]) for w in decimals))
    return total


def number_from_words(s: str) -> str:
    try:
        return str(_words_to_value(s))
    except (ValueError, IndexError):
        return s  # their convert_word_number keeps the text on any failure


def shorten_relations(s: str) -> str:
    return s.replace("\\neq", "\\ne").replace("\\leq", "\\le").replace("\\geq", "\\ge")
