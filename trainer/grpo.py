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
import shlex
import sys
from contextlib import contextmanager

from selector.errors import UserError
from selector.runs import PreparedRun, TrainConfig, prepare, resolve_settings
from trainer.checkpoints import last_complete_checkpoint
from trainer.model import model_path


def grpo_fields() -> set[str]:
    """The names of TRL's GRPOConfig fields (what `--set KEY=VALUE` may set besides preset keys)."""
    import dataclasses

    from trl import GRPOConfig

    return {f.name for f in dataclasses.fields(GRPOConfig)}


def train(cfg: TrainConfig, callbacks: tuple = ()) -> str | None:
    """Run (or resume) one GRPO run; returns its run id. `callbacks`: extra TrainerCallbacks.

    A finished run is not trained again. `--resume` continues an interrupted run from its last
    checkpoint, and starts it when it does not exist yet (so a sweep task can always pass it).

    Under a launcher (`accelerate launch`, `--processes N`, the sbatch a sweep writes) every
    process calls this. The main process decides, before anything is written, whether the run
    starts, which attempt it is, and takes the run's lease (one writer per run:
    selector/store/lease.py); the others wait for its word, so all of them agree."""
    from selector.store import RunLog

    _quiet_transformers()
    if cfg.print_config:
        print(json.dumps(resolve_settings(cfg, grpo_fields()), indent=1, default=str))
        return None
    _refuse_data_parallel()
    p = prepare(cfg, grpo_fields=grpo_fields())
    if p.values["use_vllm"]:
        _require_vllm()
    process, processes = _process()
    lease, decision = None, None
    if process == 0:
        try:
            decision, lease = _decide(p)
        except UserError as e:
            decision = {"error": str(e)}
    decision = _broadcast(decision, processes)
    if "error" in decision:
        raise UserError(decision["error"])
    if decision.get("done"):
        if process == 0:
            print(decision["done"], file=sys.stderr)
        return p.run_id
    log = RunLog(p.store, p.run_id, process=process, processes=processes)
    try:
        with _terminate_as_interrupt():
            return _run(p, decision["path"], log, decision["attempt"], decision["create"], callbacks)
    finally:
        if lease is not None:
            lease.release()


def _decide(p: PreparedRun):
    """The main process's decision about a prepared run: ({"done": message} for a finished run, or
    {"path", "attempt", "create"} to train it), with the run's lease taken; UserError if it must
    not start (exists without --resume, a live attempt holds it, the model cannot be loaded)."""
    from selector.store import FINISHED, RunLog
    from selector.store.lease import Lease

    store, run_id = p.store, p.run_id
    existing = store.run(run_id)
    if existing is not None and existing["status"] == FINISHED:
        return {"done": f"run {run_id} already finished; nothing to do (pass --run-id NEW to train again)"}, None
    if existing is not None and not p.cfg.resume:
        raise UserError(f"run {run_id} exists with status {existing['status']!r}; pass --resume to continue it from its "
                        "last checkpoint")
    if existing is None and p.cfg.resume:
        print(f"run {run_id} is not in store {store.root} yet; starting it", file=sys.stderr)
    path = model_path(p.values["model"])  # a model that cannot be loaded fails before the run is recorded
    attempt = 0 if existing is None else RunLog(store, run_id).next_attempt()
    processes = _process()[1]
    micro, accumulation = geometry(p.values, processes)
    if not p.cfg.skip_memory_check:
        _check_memory(p, path, processes)
    record = {**p.config_record(path), "geometry": {"processes": processes, "micro_batch_size": micro,
                                                     "gradient_accumulation_steps": accumulation}}
    create = None if existing is not None else dict(kind=p.kind, pool=p.pool.name, model=str(p.values["model"] or path),
                                                     config=record, grader_version=_grader_version())
    lease = Lease.acquire(store.root, run_id, attempt)  # last: nothing below can fail and leave it held
    if lease.note:
        print(f"note: {lease.note}", file=sys.stderr)
    return {"path": path, "attempt": attempt, "create": create}, lease


