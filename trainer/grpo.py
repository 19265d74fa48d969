"""GRPO runs: TRL's GRPOTrainer, composed (never forked) with recording, evaluation and a
progress bar; the runs of the paper (a history run over the whole pool, 1-shot and few-shot
runs on chosen examples) are the same function with a different dataset. What a run is (its
settings, dataset and id) is decided with no torch in selector/runs.py; this module trains it.

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
prompts (128 in the paper; 2-shot = 64 + 64), each copy its own GRPO group (runs.build_rows).
"""

import json
import os
import sys

from selector.errors import UserError
from selector.runs import PreparedRun, TrainConfig, prepare, resolve_settings
from trainer.model import model_path


def grpo_fields() -> set[str]:
    """The names of TRL's GRPOConfig fields (what `--set KEY=VALUE` may set besides preset keys)."""
    import dataclasses

    from trl import GRPOConfig

    return {f.name for f in dataclasses.fields(GRPOConfig)}


def train(cfg: TrainConfig, callbacks: tuple = ()) -> str | None:
    """Run (or resume) one GRPO run; returns its run id. `callbacks`: extra TrainerCallbacks.

    A finished run is not trained again. `--resume` continues an interrupted run from its last
    checkpoint, and starts it when it does not exist yet (so a sweep task can always pass it)."""
    from selector.store import FINISHED, RunLog

    _quiet_transformers()
    if cfg.print_config:
        print(json.dumps(resolve_settings(cfg, grpo_fields()), indent=1, default=str))
        return None
    p = prepare(cfg, grpo_fields=grpo_fields())
    store = p.store
    existing = store.run(p.run_id)
    if existing is not None and existing["status"] == FINISHED:
        print(f"run {p.run_id} already finished; nothing to do (pass --run-id NEW to train again)", file=sys.stderr)
        return p.run_id
    if existing is not None and not cfg.resume:
        raise UserError(f"run {p.run_id} exists with status {existing['status']!r}; pass --resume to continue it from its "
                        "last checkpoint")
    if existing is None and cfg.resume:
        print(f"run {p.run_id} is not in store {store.root} yet; starting it", file=sys.stderr)
    path = model_path(p.values["model"])  # a model that cannot be loaded fails before the run is recorded
    log = RunLog(store, p.run_id, main=int(os.environ.get("RANK", "0")) == 0)
    attempt = 0 if existing is None else log.next_attempt()
    create = None if existing is not None else dict(kind=p.kind, pool=p.pool.name, model=str(p.values["model"] or path),
                                                     config=p.config_record(path), grader_version=_grader_version())
    return _run(p, path, log, attempt, create, callbacks)


def _run(p: PreparedRun, path: str, log, attempt: int, create: dict | None, callbacks: tuple) -> str:
    """Train a prepared run: tokenizer and dataset, evaluation jobs, TRL's config, the run's
    lifecycle in the store, the trainer and its callbacks; then train."""
    from selector.grader import Grader
    from trainer.progress import ProgressCallback
    from trainer.recorder import Recorder

    from trainer import threads

    threads.apply(p.values.get("torch_threads"))  # the toy preset: "auto" (trainer/threads.py)
    tokenizer = _tokenizer(path)
    rows = _drop_long_prompts(p.rows, tokenizer, p.values["max_prompt_length"])
    evals = _eval_jobs(p)
    output_dir = p.store.root / "checkpoints" / p.run_id
    args = _grpo_args(p, output_dir)
    log.start(attempt, create=create)
    grader = Grader(timeout_s=5.0).start()  # workers load sympy while the model loads
    recorder = Recorder(log.writer, p.run_id, attempt, p.steps_per_epoch, p.values["num_generations"], _grader_version())
    progress = ProgressCallback(recorder, f"{p.kind} {p.run_id}")
    try:
        trainer = _trainer(p, path, rows, tokenizer, args, grader, recorder)
        _add_callbacks(trainer, p, recorder, progress, evals, tokenizer, grader, log.writer, attempt, callbacks)
        trainer.train(resume_from_checkpoint=last_complete_checkpoint(output_dir) if p.cfg.resume else None)
    except BaseException as e:
        recorder.flush()
        log.fail(e)
        raise
    finally:
        grader.close()
    log.finish(f"{max(0, trainer.state.global_step)} steps")
    return p.run_id


