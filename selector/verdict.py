"""The verdict on one completion, as both grading modes return it (selector/grader.py: `strict`,
the training reward; selector/paper_grader.py: `paper`, the authors' evaluation)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Grade:
    correct: bool
    formatted: bool  # an answer was extracted (a complete box, or the fallback when enabled)
    extracted: str | None  # the extracted answer text, None if none
    timed_out: bool = False
