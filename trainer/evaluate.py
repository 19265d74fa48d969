"""Evaluation: generate on benchmarks (HF `generate` or vLLM), grade with the one grader, record.

What a benchmark is (data, fields, prompt, the paper's sampling protocol) lives in
`selector/benchmarks/`, one file each; this module only generates and grades (with the one
grader, selector/grader.py). Two users:
- `EvalCallback`: during training, before the first step and every `eval_steps` steps;
- `evaluate_model`: `select eval`, a model on its own (a checkpoint, a hub model, the toy model).

Evaluation never touches the training RNG: it runs inside `torch.random.fork_rng` with its own
seed (the toy-world notes: an eval callback that reseeded the global RNG made two seeds give
identical runs).
"""

import sys

from transformers import TrainerCallback

from selector.benchmark import Sampling
from selector.errors import UserError


def chat_texts(tokenizer, prompts: list) -> list[str]:
    if not getattr(tokenizer, "chat_template", None):
        raise UserError("the model's tokenizer has no chat template; the paper's evaluation prompt is a chat "
                        "(system + user turn): use a model directory whose tokenizer_config.json has one")
    return [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]


def stop_ids(model, tokenizer) -> list[int]:
    """Where a completion ends: every eos id of the model's generation config, the tokenizer's eos,
    and `<|im_end|>` where the vocabulary has it. Qwen2.5-Math's base generation config stops only
    at `<|endoftext|>`; the paper's evaluation (Qwen2.5-Math evaluation) stops at `<|im_end|>` and
    `<|endoftext|>`, the end of the assistant turn, and so does this."""
    declared = model.generation_config.eos_token_id
    ids = [declared] if isinstance(declared, int) else list(declared or [])
    if "<|im_end|>" in tokenizer.get_vocab():
        ids.append(tokenizer.convert_tokens_to_ids("<|im_end|>"))
    ids.append(tokenizer.eos_token_id)
    return list(dict.fromkeys(i for i in ids if i is not None))


def generate(model, tokenizer, prompts: list, sampling: Sampling, batch_size: int = 32,
             progress=None, synced_gpus: bool = False) -> list[list[tuple[str, int]]]:
    """HF generate: for each prompt (chat messages), `sampling.samples` completions as (text, tokens).
    A completion stops at stop_ids; its text leaves the stop token out, its token count keeps it."""
    import torch

    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    kwargs = ({"do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p, "top_k": 0}
              if sampling.temperature > 0 else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None})
    out, stops = [], stop_ids(model, tokenizer)
    try:
        for i in range(0, len(prompts), batch_size):
            texts = chat_texts(tokenizer, prompts[i:i + batch_size])
            enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            with torch.no_grad():
                ids = model.generate(**enc, max_new_tokens=sampling.max_new_tokens, num_return_sequences=sampling.samples,
                                     use_cache=True, pad_token_id=tokenizer.pad_token_id, eos_token_id=stops,
                                     synced_gpus=synced_gpus, **kwargs)
            new = ids[:, enc["input_ids"].shape[1]:]
            # Tokens up to the first stop, inclusive (the pad after it may be the same id as a stop)
            stopped = torch.isin(new, torch.tensor(stops, device=new.device))
            lengths = torch.where(stopped.any(1), stopped.int().argmax(1) + 1, new.shape[1]).tolist()
            for j in range(len(texts)):
                block = []
                for k in range(sampling.samples):
                    r = j * sampling.samples + k
                    block.append((tokenizer.decode(new[r, :lengths[r]], skip_special_tokens=True), lengths[r]))
                out.append(block)
            if progress is not None:
                progress.update(len(texts))
    finally:
        tokenizer.padding_side = side
    return out


def generate_vllm(llm, prompts: list, sampling: Sampling, seed: int) -> list[list[tuple[str, int]]]:
    """vLLM: the same sampling parameters (n, temperature, top_p, max tokens), one call for all."""
    from vllm import SamplingParams

    params = SamplingParams(n=sampling.samples, temperature=sampling.temperature, top_p=sampling.top_p,
                            max_tokens=sampling.max_new_tokens, seed=seed)
    results = llm.generate(chat_texts(llm.get_tokenizer(), prompts), params)
    return [[(o.text, len(o.token_ids)) for o in r.outputs] for r in results]