def _quiet_transformers() -> None:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import warnings

    import transformers

    transformers.utils.logging.disable_progress_bar()  # weight-loading bars would bury ours
    # transformers 5 renamed gradient checkpointing; TRL 1.16 still calls the old names (noise only).
    warnings.filterwarnings("ignore", message=r"`(is_)?gradient_checkpointing.*` is deprecated", category=FutureWarning)


def _grader_version() -> str:
    from selector.grader import GRADER_VERSION

    return GRADER_VERSION


def _tokenizer(path: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _drop_long_prompts(rows: list[dict], tokenizer, limit: int) -> list[dict]:
    kept = [r for r in rows if len(tokenizer.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=True)) <= limit]
    if len(kept) < len(rows):
        print(f"dropped {len(rows) - len(kept)} prompts longer than {limit} tokens (as verl's filter_overlong_prompts)", file=sys.stderr)
    if not kept:
        raise UserError(f"every prompt is longer than max_prompt_length={limit} tokens")
    return kept


def _eval_jobs(p: PreparedRun) -> dict:
    """Benchmark name -> (rows, sampling): the paper's protocol per benchmark, at the run's response
    length (the paper: 3,072 for both). Empty when the run does not evaluate."""
    from selector.benchmarks import eval_jobs

    if not (p.values.get("eval_steps") and p.values.get("eval_benchmarks")):
        return {}
    jobs = eval_jobs(p.values["eval_benchmarks"].split(","), p.cfg.data_dir, p.cfg.eval_limit, "paper",
                     max_new_tokens=p.values["max_completion_length"])
    return {name: (rows, sampling) for name, rows, sampling in jobs}


def _grpo_args(p: PreparedRun, output_dir):
    """TRL's GRPOConfig: the preset's GRPOConfig keys, the step split into micro-batches over the
    processes (gradient accumulation fills the step: one optimizer step per generation batch)."""
    from trl import GRPOConfig

    values = p.values
    completions = values["prompts_per_step"] * values["num_generations"]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    micro = values["micro_batch_size"] or completions // world
    if completions % (micro * world):
        raise UserError(f"{completions} completions per step do not split into micro-batches of {micro} on {world} process(es)")
    fields = grpo_fields()
    return GRPOConfig(
        output_dir=str(output_dir), per_device_train_batch_size=micro, gradient_accumulation_steps=completions // (micro * world),
        seed=p.cfg.seed, data_seed=p.cfg.seed, report_to=[], logging_steps=1, save_strategy="steps", save_total_limit=2,
        disable_tqdm=True, use_vllm=p.cfg.use_vllm, use_cpu=not _has_cuda(),
        **{k: v for k, v in values.items() if k in fields and k not in ("seed",)},
    )


def _trainer(p: PreparedRun, path: str, rows: list[dict], tokenizer, args, grader, recorder):
    """Our GRPOTrainer (the sampler fix below) over the run's dataset, with the grader as reward."""
    from datasets import Dataset

    from selector.rewards import RecordingReward

    peft_config = None
    if p.cfg.lora_r:
        from peft import LoraConfig

        peft_config = LoraConfig(r=p.cfg.lora_r, lora_alpha=2 * p.cfg.lora_r, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = _trainer_class()(model=path, reward_funcs=[RecordingReward(p.cfg.reward, grader, recorder)], args=args,
                               train_dataset=Dataset.from_list(rows), processing_class=tokenizer, peft_config=peft_config)
    recorder.accelerator = trainer.accelerator
    return trainer


def _add_callbacks(trainer, p: PreparedRun, recorder, progress, evals: dict, tokenizer, grader, writer, attempt: int,
                   callbacks: tuple) -> None:
    """Ours instead of the Trainer's printer and bar: recording, evaluation, our progress bar."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback as HFProgress

    from selector.grader import GRADER_VERSION
    from trainer.evaluate import EvalCallback
    from trainer.recorder import RecorderCallback

    for cb in (PrinterCallback, HFProgress):
        trainer.remove_callback(cb)
    trainer.add_callback(RecorderCallback(recorder))
    if evals:
        trainer.add_callback(EvalCallback(evals, tokenizer, grader, writer, p.run_id, attempt, p.values["eval_steps"],
                                          p.cfg.seed, GRADER_VERSION, progress))
    trainer.add_callback(progress)
    for cb in callbacks:
        trainer.add_callback(cb)


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
