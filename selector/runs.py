"""The run definition, with no torch: options, presets, resolved settings, dataset and run id.

A run is described by `TrainConfig` (what to train on, where to record, how long) plus a preset:
a plain dict of GRPOConfig values and our own defaults. Flags override preset values; `--set
KEY=VALUE` overrides any GRPOConfig field; `--print-config` shows the result. `prepare` turns a
TrainConfig into a `PreparedRun` (settings, pool, 1-shot/few-shot copies, steps per epoch, run id)
without loading anything heavy: `select sweep` prepares every planned run to know its id, and
trainer/grpo.py trains a prepared run.

The training options (`TrainOptions`) are defined once and shared by every command that trains:
`select train`, `select rank` (its history run) and `select sweep` (a template that each planned
run refines with `dataclasses.replace`).

Where TRL's defaults differ from verl's (the paper's code), the paper preset sets verl's values:
- entropy: verl adds `-entropy_coeff * entropy` to the loss with entropy_coeff 0.001 (the paper
  writes the coefficient as -0.001); TRL's `entropy_coef` is a bonus with the same sign
  convention (positive = more entropy), so entropy_coef = +0.001. tests/test_grpo.py checks the
  sign: a positive coefficient raises the policy's entropy on a fixed batch.
- KL: verl's "low_var_kl" is the k3 estimator exp(ref-logp) - (ref-logp) - 1 (clamped to
  [-10, 10]) added as a loss with coefficient 0.001 and no importance-ratio correction. TRL
  computes k3 too; its `use_bias_correction_kl` (default True) multiplies by the ratio, so the
  paper preset turns it off. TRL does not clamp the k3 value.
- learning rate 1e-6 constant, no warm-up, weight decay 0.01 (TRL: linear decay, 0.0).
- loss aggregation: verl's token-mean over the mini-batch ~ TRL's "dapo" (token mean over the
  global batch).
- precision: verl keeps fp32 master weights with bf16 compute: TRL's bf16=True with an fp32
  model. Activation (gradient) checkpointing on (as verl's actor). Neither works on CPU: the toy preset is off.
"""

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from typing import ClassVar

from selector.config import StoreOptions, option
from selector.errors import UserError

# The paper's GRPO algorithm (verl's values; see the module docstring), shared by every preset.
PAPER_ALGORITHM: dict = {
    "num_generations": 8,
    "temperature": 0.6,
    "top_p": 1.0,
    "lr_scheduler_type": "constant",
    "warmup_steps": 0,
    "weight_decay": 0.01,
    "max_grad_norm": 1.0,
    "num_iterations": 1,  # one optimizer step per batch: mini-batch = batch
    "epsilon": 0.2,
    "beta": 0.001,
    "use_bias_correction_kl": False,
    # TRL corrects for vLLM's sampling drift with an importance ratio by default; verl's recipe
    # does not (docs/verl-divergences.md); --set vllm_importance_sampling_correction=true restores it.
    "vllm_importance_sampling_correction": False,
    "entropy_coef": 0.001,
    "loss_type": "dapo",
    "scale_rewards": "group",
}

# The paper's run on GPUs: its algorithm, its lengths and schedule, generation with vLLM colocated
# on the training GPUs (verl's hybrid engine does the same). Micro-batches and vLLM's share of
# each GPU differ by hardware: `select plan` (selector/memory.py) says each preset fits its
# stated `gpus` x `gpu_memory`, and that the 8-GPU one does not fit one 80 GB GPU.
PAPER_RUN: dict = {
    **PAPER_ALGORITHM,
    "model": "Qwen/Qwen2.5-Math-1.5B",
    "prompts_per_step": 128,
    "max_prompt_length": 1024,  # longer prompts are dropped, as verl's filter_overlong_prompts
    "history_steps": 500,  # the authors' history file is the history at step 500
    "one_shot_steps": 2000,
    "eval_steps": 20,
    "history_eval_steps": 0,  # a history run exists to rank the pool: no benchmark evaluation
    "eval_benchmarks": "math500,aime24,aime25,amc23,minerva_math,olympiadbench",
    "max_completion_length": 3072,
    "learning_rate": 1e-6,
    # LoRA wants a learning rate ~10x full fine-tuning's ("LoRA Without Regret", Schulman et al.,
    # Thinking Machines 2025, measured it for SFT and RL alike); used when --lora-r is given and
    # no learning rate is (an estimate from their finding, not measured here).
    "lora_learning_rate": 1e-5,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "bf16": True,
    "activation_checkpointing": True,  # transformers 5 name of gradient checkpointing
    "save_steps": 20,
    "use_vllm": True,
    "vllm_mode": "colocate",  # vLLM on the training GPUs (TRL's default, server, needs `trl vllm-serve` elsewhere)
    "vllm_gpu_memory_utilization": 0.3,  # TRL's default share; the planner sizes micro-batches around it
}