def grade_outputs(name: str, rows: list[dict], outs: list[list[tuple[str, int]]], grader) -> tuple[float, list[dict]]:
    """(mean accuracy over all samples = avg@k, strict; one `eval_samples` row per sample, graded
    in both modes: strict by `grader`, and the paper's way where the benchmark has a paper gold)."""
    texts = [t for block in outs for t, _ in block]
    golds = [r["answer"] for r, block in zip(rows, outs) for _ in block]
    grades = grader.grade_many(texts, golds)
    samples, k = [], 0
    for r, block in zip(rows, outs):
        for s, (text, n) in enumerate(block):
            g = grades[k]
            k += 1
            samples.append({"benchmark": name, "problem_id": r["id"], "sample_index": s, "completion": text,
                            "extracted": g.extracted, "correct": g.correct, "formatted": g.formatted, "completion_tokens": n,
                            **_paper_verdict(name, text, r.get("paper_answer"))})
    return sum(x["correct"] for x in samples) / max(1, len(samples)), samples


def _paper_verdict(name: str, text: str, gold: str | None) -> dict:
    """The authors' evaluation's verdict (selector/paper_grader.py; None where it has no gold)."""
    if gold is None:
        return {"correct_paper": None, "extracted_paper": None}
    from selector import paper_grader

    g = paper_grader.grade(text, gold, name)
    return {"correct_paper": g.correct, "extracted_paper": g.extracted}