def _require_vllm() -> None:
    """A run that generates with vLLM fails here, in one line, not after minutes of loading."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        raise UserError("this run generates with vLLM (the preset's use_vllm, or --use-vllm), which is not installed: "
                        "pip install -e '.[gpu]' on a machine with a GPU, or pass --no-use-vllm")


def _check_memory(p: PreparedRun, path: str, processes: int) -> None:
    """On GPUs: refuse a run the memory plan says cannot fit (`selector plan` prints the parts),
    with the smallest changes that make it fit, before minutes of loading end in an OOM."""
    import torch

    if not torch.cuda.is_available():
        return
    from selector.memory import GB, load_model_config, plan

    memory = torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory
    result = plan(load_model_config(path), p.values, processes, memory)
    if result.fits:
        return
    fixes = "; ".join(result.advice[:3]) or "no single change makes it fit (see `selector plan`)"
    raise UserError(f"the run needs ~{result.total / GB:.0f} GB per GPU ({result.peak_phase} peak) and the GPU has "
                    f"{memory / GB:.0f} GB on {processes} process(es): {fixes}; `selector plan` shows every part "
                    "(--skip-memory-check trains anyway)")


def _process() -> tuple[int, int]:
    """(this process's index, how many processes run the attempt), as the launcher set them."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def _broadcast(obj, processes: int):
    """The main process's `obj` on every process (joins the launcher's process group first)."""
    if processes == 1:
        return obj
    import torch.distributed as dist
    from accelerate import PartialState

    PartialState()  # joins the launcher's process group, which the trainer's Accelerator reuses afterwards
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a launcher stopping the job because another process failed, SLURM's scancel,
    `kill`): raised like Ctrl-C so that the attempt ends as `interrupted`, with its rows flushed."""


@contextmanager
def _terminate_as_interrupt():
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):
        raise _Terminated(f"terminated by signal {signum}")

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _refuse_data_parallel() -> None:
    """Several GPUs visible and no launcher: TRL's Trainer would wrap the model in DataParallel
    (single process, every GPU), which GRPO's generation does not support; it fails after the run
    is recorded. Say in one line how to start it instead."""
    if "WORLD_SIZE" in os.environ:
        return
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus <= 1:
        return
    args = " ".join(shlex.quote(a) for a in sys.argv[1:]) if _from_cli() else "train ..."
    raise UserError(f"{gpus} GPUs are visible and no launcher started this run (TRL would use DataParallel); train on all "
                    f"of them with `accelerate launch --num_processes {gpus} -m selector {args}` (or add --processes {gpus}), "
                    "or on one with CUDA_VISIBLE_DEVICES=0")


def _from_cli() -> bool:
    name = os.path.basename(sys.argv[0]) if sys.argv else ""
    return name in ("select", "selector", "__main__.py")


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
    resume_from = last_complete_checkpoint(output_dir) if p.cfg.resume else None
    if p.cfg.resume and create is None and resume_from is None and log.main:
        print(f"run {p.run_id} has no complete checkpoint yet: attempt {attempt} starts again from step 0 (the steps "
              "earlier attempts recorded stay in rollouts_all; every view reads this attempt's)", file=sys.stderr)
    log.start(attempt, create=create)
    grader = Grader(timeout_s=5.0).start()  # workers load sympy while the model loads
    recorder = Recorder(log.writer, p.run_id, attempt, p.steps_per_epoch, p.values["num_generations"], _grader_version())
    progress = ProgressCallback(recorder, f"{p.kind} {p.run_id}")
    try:
        trainer = _trainer(p, path, rows, tokenizer, args, grader, recorder)
        _add_callbacks(trainer, p, recorder, progress, evals, tokenizer, grader, log.writer, attempt, callbacks)
        trainer.train(resume_from_checkpoint=resume_from)
    except BaseException as e:
        recorder.flush(local=True)  # not a collective: the other processes are elsewhere (or gone)
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
    transformers.utils.logging.get_logger("transformers.trainer").addFilter(_tied_head_filter)
    # transformers 5 renamed gradient checkpointing; TRL 1.16 still calls the old names (noise only).
    warnings.filterwarnings("ignore", message=r"`(is_)?gradient_checkpointing.*` is deprecated", category=FutureWarning)


def _tied_head_filter(record) -> bool:
    """Drop the Trainer's "missing keys in the checkpoint: ['lm_head.weight']" on resume: a model
    with tied embeddings (the toy model, Qwen2.5-Math-1.5B) saves the shared matrix once, under
    the embeddings, and re-ties lm_head to it when it loads; the weight is not missing. Any other
    missing key still shows."""
    msg = record.getMessage()
    return not ("missing keys" in msg and "lm_head.weight" in msg and msg.count("'") <= 2)


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
    """Drop prompts longer than `limit` tokens as rendered for the model (verl's
    filter_overlong_prompts). The ids are read from the returned mapping: transformers 5's
    apply_chat_template(tokenize=True) returns a BatchEncoding, whose len() is its number of keys."""
    def length(prompt) -> int:
        return len(tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                                 return_dict=True)["input_ids"])

    kept = [r for r in rows if length(r["prompt"]) <= limit]
    if len(kept) < len(rows) and _process()[0] == 0:
        print(f"dropped {len(rows) - len(kept)} of {len(rows)} prompts longer than {limit} tokens "
              "(as verl's filter_overlong_prompts)", file=sys.stderr)
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


def geometry(values: dict, processes: int) -> tuple[int, int]:
    """(completions per micro-batch on one process, micro-batches per process per step): a step's
    prompts_per_step x num_generations completions split over the processes, so that the
    gradient accumulation of every process together makes one optimizer step (the paper: 128 x 8
    = 1,024 at micro-batch 16 on 8 GPUs, 8 micro-batches each)."""
    completions = values["prompts_per_step"] * values["num_generations"]
    micro = values["micro_batch_size"] or completions // processes
    if micro < 1 or completions % (micro * processes):
        raise UserError(f"{completions} completions per step do not split into micro-batches of {micro} on {processes} "
                        "process(es); pick --micro-batch-size so that micro-batch x processes divides "
                        "--prompts-per-step x --num-generations")
    return micro, completions // (micro * processes)


def _grpo_args(p: PreparedRun, output_dir):
    """TRL's GRPOConfig: the preset's GRPOConfig keys (and --set), the step split into
    micro-batches over the processes (gradient accumulation fills the step: one optimizer step per
    generation batch), and the fields the wrapper owns (selector.runs.OWNED refuses them in --set)."""
    from trl import GRPOConfig

    values = p.values
    world = _process()[1]
    micro, accumulation = geometry(values, world)
    chunk = values.get("generation_batch_size")
    per_generation = chunk // (micro * world) if chunk else values.get("steps_per_generation")
    if per_generation and (chunk and chunk % (micro * world) or accumulation % per_generation):
        raise UserError(f"steps_per_generation / generation_batch_size must split the step's {accumulation} micro-batches "
                        f"per process (of {micro} completions on {world} process(es)) evenly: a generation batch may not "
                        "span two optimizer steps, or the recorder could not tell which step its rollouts belong to")
    fields = grpo_fields()
    # Every parameter takes part in every forward (LoRA: every adapter), so DDP need not search the
    # graph for unused ones after each backward (the Trainer's default does); --set may change it.
    defaults = {"ddp_find_unused_parameters": False}
    chosen = {k: v for k, v in values.items() if k in fields}
    return GRPOConfig(**{**defaults, **chosen, **owned_args(p, output_dir, micro, accumulation)})


def owned_args(p: PreparedRun, output_dir, micro: int, accumulation: int) -> dict:
    """The GRPOConfig fields the wrapper sets itself, whatever the preset or --set say."""
    return dict(output_dir=str(output_dir), per_device_train_batch_size=micro, gradient_accumulation_steps=accumulation,
                max_steps=p.values["max_steps"], seed=p.cfg.seed, data_seed=p.cfg.seed,
                report_to=[] if p.cfg.report_to == "none" else p.cfg.report_to.split(","), logging_steps=1,
                save_strategy="steps", save_total_limit=None, disable_tqdm=True, use_vllm=p.values["use_vllm"],
                use_cpu=not _has_cuda())


def _trainer(p: PreparedRun, path: str, rows: list[dict], tokenizer, args, grader, recorder):
    """Our GRPOTrainer (the sampler fix below) over the run's dataset, with the grader as reward."""
    from datasets import Dataset

    from selector.rewards import RecordingReward

    peft_config = None
    rank = p.values["lora_r"]
    if rank:
        from peft import LoraConfig

        peft_config = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = _trainer_class(p.values["prompts_per_step"], p.steps_per_epoch)(
        model=path, reward_funcs=[RecordingReward(p.cfg.reward, grader, recorder)], args=args,
        train_dataset=Dataset.from_list(rows), processing_class=tokenizer, peft_config=peft_config)
    recorder.accelerator = trainer.accelerator
    trainer.recorder = recorder
    if p.values["use_vllm"]:
        # TRL seeds every process (set_seed(seed, device_specific=True)) and then starts vLLM with
        # LLM(seed=process index), which reseeds the process's global RNG, the one vLLM samples
        # from: every --seed would draw the same rollouts. Seeding again after vLLM is up puts
        # back the run's seed (per process, as TRL meant). TRL 1.16, trl/generation/vllm_generation.py.
        from accelerate.utils import set_seed

        set_seed(p.cfg.seed, device_specific=True)
    return trainer