# Preset values: keys of GRPOConfig, or of TrainConfig (ours). Plain dicts, looked up by name.
# `gpus` / `gpu_memory`: the hardware the preset is sized for (what `select plan` checks by default).
PRESETS: dict[str, dict] = {
    # The paper's 8 GPUs. Micro-batch 4: at 16 (the first guess) vLLM's share, the DDP gradient
    # buckets and the activations of 16 x 4,096 tokens need ~94 GB (select plan).
    "paper-qwen2.5-math-1.5b": {**PAPER_RUN, "gpus": 8, "gpu_memory": "80GB", "micro_batch_size": 4},
    # One 80 GB GPU: the same run, 1,024 rollouts per step; micro-batch 8 (16 needs ~88 GB).
    "paper-qwen2.5-math-1.5b-1gpu": {**PAPER_RUN, "gpus": 1, "gpu_memory": "80GB", "micro_batch_size": 8},
    # One 40 GB GPU with a rank-32 LoRA adapter (no reference model: peft disables the adapter).
    "paper-qwen2.5-math-1.5b-lora": {**PAPER_RUN, "gpus": 1, "gpu_memory": "40GB", "micro_batch_size": 8, "lora_r": 32,
                                     "learning_rate": 1e-5},
    "toy": {
        **PAPER_ALGORITHM,
        "model": None,  # the embedded toy model, built on first use
        # 32 prompts x 8 rollouts a step for 1-shot runs (32 copies of the example) and baselines.
        "prompts_per_step": 32,
        # A history run takes 30, which divides the 240-example toy pool: an epoch is 8 steps and
        # every example appears in every one, so 20 epochs (160 steps) show each exactly 20 times
        # (issue 17's minimum; the authors' history: 44-57). With 32 an epoch is 7 steps and 16
        # examples sit it out, as in the paper (128 prompts over 1,209: 9 steps, 57 sit out); the
        # same minimum then took 30 epochs (210 steps, 22-30 appearances), and `select rank --pool
        # toy` from nothing (build included) took 9-12 minutes on 2 cores, over issue 17's 10.
        "history_prompts_per_step": 30,
        "micro_batch_size": None,  # all completions of a step at once
        "max_prompt_length": 256,
        "history_epochs": 20,
        "one_shot_steps": 80,
        "eval_steps": 20,
        "history_eval_steps": 0,
        "eval_benchmarks": "toy",
        "max_completion_length": 48,  # the longest toy solution is 42 tokens, then <|im_end|>
        "learning_rate": 3e-5,  # the toy-world notes: 1e-4 damages the model, 1e-5 is slow
        # The history run learns at a third of that. At 3e-5 the toy pool's carry skill is learnt in
        # ~35 steps (pool accuracy 0.55 -> 0.85 in the first 5 epochs, then flat), so the
        # history would show a step, not the paper's gentle rise (the authors' 500-step history:
        # pool mean 0.365 -> 0.476, learning curves across the whole run). Used only by history runs
        # (a pool without --examples), and not where a learning rate is given (flag or --set);
        # full-pool baselines train at the 1-shot rate (selector/sweep.py:run_config).
        "history_learning_rate": 1e-5,
        "bf16": False,
        "activation_checkpointing": False,
        "save_steps": 20,
        # Every core when the machine is otherwise idle, else one thread (trainer/threads.py: a
        # second thread that waits for a busy core makes a step of this tiny model 5-10x slower).
        "torch_threads": "auto",
    },
}

# Overrides every run's torch_threads setting (trainer/threads.py; read by threads_setting).
THREADS_ENV = "RLVR_TORCH_THREADS"

