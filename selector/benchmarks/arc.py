"""ARC-Easy and ARC-Challenge (the paper's non-math check): greedy, one sample.

Read in either public layout: the Hugging Face one (`question` text, `choices: {text, label}`,
`answerKey`) or AllenAI's original JSONL (`question: {stem, choices: [{text, label}]}`,
`answerKey`). The choices are appended to the question; the reference is the letter.
"""

from selector.benchmark import Benchmark, Sampling


def problem(row: dict) -> str:
    q = row["question"]
    if isinstance(q, dict):  # AllenAI layout
        stem, choices = q["stem"], [(c["label"], c["text"]) for c in q["choices"]]
    else:
        stem, choices = q, list(zip(row["choices"]["label"], row["choices"]["text"]))
    lines = "\n".join(f"{label}. {text}" for label, text in choices)
    return f"{stem}\n\n{lines}\n\nAnswer with the letter of the correct choice."


def _arc(name: str, config: str, folder: str) -> Benchmark:
    return Benchmark(
        name=name,
        description=f"{config} test (greedy; the answer is a letter)",
        path=f"benchmarks/{folder}/test.jsonl",
        hub=("allenai/ai2_arc", config, "test"),
        problem=problem,
        gold=lambda r: r["answerKey"],
        row_id=lambda r, i: r.get("id", i),
        paper=Sampling(temperature=0.0, samples=1, max_new_tokens=3072),
    )


EASY = _arc("arc-e", "ARC-Easy", "arc_easy")
CHALLENGE = _arc("arc-c", "ARC-Challenge", "arc_challenge")
