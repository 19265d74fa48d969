"""`select plan`: will a run fit the GPUs? The bytes per GPU of each part, from config.json alone.

    selector plan                                                   # the paper preset on its 8 x 80 GB
    selector plan --preset paper-qwen2.5-math-1.5b --gpus 1 --gpu-memory 80GB --no-use-vllm
    selector plan --preset paper-qwen2.5-math-1.5b-1gpu             # one 80 GB GPU, vLLM colocated
    selector plan --preset paper-qwen2.5-math-1.5b-lora --json      # one 40 GB GPU, LoRA rank 32
    selector plan --model DIR --preset paper-qwen2.5-math-1.5b --micro-batch-size 8 --set steps_per_generation=8

Reads the model's config.json (a local directory, or only config.json of a hub id; no weights)
and the run's settings (the preset, overridden by the same options as `select train`), and
prints per GPU: weights, gradients, AdamW states, the reference model, activations and the LM
head's work at the micro-batch, the generation KV cache and working memory, vLLM's share in
colocate mode, the DDP buckets and a fixed overhead, grouped by the phase they belong to
(generation and training never overlap), the peak, whether it fits, and if not the smallest
changes that make it fit (each planned again). Plain DDP is assumed (a replica per GPU). Exact
parts are checked against real tensors in tests; the others are estimates (selector/memory.py).
`select train` runs the same check on GPUs before it loads anything (--skip-memory-check).
"""

from dataclasses import dataclass

from selector.cli.arguments import add_command
from selector.config import option
from selector.runs import TrainOptions

HELP = "will a run fit the GPUs? bytes per GPU of weights, optimizer, activations, KV cache, vLLM (config.json only)"


@dataclass
class PlanConfig(TrainOptions):
    gpus: int | None = option(None, "GPUs (data-parallel processes); default: the preset's stated hardware", metavar="N")
    gpu_memory: str | None = option(None, "memory of one GPU, e.g. 80GB, 40GiB, 81920MiB; default: the GPU here "
                                          "(nvidia-smi), else the preset's stated hardware", metavar="SIZE")
    json: bool = option(False, "print JSON: parts (bytes per GPU; weights under `weights`), fits, advice, ...")


def make_parser(subparsers):
    return add_command(subparsers, "plan", HELP, __doc__, PlanConfig)


def main(cfg: PlanConfig) -> dict:
    import json

    from selector.errors import UserError
    from selector.memory import GB, detect_gpu_memory, load_model_config, parse_memory, plan
    from selector.runs import TrainConfig, resolve_settings, training_options

    run = TrainConfig(**{**training_options(cfg), "preset": cfg.preset or "paper-qwen2.5-math-1.5b"}, pool="plan")
    values = resolve_settings(run)
    model = values.get("model")
    if not model:
        raise UserError("this preset trains the embedded toy model; give --model DIR (e.g. `--model $(selector toy path)`)")
    gpus = cfg.gpus or values.get("gpus") or 1
    memory = (parse_memory(cfg.gpu_memory) if cfg.gpu_memory else detect_gpu_memory()
              or (parse_memory(values["gpu_memory"]) if values.get("gpu_memory") else None))
    if memory is None:
        raise UserError("no GPU here and the preset states no GPU memory; pass --gpu-memory, e.g. 80GB")
    result = plan(load_model_config(model), values, gpus, memory)
    if cfg.json:
        print(json.dumps({"model": model, "preset": run.preset, **result.to_json()}, indent=1))
        return result.to_json()
    from selector.cli.output import emit

    emit([{**r, "GB": f"{r['GB']:.2f}"} for r in result.rows()], ["part", "phase", "GB"],
         title=f"{model}, preset {run.preset}: {gpus} x {memory / GB:.0f} GB, {result.params:,} parameters "
               f"({result.trainable:,} trained)",
         caption="GB = 10^9 bytes per GPU; generation and training never overlap: the peak is what is always held "
                 "plus the larger phase")
    for note in result.notes:
        print(f"note: {note}")
    print(("fits: yes" if result.fits else "fits: NO") + f" (peak {result.total / GB:.1f} GB of {memory / GB:.1f} GB)")
    for advice in result.advice:
        print(f"to fit: {advice}")
    return result.to_json()