# --report-to: where the run's logs go besides the store (TRL's report_to integrations).
TRACKERS = ("none", "wandb", "trackio", "tensorboard")

# Loss terms that can be switched off (the paper's Table 5 ablations).
TERMS = ("pg", "kl", "entropy")

# GRPOConfig fields the wrapper sets itself (trainer/grpo.py): `--set` refuses them, naming what to
# use instead, rather than crash on a duplicate keyword or silently break the recording.
OWNED = {
    "output_dir": "checkpoints live in <store>/checkpoints/<run_id>; use --store",
    "per_device_train_batch_size": "use --micro-batch-size",
    "gradient_accumulation_steps": "it follows from --prompts-per-step x --num-generations / (--micro-batch-size x processes)",
    "max_steps": "use --max-steps or --epochs",
    "num_train_epochs": "use --epochs or --max-steps",
    "seed": "use --seed",
    "data_seed": "use --seed",
    "use_vllm": "use --use-vllm / --no-use-vllm",
    "use_cpu": "the device follows what is there (and the launcher)",
    "report_to": "use --report-to",
    "logging_steps": "every step is logged into the store",
    "save_strategy": "checkpoints every save_steps steps are what --resume continues from",
    "save_total_limit": "set by the wrapper",
    "disable_tqdm": "the wrapper shows its own progress bar",
    "num_iterations": "one optimizer step per generation batch: the recorder maps a batch to one step",
}


@dataclass
class TrainOptions:
    """How a run trains. `None` means: take the preset's value."""

    GROUP: ClassVar[str] = "training (the same options in train, rank and sweep)"

    preset: str | None = option(None, f"hyper-parameter preset: {', '.join(PRESETS)}; default: toy for the toy pool, "
                                      "else paper-qwen2.5-math-1.5b")
    model: str | None = option(None, "model path or hub id; default: the preset's (the toy model for the toy preset)",
                               metavar="PATH_OR_HUB_ID")
    reward: str = option("outcome", "reward function: outcome (0/1 correct, the paper) or format (1 if an answer is boxed)")
    terms: str = option("pg,kl,entropy", "loss terms to keep, for ablations: any of pg,kl,entropy "
                                         "(pg alone = no KL, no entropy)")
    epochs: float | None = option(None, "passes over the pool (history runs); default: the preset's", metavar="N")
    max_steps: int | None = option(None, "optimizer steps; default: from --epochs for the whole pool, the preset's for "
                                         "--examples", metavar="N")
    prompts_per_step: int | None = option(None, "distinct prompts per optimizer step (each gets --num-generations rollouts)",
                                          metavar="N")
    micro_batch_size: int | None = option(None, "completions per forward/backward on one device (gradient accumulation "
                                                "fills the step)", metavar="N")
    num_generations: int | None = option(None, "rollouts per prompt (the GRPO group)", metavar="N")
    learning_rate: float | None = option(None, "AdamW learning rate", metavar="LR")
    temperature: float | None = option(None, "sampling temperature of the rollouts", metavar="T")
    max_completion_length: int | None = option(None, "max new tokens per rollout", metavar="N")
    beta: float | None = option(None, "KL coefficient (k3, no ratio correction)", metavar="B")
    entropy_coef: float | None = option(None, "entropy bonus coefficient (positive = more entropy)", metavar="C")
    eval_steps: int | None = option(None, "evaluate every N steps (and before the first); 0 = never; default: the "
                                          "preset's (history runs: none)", metavar="N")
    eval_benchmarks: str | None = option(None, "benchmarks to evaluate on during training (comma list)", metavar="LIST")
    eval_limit: int | None = option(None, "evaluate on the first N problems of each benchmark only", metavar="N")
    use_vllm: bool | None = option(None, "generate with vLLM colocated on the training GPUs (the `gpu` extra); "
                                         "default: the preset's (on for the paper presets, off for the toy)")
    lora_r: int | None = option(None, "train a LoRA adapter of this rank instead of all weights (0 = full fine-tuning); "
                                      "default: the preset's; the learning rate then defaults to the preset's "
                                      "lora_learning_rate (10x full fine-tuning's)", metavar="R")
    keep_checkpoints: str = option("eval", "checkpoints to keep: eval (the newest two whole, for --resume, and the weights "
                                           "of every evaluated step, for `select eval`), every:N (weights every N steps), "
                                           "last (the newest two). Disk: the paper model's whole checkpoint is ~18.5 GB, "
                                           "its weights 6.2 GB (fp32): eval keeps 100 x 6.2 GB over a 2,000-step run, "
                                           "every:200 keeps 10", metavar="WHICH")
    skip_memory_check: bool = option(False, "train even if the memory plan (`selector plan`) says the run does not fit")
    report_to: str = option("none", "trackers that get the run's logs besides the store: wandb, trackio, tensorboard "
                                    "(comma list) or none; TRL's metrics, our training accuracy (rlvr/...) and eval "
                                    "accuracies", metavar="LIST")
    set: str | None = option(None, "any GRPOConfig field or preset key, KEY=VALUE[,KEY=VALUE...] "
                                   "(e.g. --set top_k=50,steps_per_generation=4); the fields the wrapper sets itself "
                                   "are refused with the option to use instead", metavar="KV")
    processes: int = option(1, "processes to train with, one per GPU (CPU processes where there is none): N > 1 starts "
                               "the run under `accelerate launch --num_processes N`; under a launcher it is ignored",
                            metavar="N")