def _add_callbacks(trainer, p: PreparedRun, recorder, progress, evals: dict, tokenizer, grader, writer, attempt: int,
                   callbacks: tuple) -> None:
    """Ours instead of the Trainer's printer and bar: recording, evaluation, our progress bar."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback as HFProgress

    from selector.grader import GRADER_VERSION
    from trainer.evaluate import EvalCallback
    from trainer.checkpoints import CheckpointKeeper
    from trainer.recorder import RecorderCallback

    for cb in (PrinterCallback, HFProgress):
        trainer.remove_callback(cb)
    trainer.add_callback(RecorderCallback(recorder))
    trainer.add_callback(CheckpointKeeper(p.cfg.keep_checkpoints, p.values.get("eval_steps") if evals else 0))
    if evals:
        evaluation = EvalCallback(evals, tokenizer, grader, writer, p.run_id, attempt, p.values["eval_steps"], p.cfg.seed,
                                  GRADER_VERSION, progress, accelerator=trainer.accelerator)
        evaluation.trainer = trainer
        trainer.add_callback(evaluation)
    trainer.add_callback(progress)
    for cb in callbacks:
        trainer.add_callback(cb)


def _trainer_class(step_prompts: int | None = None, steps_per_epoch: int = 1):
    """TRL's GRPOTrainer with one hook changed: its sampler draws each epoch's permutation from the
    epoch the run is in, and a pass over the dataset is whole optimizer steps.

    TRL's RepeatSampler draws one permutation of the dataset per pass from a generator seeded once,
    when the trainer is made. A run resumed in epoch e would therefore replay the FIRST pass's
    order while the Trainer skips the batches already trained in it: that epoch repeats some
    examples and misses others, which breaks "an epoch is one pass over the pool" that every
    history score relies on. The Trainer's set_epoch does not reach the sampler on every path
    (resumed mid-epoch under several processes, the sampler sits three wrappers deep:
    SkipBatchSampler > BatchSamplerShard > BatchSampler, and accelerate looks two deep), so the
    sampler asks the trainer which epoch it is in when a pass starts (global step // steps per
    epoch, the Trainer's own arithmetic) and, if its generator is not there, puts it where an
    uninterrupted run has it: after e permutations. An uninterrupted run is unchanged.

    The sampler drops the last partial *generation batch* of a pass. When generation comes in
    chunks smaller than a step (steps_per_generation below the gradient accumulation), a pass
    would end inside an optimizer step, which the Trainer then closes short with the next pass's
    prompts. Cutting each pass to whole steps (`step_prompts` prompts, as the authors' loader
    drops the last partial batch) keeps one step inside one epoch; when generation batches are
    whole steps (the default) the cut is the one TRL makes already.
    """
    import itertools

    import torch
    from trl import GRPOTrainer
    from trl.trainer.utils import RepeatSampler

    class EpochRepeatSampler(RepeatSampler):
        trainer = None  # set by the trainer that made it
        next_epoch = 0  # the epoch whose permutation the generator draws next

        def set_epoch(self, epoch: int) -> None:
            self._position(epoch)

        def _position(self, epoch: int) -> None:
            if self.shuffle and self.seed is not None and epoch != self.next_epoch:
                self.generator.manual_seed(self.seed)
                for _ in range(epoch):
                    torch.randperm(self.num_samples, generator=self.generator)
            self.next_epoch = epoch

        def _kept(self) -> int:
            """Indices yielded per pass: whole optimizer steps of whole generation batches."""
            per_step = max(1, (step_prompts or self.batch_size) // self.batch_size)  # generation batches per step
            batches = self.num_samples // self.batch_size // per_step * per_step
            return batches * self.batch_size * self.mini_repeat_count * self.repeat_count

        def __iter__(self):
            if self.trainer is not None:
                self._position(self.trainer.state.global_step // max(1, steps_per_epoch))
            self.next_epoch += 1  # this pass draws its permutation now
            return itertools.islice(super().__iter__(), self._kept())

        def __len__(self) -> int:
            return self._kept()

    class Trainer(GRPOTrainer):
        recorder = None  # the run's recorder: its per-step accuracies join every log

        def log(self, logs: dict, start_time: float | None = None) -> None:
            # A training step's log: not an evaluation's, nor the end-of-training summary (train_runtime, ...).
            if self.recorder is not None and not any(k.startswith(("eval", "train_")) for k in logs):
                logs = {**logs, **self.recorder.log_values()}
            super().log(logs, start_time)

        def _get_train_sampler(self, dataset=None):
            sampler = super()._get_train_sampler(dataset)
            if type(sampler) is RepeatSampler:  # any other sampler is left as TRL made it
                sampler.__class__ = EpochRepeatSampler
                sampler.trainer = self
            return sampler

    return Trainer


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()
