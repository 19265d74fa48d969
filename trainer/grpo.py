"""GRPO runs: TRL's GRPOTrainer, composed (never forked) with recording, evaluation and a
progress bar; the runs of the paper (a history run over the whole pool, 1-shot and few-shot
runs on chosen examples) are the same function with a different dataset.

    selector train --pool toy                        # history run over the whole toy pool
    selector train --pool toy --examples pi1         # 1-shot on pi1 of the stored ranking
    selector train --pool toy --examples pi1,pi13 --seed 2
    selector train --pool dsr-sub --preset paper-qwen2.5-math-1.5b --examples pi13   # a real GPU run

What is recorded (the run's shard in the store): a `runs` row with the resolved config, `run_events`
(running / finished / failed, one `running` per attempt), every rollout (`rollouts`), every eval
sample (`eval_samples`) and TRL's logged metrics (`metrics`). Checkpoints go to
<store>/checkpoints/<run_id>/; `--resume` continues from the last one, recording as a new
attempt so that no step is counted twice.

1-shot and few-shot datasets follow the paper: the chosen examples are copied to fill one step's
prompts (128 in the paper; 2-shot = 64 + 64), each copy its own GRPO group.
"""

import hashlib
import json
import os
import sys
from dataclasses import dataclass

from selector.errors import UserError
from trainer.config import TrainConfig, resolve
from trainer.model import model_path


def resolve_examples(store, pool, names: str, score: str) -> list[str]:
    from selector.show import resolve as resolve_name

    ids = []
    for name in [n.strip() for n in names.split(",") if n.strip()]:
        example_id, _ = resolve_name(store, pool.name, score, name)
        ids.append(pool.get(example_id).id)
    if not ids:
        raise UserError("--examples is empty; give pi names (pi1,pi13) or example ids")
    if len(set(ids)) != len(ids):
        raise UserError(f"--examples names an example twice ({names})")
    return ids


def build_rows(pool, example_ids: list[str] | None, prompts_per_step: int) -> list[dict]:
    """The training dataset: the whole pool, or the chosen examples copied to fill one step."""
    def row(ex):
        return {"prompt": list(ex.prompt), "answer": ex.answer, "example_id": ex.id}

    if example_ids is None:
        return [row(ex) for ex in pool.examples if ex.id not in pool.bad_golds]
    if prompts_per_step % len(example_ids):
        raise UserError(f"{len(example_ids)} examples cannot split {prompts_per_step} prompts per step evenly; "
                        "pick a number of examples that divides --prompts-per-step")
    copies = prompts_per_step // len(example_ids)
    return [row(pool.get(ex_id)) for ex_id in example_ids for _ in range(copies)]


def _drop_long_prompts(rows: list[dict], tokenizer, limit: int) -> list[dict]:
    kept = [r for r in rows if len(tokenizer.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=True)) <= limit]
    if len(kept) < len(rows):
        print(f"dropped {len(rows) - len(kept)} prompts longer than {limit} tokens (as verl's filter_overlong_prompts)", file=sys.stderr)
    if not kept:
        raise UserError(f"every prompt is longer than max_prompt_length={limit} tokens")
    return kept