@dataclass
class TrainConfig(TrainOptions, StoreOptions):
    """One training run."""

    pool: str = option("toy", "training pool (see `selector pools`)")
    examples: str | None = option(None, "train on these examples only, duplicated to fill each batch: pi names of the "
                                        "stored ranking (pi1,pi13) or example ids; default: the whole pool (a history run)",
                                  metavar="LIST")
    score: str = option("variance", "the ranking that pi names in --examples refer to")
    seed: int = option(0, "seed of the sampler, the initialisation of the toy model and the rollouts")
    run_id: str | None = option(None, "name of the run (default: derived from its settings)")
    resume: bool = option(False, "continue the run with this --run-id (or the same settings) from its last checkpoint")
    print_config: bool = option(False, "print the resolved configuration and exit")


def training_options(cfg) -> dict:
    """The TrainOptions fields of any config that has them (a command's config), as keywords."""
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(TrainOptions)}


def train_args(cfg: TrainConfig) -> list[str]:
    """The `selector train` arguments that reproduce `cfg` (a sweep's commands, a run relaunched
    on several processes): where it records first, `--run-id`/`--resume` last, and every option
    not at its default in between (the pool and seed always, so a command says what it trains)."""
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    first, last = ("store", "data_dir"), ("run_id", "resume")
    args = []
    for name in [*first, *(n for n in defaults if n not in first + last), *last]:
        value = getattr(cfg, name)
        if value is None or (value == defaults[name] and name not in ("pool", "seed")):
            continue
        flag = f"--{name.replace('_', '-')}"
        if isinstance(value, bool):  # a default of None (the preset's) has a --no- form for False
            args.append(flag if value else f"--no-{name.replace('_', '-')}")
        else:
            args += [flag, str(value)]
    return args


def default_preset(pool: str) -> str:
    """The preset a pool trains with when none is given: the toy world's own, else the paper's."""
    return "toy" if pool == "toy" else "paper-qwen2.5-math-1.5b"


def preset(name: str) -> dict:
    """A preset's values, with the keys every run has (vLLM off, no LoRA) where it is silent."""
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return {"use_vllm": False, "lora_r": 0, **PRESETS[name]}


