"""Evaluation during training: generate on benchmarks, grade with the one grader, record.

Benchmarks follow the paper's evaluation protocol (../shared/reference/paper-setup.md: the
Qwen2.5-Math "qwen25-math-cot" prompt, greedy for MATH500 / Minerva / OlympiadBench,
temperature 0.6 avg@8 for AIME24 / AIME25 / AMC23). The toy benchmark is sampled at the
training temperature, 4 samples per problem (avg@4), because a tiny model's greedy decode hides
what sampling can do.

Evaluation never touches the training RNG: it runs inside `torch.random.fork_rng` with its own
seed (the toy-world notes: an eval callback that reseeded the global RNG made two seeds give
identical runs).
"""

import json
from dataclasses import dataclass

from transformers import TrainerCallback

from selector.errors import UserError

QWEN_MATH_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."


@dataclass(frozen=True)
class Benchmark:
    path: str | None  # under the data directory; None = generated (the toy benchmark)
    problem: str  # field holding the problem text
    answer: str  # field holding the reference answer, or "last_box:<field>"
    temperature: float
    samples: int  # samples per problem; accuracy is their mean (avg@k)


BENCHMARKS: dict[str, Benchmark] = {
    "toy": Benchmark(None, "prompt", "answer", 0.6, 4),
    "math500": Benchmark("benchmarks/math500/test.jsonl", "problem", "answer", 0.0, 1),
    "minerva_math": Benchmark("benchmarks/minerva_math/test.jsonl", "problem", "last_box:solution", 0.0, 1),
    "olympiadbench": Benchmark("benchmarks/olympiadbench/test.jsonl", "question", "final_answer", 0.0, 1),
    "aime24": Benchmark("benchmarks/aime24/test.jsonl", "problem", "answer", 0.6, 8),
    "aime25": Benchmark("benchmarks/aime25/test.jsonl", "problem", "answer", 0.6, 8),
    "amc23": Benchmark("benchmarks/amc23/test.jsonl", "problem", "answer", 0.6, 8),
}


def load_benchmark(name: str, data_dir=None, seed: int = 0) -> list[dict]:
    """Rows {id, prompt (chat messages), answer} of a benchmark."""
    if name not in BENCHMARKS:
        raise UserError(f"unknown benchmark {name!r}; valid benchmarks: {', '.join(BENCHMARKS)}")
    bench = BENCHMARKS[name]
    if bench.path is None:
        from trainer.toy import benchmark_rows

        return [{"id": r["id"], "prompt": r["prompt"], "answer": r["answer"]} for r in benchmark_rows(seed)]
    from selector.grader import extract_boxed
    from selector.paths import find_data_file

    path, searched = find_data_file(bench.path, data_dir)
    if path is None:
        raise UserError(f"benchmark {name!r}: {bench.path} not found in {', '.join(map(str, searched))}; pass --data-dir DIR")
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        raw = json.loads(line)
        if bench.answer.startswith("last_box:"):
            answer = extract_boxed(raw[bench.answer.split(":", 1)[1]]) or ""
        else:
            answer = raw[bench.answer]
            if isinstance(answer, list):  # OlympiadBench: a list of LaTeX answers, the first is the reference
                answer = answer[0].strip().strip("$")
            if isinstance(answer, float) and answer.is_integer():
                answer = int(answer)  # AMC23: 27.0 means 27
        prompt = [{"role": "system", "content": QWEN_MATH_SYSTEM}, {"role": "user", "content": raw[bench.problem]}]
        rows.append({"id": str(raw.get("unique_id", raw.get("id", i))), "prompt": prompt, "answer": str(answer)})
    return rows


def generate(model, tokenizer, prompts: list, samples: int, temperature: float, max_new_tokens: int,
             batch_size: int = 32) -> list[list[tuple[str, int]]]:
    """For each prompt (chat messages), `samples` completions as (text, token count)."""
    import torch

    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    out = []
    try:
        for i in range(0, len(prompts), batch_size):
            texts = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts[i:i + batch_size]]
            enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            sampling = {"do_sample": True, "temperature": temperature, "top_p": 1.0, "top_k": 0} if temperature > 0 else {"do_sample": False}
            with torch.no_grad():
                ids = model.generate(**enc, max_new_tokens=max_new_tokens, num_return_sequences=samples, use_cache=True,
                                     pad_token_id=tokenizer.pad_token_id, **sampling)
            new = ids[:, enc["input_ids"].shape[1]:]
            for j in range(len(texts)):
                block = []
                for k in range(samples):
                    seq = new[j * samples + k]
                    n = int((seq != tokenizer.pad_token_id).sum())
                    block.append((tokenizer.decode(seq, skip_special_tokens=True), n))
                out.append(block)
    finally:
        tokenizer.padding_side = side
    return out


def evaluate(model, tokenizer, name: str, rows: list[dict], grader, max_new_tokens: int, seed: int) -> tuple[float, list[dict]]:
    """(avg@k accuracy, one row per sample for `eval_samples`)."""
    import torch

    bench = BENCHMARKS[name]
    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else []):
            torch.manual_seed(seed)
            outs = generate(model, tokenizer, [r["prompt"] for r in rows], bench.samples, bench.temperature, max_new_tokens)
    finally:
        model.train(was_training)
    texts = [t for block in outs for t, _ in block]
    golds = [r["answer"] for r in rows for _ in range(bench.samples)]
    grades = grader.grade_many(texts, golds)
    samples, k = [], 0
    for r, block in zip(rows, outs):
        for s, (text, n) in enumerate(block):
            g = grades[k]
            k += 1
            samples.append({"benchmark": name, "problem_id": r["id"], "sample_index": s, "completion": text,
                            "extracted": g.extracted, "correct": g.correct, "formatted": g.formatted, "completion_tokens": n})
    return sum(x["correct"] for x in samples) / max(1, len(samples)), samples


class EvalCallback(TrainerCallback):
    """Evaluates before training (step 0) and every `eval_steps` steps; records `eval_samples`."""

    def __init__(self, benchmarks: dict, tokenizer, grader, writer, run_id: str, attempt: int, eval_steps: int,
                 max_new_tokens: int, seed: int, grader_version: str, progress=None):
        self.benchmarks, self.tokenizer, self.grader, self.writer = benchmarks, tokenizer, grader, writer
        self.run_id, self.attempt, self.eval_steps = run_id, attempt, eval_steps
        self.max_new_tokens, self.seed, self.grader_version = max_new_tokens, seed, grader_version
        self.progress = progress
        self.last: dict[str, float] = {}

    def _run(self, model, step: int, is_main: bool) -> None:
        if not is_main:
            return
        for name, rows in self.benchmarks.items():
            acc, samples = evaluate(model, self.tokenizer, name, rows, self.grader, self.max_new_tokens, self.seed + step)
            self.writer.append("eval_samples", [{**s, "run_id": self.run_id, "attempt": self.attempt, "step": step,
                                                 "grader_version": self.grader_version} for s in samples])
            self.writer.append("metrics", [{"run_id": self.run_id, "attempt": self.attempt, "step": step,
                                            "name": f"eval/{name}/accuracy", "value": acc}])
            self.last[name] = acc
        self.writer.flush()
        if self.progress is not None:
            self.progress.eval_done(step, self.last)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step == 0:
            self._run(model, 0, state.is_world_process_zero)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.eval_steps == 0 or state.global_step == state.max_steps:
            self._run(model, state.global_step, state.is_world_process_zero)