def evaluate(model, tokenizer, name: str, rows: list[dict], sampling: Sampling, grader, seed: int,
             progress=None, synced_gpus: bool = False) -> tuple[float, list[dict]]:
    """Generate with HF on `model` (training mode restored after) under a forked RNG, and grade."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else []):
            torch.manual_seed(seed)
            outs = generate(model, tokenizer, [r["prompt"] for r in rows], sampling, progress=progress,
                            synced_gpus=synced_gpus)
    finally:
        model.train(was_training)
    return grade_outputs(name, rows, outs, grader)


class EvalCallback(TrainerCallback):
    """Evaluates before training (step 0) and every `eval_steps` steps; records `eval_samples`.

    `benchmarks`: name -> (rows, Sampling). Under several processes each evaluates its share of
    the problems (every n-th, padded to the same count so that every process makes the same
    generate calls, as sharded models require), the samples are gathered, and the main process
    writes them once. No process idles into the next step's collective while another evaluates:
    an evaluation of the six benchmarks at 3,072 tokens outlasts the 30-minute collective timeout.
    """

    def __init__(self, benchmarks: dict, tokenizer, grader, writer, run_id: str, attempt: int, eval_steps: int,
                 seed: int, grader_version: str, progress=None, accelerator=None):
        self.benchmarks, self.tokenizer, self.grader, self.writer = benchmarks, tokenizer, grader, writer
        self.run_id, self.attempt, self.eval_steps = run_id, attempt, eval_steps
        self.seed, self.grader_version = seed, grader_version
        self.progress, self.accelerator = progress, accelerator
        self.trainer = None  # set once the trainer exists: eval metrics go through its log
        self.last: dict[str, float] = {}

    def _run(self, model, step: int, control=None) -> None:
        import time

        acc = self.accelerator
        processes, index = (acc.num_processes, acc.process_index) if acc is not None else (1, 0)
        started = time.perf_counter()
        for name, (rows, sampling) in self.benchmarks.items():
            shard, real = shard_rows(rows, index, processes)
            _, samples = evaluate(model, self.tokenizer, name, shard, sampling, self.grader, self.seed + step,
                                  synced_gpus=processes > 1 and _sharded(acc))
            samples = [s for s in samples if s["problem_id"] in real]  # drop the padding's samples
            if processes > 1:
                from accelerate.utils import gather_object

                samples = gather_object(samples)  # collective: every process evaluates the same benchmarks
            if index != 0:
                continue
            self.writer.append("eval_samples", [{**s, "run_id": self.run_id, "attempt": self.attempt, "step": step,
                                                 "grader_version": self.grader_version} for s in samples])
            self.last[name] = sum(s["correct"] for s in samples) / max(1, len(samples))
        if index == 0:
            self.writer.flush()
            # The accuracies and the round's wall time (to size eval_steps) go through the trainer's
            # log: the store's `metrics` (RecorderCallback.on_log) and any --report-to tracker.
            logs = {f"eval/{name}/accuracy": value for name, value in self.last.items()}
            logs["eval/seconds"] = time.perf_counter() - started
            if self.trainer is not None:
                from transformers import Trainer

                # The base method (TRL's adds its own averaged metrics). Logging clears the step's
                # should_log, which the Trainer checks after this callback: keep it, or the step's
                # own log (loss, reward, ...) would be lost.
                keep = control.should_log if control is not None else None
                Trainer.log(self.trainer, logs)
                if control is not None:
                    control.should_log = keep
            else:
                self.writer.append("metrics", [{"run_id": self.run_id, "attempt": self.attempt, "step": step, "name": k,
                                                "value": v} for k, v in logs.items()])
                self.writer.flush()
            if self.progress is not None:
                self.progress.eval_done(step, self.last)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step == 0:
            self._run(model, 0, control)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.eval_steps == 0 or state.global_step == state.max_steps:
            self._run(model, state.global_step, control)


def shard_rows(rows: list[dict], index: int, processes: int) -> tuple[list[dict], set]:
    """Process `index`'s share of `rows`: every `processes`-th problem from `index`, padded with
    copies of the first problem (under other ids) to ceil(len / processes) rows, so that every process makes the
    same number of generate calls. Returns (the shard, the ids of its real problems)."""
    shard = rows[index::processes]
    real = {r["id"] for r in shard}
    want = -(-len(rows) // processes)
    return shard + [{**rows[0], "id": f"(padding {k})"} for k in range(want - len(shard))], real


def _sharded(accelerator) -> bool:
    """Parameters split across processes (DeepSpeed ZeRO-3, FSDP): generation must run in lock
    step on every process (generate's synced_gpus)."""
    state = getattr(accelerator, "state", None)
    ds = getattr(state, "deepspeed_plugin", None)
    return bool(getattr(state, "fsdp_plugin", None)) or bool(ds and getattr(ds, "zero_stage", 0) == 3)


def load_for_generation(path: str):
    """(model, tokenizer) of a local model directory for HF `generate`: on the GPU in bf16 when
    there is one, else on the CPU in fp32; a tokenizer without a pad token pads with eos."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cuda = torch.cuda.is_available()
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if cuda else torch.float32)
    model.to("cuda" if cuda else "cpu").eval()
    return model, tokenizer


def evaluate_model(path: str, jobs: list[tuple[str, list[dict], Sampling]], backend: str, seed: int, grader,
                   on_result, batch_size: int = 32) -> None:
    """`select eval`: generate for each (benchmark, rows, sampling) with one loaded model, grade,
    and hand each benchmark's (name, accuracy, samples) to `on_result` as soon as it is done."""
    from tqdm.auto import tqdm

    if backend == "vllm":
        try:
            from vllm import LLM
        except ImportError:
            raise UserError("--backend vllm needs vLLM: pip install -e '.[gpu]' (on a machine with a GPU)") from None
        llm = LLM(model=path, seed=seed, dtype="bfloat16")  # bf16, as training generates and as the paper evaluated
        for name, rows, sampling in jobs:
            print(f"{name}: {len(rows)} problems, {sampling.describe()} (vLLM)", file=sys.stderr)
            on_result(name, *grade_outputs(name, rows, generate_vllm(llm, [r["prompt"] for r in rows], sampling, seed), grader))
        return

    model, tokenizer = load_for_generation(path)
    for name, rows, sampling in jobs:
        with tqdm(total=len(rows), desc=f"{name} ({sampling.describe()})", unit="problem", file=sys.stderr) as bar:
            acc, samples = evaluate(model, tokenizer, name, rows, sampling, grader, seed, progress=bar)
        on_result(name, acc, samples)