def _parse_value(text: str):
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def resolve_settings(cfg: TrainConfig, grpo_fields: set[str] | None = None) -> dict:
    """The run's settings: the preset, overridden by flags, then by --set. Checked here.

    `grpo_fields`: GRPOConfig's field names (trainer/grpo.py knows them); `--set` keys must be one
    of them or a preset key. Without them (planning a sweep where TRL is not installed) a key is
    only checked for its form, and the run itself checks it when it starts."""
    from selector.rewards import get_reward

    values = preset(cfg.preset or default_preset(cfg.pool))
    given = set()  # the settings the user gave (flags and --set), which win over every kind's default
    for f in dataclasses.fields(TrainOptions):
        v = getattr(cfg, f.name)
        if f.name in values and v is not None and f.name != "model":
            values[f.name] = v
            given.add(f.name)
    if cfg.model:
        values["model"] = cfg.model
    if cfg.set:
        settable = None if grpo_fields is None else set(grpo_fields) | set(values)  # TRL's fields and the preset's keys
        for item in cfg.set.split(","):
            key, eq, raw = item.partition("=")
            key = key.strip()
            if key in OWNED:
                raise UserError(f"--set {key}: the wrapper sets {key} itself; {OWNED[key]}")
            if not eq or not key.isidentifier() or (settable is not None and key not in settable):
                raise UserError(f"--set {item!r}: expected KEY=VALUE with KEY a GRPOConfig field or a preset key (e.g. top_k=50)")
            values[key] = _parse_value(raw.strip())
            given.add(key)
    # A learning rate or batch the user gives applies to history runs too (unless the history's own
    # is given as well): prepare() uses history_* only where set.
    for key in ("learning_rate", "prompts_per_step"):
        if key in given and f"history_{key}" not in given:
            values[f"history_{key}"] = None
    if values["lora_r"] and "learning_rate" not in given:
        values["learning_rate"] = values.get("lora_learning_rate", float(f"{10 * values['learning_rate']:.6g}"))
    if not isinstance(values["lora_r"], int) or values["lora_r"] < 0:
        raise UserError(f"--lora-r must be an integer >= 0, got {values['lora_r']!r}")
    trackers = [t.strip() for t in cfg.report_to.split(",") if t.strip()]
    if not trackers or not set(trackers) <= set(TRACKERS) or ("none" in trackers and len(trackers) > 1):
        raise UserError(f"--report-to {cfg.report_to!r}: none, or a comma list of {', '.join(TRACKERS[1:])}")
    keep = cfg.keep_checkpoints
    if keep not in ("eval", "last") and not (keep.startswith("every:") and keep[6:].isdigit() and int(keep[6:]) > 0):
        raise UserError(f"--keep-checkpoints {keep!r}: eval, last or every:N (N >= 1)")
    get_reward(cfg.reward)  # an unknown name fails here, before a run is recorded (not at its first step)
    terms = {t.strip() for t in cfg.terms.split(",") if t.strip()}
    if not terms <= set(TERMS) or "pg" not in terms:
        raise UserError(f"--terms {cfg.terms!r}: a comma list of {', '.join(TERMS)} that includes pg")
    if "kl" not in terms:
        values["beta"] = 0.0
    if "entropy" not in terms:
        values["entropy_coef"] = 0.0
    for key in ("prompts_per_step", "num_generations", "history_prompts_per_step"):
        if key == "history_prompts_per_step" and values.get(key) is None:
            continue
        if not isinstance(values.get(key), int) or values[key] < 1:
            raise UserError(f"--{key.replace('_', '-')} must be a positive integer, got {values.get(key)!r}")
    if values["num_generations"] < 2:
        raise UserError("--num-generations must be >= 2: GRPO normalises rewards within each group")
    if values.get("num_iterations", 1) != 1:
        raise UserError("num_iterations other than 1 is not supported: the recorder maps one generation batch to one step")
    if not isinstance(cfg.processes, int) or cfg.processes < 1:
        raise UserError(f"--processes must be a positive integer, got {cfg.processes!r}")
    threads_setting(values.get("torch_threads"), "--set torch_threads")
    threads_setting(os.environ.get(THREADS_ENV), THREADS_ENV)  # read again when the run starts
    return values


def threads_setting(value, where: str = THREADS_ENV):
    """A torch_threads setting as trainer/threads.py reads it: None, blank or 0 (torch's default),
    "auto", or a whole number of threads >= 1; anything else fails in one line naming `where`."""
    text = "" if value is None else str(value).strip()
    if text in ("", "auto"):
        return text or None
    if isinstance(value, bool) or not text.isdigit():
        raise UserError(f"{where}={value!r}: expected auto, 0 (torch's default) or a whole number of threads >= 1")
    return int(text) or None