def run_id_for(kind: str, pool_name: str, example_ids, values: dict, cfg: TrainConfig) -> str:
    key = json.dumps({"kind": kind, "pool": pool_name, "examples": example_ids, "values": values, "seed": cfg.seed,
                      "reward": cfg.reward, "lora_r": cfg.lora_r}, sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    pool_slug = "".join(c if c.isalnum() else "-" for c in pool_name.split("?")[0].rsplit("/", 1)[-1])[:24]
    what = "" if example_ids is None else "-" + "+".join(example_ids)[:40]
    return f"{kind}-{pool_slug}{what}-s{cfg.seed}-{digest}"


@dataclass
class Prepared:
    """A run before any heavy work: everything that decides its id (no torch needed)."""

    values: dict  # the resolved settings, max_steps and eval_steps final
    pool: object
    store: object
    example_ids: list[str] | None  # None: the whole pool (a history run)
    kind: str  # history | one_shot | few_shot
    rows: list[dict]  # the training dataset
    steps_per_epoch: int
    run_id: str


def prepare(cfg: TrainConfig, pool=None, store=None) -> Prepared:
    """Resolve a run's settings, dataset and id; loads nothing heavy and trains nothing.

    `select sweep` calls this for every planned run to know its id (and so whether it is done)."""
    from selector.paths import store_dir
    from selector.pools import load_pool
    from selector.store import Store

    values = resolve(cfg)
    pool = pool or load_pool(cfg.pool, cfg.data_dir)
    store = store or Store.open(store_dir(cfg.store), create=True)
    example_ids = resolve_examples(store, pool, cfg.examples, cfg.score) if cfg.examples else None
    kind = "history" if example_ids is None else ("one_shot" if len(example_ids) == 1 else "few_shot")

    prompts = values["prompts_per_step"]
    rows = build_rows(pool, example_ids, prompts)
    if example_ids is None and len(rows) < prompts:
        raise UserError(f"pool {pool.name!r} has {len(rows)} usable examples, fewer than {prompts} prompts per step")
    steps_per_epoch = len(rows) // prompts  # 1 for 1-shot / few-shot: their dataset is one step of copies
    if cfg.max_steps:
        max_steps = cfg.max_steps
    elif example_ids is None:
        epochs = cfg.epochs or values.get("history_epochs")
        max_steps = round(epochs * steps_per_epoch) if epochs else values["history_steps"]
    else:
        max_steps = values["one_shot_steps"]
    values = {**values, "max_steps": max_steps}
    if example_ids is None and cfg.eval_steps is None:
        values["eval_steps"] = values.get("history_eval_steps", 0)
    if values.get("eval_steps") and values.get("eval_benchmarks"):
        from selector.benchmark import parse_names

        values["eval_benchmarks"] = ",".join(parse_names(values["eval_benchmarks"]))  # unknown names fail here
    run_id = cfg.run_id or run_id_for(kind, pool.name, example_ids, values, cfg)
    return Prepared(values, pool, store, example_ids, kind, rows, steps_per_epoch, run_id)


def train(cfg: TrainConfig, callbacks: tuple = ()) -> str | None:
    """Run (or resume) one GRPO run; returns its run id. `callbacks`: extra TrainerCallbacks.

    A finished run is not trained again. `--resume` continues an interrupted run from its last
    checkpoint, and starts it when it does not exist yet (so a sweep task can always pass it)."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import warnings

    import transformers

    transformers.utils.logging.disable_progress_bar()  # weight-loading bars would bury ours
    # transformers 5 renamed gradient checkpointing; TRL 1.16 still calls the old names (noise only).
    warnings.filterwarnings("ignore", message=r"`(is_)?gradient_checkpointing.*` is deprecated", category=FutureWarning)
    if cfg.print_config:
        print(json.dumps(resolve(cfg), indent=1, default=str))
        return None
    p = prepare(cfg)
    run_id, store = p.run_id, p.store
    existing = store.run(run_id)
    if existing is not None and existing["status"] == "finished":
        print(f"run {run_id} already finished; nothing to do (pass --run-id NEW to train again)", file=sys.stderr)
        return run_id
    if existing is not None and not cfg.resume:
        raise UserError(f"run {run_id} exists with status {existing['status']!r}; pass --resume to continue it from its last checkpoint")
    if existing is None and cfg.resume:
        print(f"run {run_id} is not in store {store.root} yet; starting it", file=sys.stderr)
    path = model_path(p.values["model"])  # a model that cannot be loaded fails before the run is recorded
    attempt = 0 if existing is None else store.attempts(run_id)
    return _run(cfg, p.values, path, store, p.pool, p.rows, p.example_ids, p.kind, run_id, attempt, p.steps_per_epoch,
                existing is None, callbacks)


def _run(cfg, values, path, store, pool, rows, example_ids, kind, run_id, attempt, steps_per_epoch, new, callbacks) -> str:
    import dataclasses

    from datasets import Dataset
    from transformers import AutoTokenizer
    from transformers.trainer_callback import PrinterCallback, ProgressCallback as HFProgress
    from trl import GRPOConfig

    from selector.grader import GRADER_VERSION, Grader
    from selector.store import code_version, host, now
    from selector.benchmark import get_benchmark, load_rows, sampling
    from trainer.evaluate import EvalCallback
    from trainer.progress import ProgressCallback
    from trainer.recorder import Recorder, RecorderCallback
    from trainer.reward import RecordingReward

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    rows = _drop_long_prompts(rows, tokenizer, values["max_prompt_length"])
    benchmarks = {}
    if values.get("eval_steps") and values.get("eval_benchmarks"):
        # The paper's protocol per benchmark, at the run's response length (the paper: 3,072 for both).
        for name in values["eval_benchmarks"].split(","):
            bench = get_benchmark(name)
            benchmarks[name] = (load_rows(bench, cfg.data_dir, cfg.eval_limit),
                                sampling(bench, "paper", max_new_tokens=values["max_completion_length"]))

    completions = values["prompts_per_step"] * values["num_generations"]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    micro = values["micro_batch_size"] or completions // world
    if completions % (micro * world):
        raise UserError(f"{completions} completions per step do not split into micro-batches of {micro} on {world} process(es)")
    grpo_fields = {f.name for f in dataclasses.fields(GRPOConfig)}
    output_dir = store.root / "checkpoints" / run_id
    args = GRPOConfig(
        output_dir=str(output_dir), per_device_train_batch_size=micro, gradient_accumulation_steps=completions // (micro * world),
        seed=cfg.seed, data_seed=cfg.seed, report_to=[], logging_steps=1, save_strategy="steps", save_total_limit=2,
        disable_tqdm=True, use_vllm=cfg.use_vllm, use_cpu=not _has_cuda(),
        **{k: v for k, v in values.items() if k in grpo_fields and k not in ("seed",)},
    )
    is_main = int(os.environ.get("RANK", "0")) == 0
    writer = store.run_writer(run_id)
    if is_main:
        if new:
            writer.append("runs", [{"run_id": run_id, "kind": kind, "pool": pool.name, "model": str(values["model"] or path),
                                    "config": json.dumps({**values, "examples": example_ids, "seed": cfg.seed, "reward": cfg.reward,
                                                          "terms": cfg.terms, "lora_r": cfg.lora_r, "model_path": path,
                                                          "steps_per_epoch": steps_per_epoch, "pool_source": pool.source}, default=str),
                                    "grader_version": GRADER_VERSION, "code_version": code_version(), "created_at": now(), "host": host()}])
        writer.append("run_events", [{"run_id": run_id, "event_time": now(), "status": "running", "detail": f"attempt {attempt}"}])
        writer.flush()
    peft_config = None
    if cfg.lora_r:
        from peft import LoraConfig

        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=2 * cfg.lora_r, target_modules="all-linear", task_type="CAUSAL_LM")

    grader = Grader(timeout_s=5.0).start()  # workers load sympy while the model loads
    recorder = Recorder(writer, run_id, attempt, steps_per_epoch, values["num_generations"], GRADER_VERSION)
    progress = ProgressCallback(recorder, f"{kind} {run_id}")
    try:
        trainer = _trainer_class()(model=path, reward_funcs=[RecordingReward(cfg.reward, grader, recorder)], args=args,
                                   train_dataset=Dataset.from_list(rows), processing_class=tokenizer, peft_config=peft_config)
        recorder.accelerator = trainer.accelerator
        for cb in (PrinterCallback, HFProgress):
            trainer.remove_callback(cb)
        trainer.add_callback(RecorderCallback(recorder))
        if benchmarks:
            trainer.add_callback(EvalCallback(benchmarks, tokenizer, grader, writer, run_id, attempt, values["eval_steps"],
                                              cfg.seed, GRADER_VERSION, progress))
        trainer.add_callback(progress)
        for cb in callbacks:
            trainer.add_callback(cb)
        last = last_complete_checkpoint(output_dir) if cfg.resume else None
        trainer.train(resume_from_checkpoint=last)
    except BaseException as e:
        recorder.flush()
        if is_main:
            writer.append("run_events", [{"run_id": run_id, "event_time": now(), "status": "failed",
                                          "detail": f"{type(e).__name__}: {str(e)[:500]}"}])
            writer.flush()
        raise
    finally:
        grader.close()
    if is_main:
        writer.append("run_events", [{"run_id": run_id, "event_time": now(), "status": "finished", "detail": f"{max(0, trainer.state.global_step)} steps"}])
        writer.flush()
    return run_id


def last_complete_checkpoint(output_dir) -> str | None:
    """The newest checkpoint-N directory that was saved completely, or None.

    The Trainer writes a checkpoint in place and its trainer_state.json last, so a run killed while
    saving leaves a newer checkpoint without one (or with half of one). transformers'
    get_last_checkpoint would pick it, and resuming from it fails every time; the one before it
    is whole (save_total_limit only removes old checkpoints after a new one is complete)."""
    from pathlib import Path

    found = []
    for d in Path(output_dir).glob("checkpoint-*"):
        step = d.name.removeprefix("checkpoint-")
        if not (d.is_dir() and step.isdigit()):
            continue
        try:
            json.loads((d / "trainer_state.json").read_text())
        except (OSError, ValueError):  # absent or cut short: this save did not finish
            continue
        found.append((int(step), str(d)))
    return max(found)[1] if found else None


def _trainer_class():
    """TRL's GRPOTrainer with one hook changed: its sampler follows the epoch on resume.

    TRL's RepeatSampler draws one permutation of the dataset per pass from a generator seeded once,
    when the trainer is made. A run resumed in epoch e therefore replays the FIRST pass's order and
    the Trainer skips the batches already trained in it: that epoch repeats some examples and
    misses others, which breaks "an epoch is one pass over the pool" that every history score
    relies on. The Trainer calls set_epoch(e) at the start of every epoch (resumed or not); here it
    puts the generator where an uninterrupted run has it, after e permutations, so a resumed run
    sees exactly the batches the uninterrupted run would have (and an uninterrupted run is unchanged).
    """
    import torch
    from trl import GRPOTrainer
    from trl.trainer.utils import RepeatSampler

    class EpochRepeatSampler(RepeatSampler):
        def set_epoch(self, epoch: int) -> None:
            if self.shuffle and self.seed is not None:
                self.generator.manual_seed(self.seed)
                for _ in range(epoch):
                    torch.randperm(self.num_samples, generator=self.generator)

    class Trainer(GRPOTrainer):
        def _get_train_sampler(self, dataset=None):
            sampler = super()._get_train_sampler(dataset)
            if type(sampler) is RepeatSampler:  # any other sampler is left as TRL made it
                sampler.__class__ = EpochRepeatSampler
            return sampler

    return Trainer


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()