def build_rows(pool, example_ids: list[str] | None, prompts_per_step: int) -> list[dict]:
    """The training dataset: the whole pool (less the golds that cannot be graded), or the chosen
    examples copied to fill one step, as the paper's π files do (128 copies of π1; 2-shot: 64 + 64),
    each copy its own GRPO group."""
    def row(ex):
        return {"prompt": list(ex.prompt), "answer": ex.answer, "example_id": ex.id}

    if example_ids is None:
        return [row(ex) for ex in pool.examples if ex.id not in pool.bad_golds]
    if prompts_per_step % len(example_ids):
        raise UserError(f"{len(example_ids)} examples cannot split {prompts_per_step} prompts per step evenly; "
                        "pick a number of examples that divides --prompts-per-step")
    copies = prompts_per_step // len(example_ids)
    return [row(pool.get(ex_id)) for ex_id in example_ids for _ in range(copies)]


def run_id_for(kind: str, pool_name: str, example_ids, values: dict, cfg: TrainConfig) -> str:
    """Same kind, pool, examples, settings, seed, reward and LoRA rank -> the same id, so the same
    command finds its run again (to skip it when finished, or to --resume it)."""
    from selector.paths import slug

    # How many CPU threads a run uses changes its speed, not its results: not part of the id. Nor
    # are the per-kind defaults (history_*, one_shot_steps): prepare() has resolved them into the
    # run's own max_steps, learning_rate, eval_steps and prompts_per_step, so a change to the
    # history recipe leaves the ids of 1-shot runs (and the runs a store holds) as they were.
    values = {k: v for k, v in values.items()
              if k != "torch_threads" and k != "one_shot_steps" and not k.startswith("history_")}
    key = json.dumps({"kind": kind, "pool": pool_name, "examples": example_ids, "values": values, "seed": cfg.seed,
                      "reward": cfg.reward, "lora_r": values.get("lora_r") or 0}, sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    what = "" if example_ids is None else "-" + "+".join(example_ids)[:40]
    return f"{kind}-{slug(pool_name, 24)}{what}-s{cfg.seed}-{digest}"


@dataclass
class PreparedRun:
    """A run before any heavy work: everything that decides its id (no torch needed)."""

    cfg: TrainConfig
    values: dict  # the resolved settings, max_steps and eval_steps final
    pool: object
    store: object
    example_ids: list[str] | None  # None: the whole pool (a history run)
    kind: str  # history | one_shot | few_shot
    rows: list[dict]  # the training dataset
    steps_per_epoch: int
    run_id: str

    def config_record(self, model_path: str) -> dict:
        """The resolved configuration as stored in the run's `runs` row."""
        c = self.cfg
        return {**self.values, "examples": self.example_ids, "seed": c.seed, "reward": c.reward, "terms": c.terms,
                "model_path": model_path, "steps_per_epoch": self.steps_per_epoch,
                "pool_source": self.pool.source}


def prepare(cfg: TrainConfig, pool=None, store=None, grpo_fields: set[str] | None = None) -> PreparedRun:
    """Resolve a run's settings, dataset and id; loads nothing heavy and trains nothing.

    `select sweep` calls this for every planned run to know its id (and so whether it is done)."""
    from selector.paths import store_dir
    from selector.pools import load_pool
    from selector.ranking import resolve_examples
    from selector.store import Store

    values = resolve_settings(cfg, grpo_fields)
    pool = pool or load_pool(cfg.pool, cfg.data_dir)
    store = store or Store.open(store_dir(cfg.store), create=True)
    example_ids = resolve_examples(store, pool, cfg.examples, cfg.score) if cfg.examples else None
    kind = "history" if example_ids is None else ("one_shot" if len(example_ids) == 1 else "few_shot")

    if example_ids is None and values.get("history_prompts_per_step"):
        values["prompts_per_step"] = values["history_prompts_per_step"]  # the toy preset's (see PRESETS)
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
    if example_ids is None and values.get("history_learning_rate"):
        values["learning_rate"] = values["history_learning_rate"]
    if values.get("eval_steps") and values.get("eval_benchmarks"):
        from selector.benchmarks import parse_names

        values["eval_benchmarks"] = ",".join(parse_names(values["eval_benchmarks"]))  # unknown names fail here
    run_id = cfg.run_id or run_id_for(kind, pool.name, example_ids, values, cfg)
    return PreparedRun(cfg, values, pool, store, example_ids, kind, rows, steps_per_epoch, run_id)
