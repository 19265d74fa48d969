"""The memory planner's answers for the paper preset: tables per GPU count and GPU size, and the
largest micro-batch that fits for each way of running it.

    python perf/plan_table.py --model Qwen/Qwen2.5-Math-1.5B        # config.json from the hub
    python perf/plan_table.py --model DIR                           # or a local directory / config.json

For each (GPUs, GPU memory) in 1/8 x 40/80 GB: the part table of the paper preset as it is (vLLM
colocated at a 0.3 share), and without vLLM (transformers' generate), with the planner's advice. Then a search: for
full fine-tuning and LoRA (rank 32), with and without vLLM, the largest micro-batch that fits on
one GPU, and with it the largest steps_per_generation (the fewest generation rounds; with vLLM,
the largest chunk its KV cache holds in one wave). Numbers are the planner's (selector/memory.py):
exact for weights, gradients, optimizer and reference model, estimates for the rest.
"""

import argparse

from selector.errors import UserError
from selector.memory import GB, load_model_config, parse_memory, plan

PRESET = "paper-qwen2.5-math-1.5b"


def preset_values() -> dict:
    from selector.runs import preset

    return preset(PRESET)


def table(config: dict, values: dict, gpus: int, mem: int, title: str) -> None:
    p = plan(config, values, gpus, mem)
    b = p.batch
    print(f"\n## {title}: {gpus} GPU(s) x {mem / GB:.0f} GB — micro {b.micro}, accumulation {b.accumulation}, "
          f"generation batch {b.generation_per_gpu} per GPU")
    for r in p.rows():
        print(f"  {r['part']:<26} {r['phase']:<11} {r['GB']:>9.2f} GB")
    for a in p.advice:
        print(f"  advice: {a}")
    for n in p.notes:
        print(f"  note: {n}")


def largest(config: dict, values: dict, mem: int, extra: dict) -> str:
    """The largest micro-batch that fits on one GPU, then the largest steps_per_generation."""
    base = {**values, **extra}
    completions = values["prompts_per_step"] * values["num_generations"]
    for micro in [m for m in range(completions, 0, -1) if completions % m == 0 and m <= 64]:
        accumulation = completions // micro
        for spg in [d for d in range(accumulation, 0, -1) if accumulation % d == 0 and (micro * d) % values["num_generations"] == 0]:
            p = plan(config, {**base, "micro_batch_size": micro, "steps_per_generation": spg}, 1, mem, advise=False)
            if p.fits and (p.vllm_sequences is None or p.vllm_sequences >= micro * spg or spg * micro <= values["num_generations"]):
                wave = "" if p.vllm_sequences is None else f", vLLM holds {p.vllm_sequences} sequences"
                return (f"micro {micro}, steps_per_generation {spg} (generation batch {micro * spg}): peak {p.total / GB:.1f} GB "
                        f"({p.peak_phase}){wave}")
    return "nothing fits"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="Qwen/Qwen2.5-Math-1.5B", help="hub id, model directory or config.json")
    args = ap.parse_args()
    try:
        config = load_model_config(args.model)
    except UserError as e:
        raise SystemExit(f"plan_table: {e}") from None
    values = preset_values()
    print(f"# {PRESET} on {args.model}: prompts {values['prompts_per_step']} x {values['num_generations']} rollouts, "
          f"prompt <= {values['max_prompt_length']}, completion <= {values['max_completion_length']} tokens")
    for gpus in (1, 8):
        for size in ("80GB", "40GB"):
            mem = parse_memory(size)
            table(config, values, gpus, mem, "preset (vLLM colocated)")
            table(config, {**values, "use_vllm": False}, gpus, mem, "preset without vLLM (transformers generate)")
    print("\n## One GPU: the largest micro-batch that fits (then the largest steps_per_generation)")
    for size in ("80GB", "40GB"):
        mem = parse_memory(size)
        for name, extra in (("full, transformers generate", {"use_vllm": False}),
                            ("full, vLLM colocate 0.3", {"use_vllm": True, "vllm_gpu_memory_utilization": 0.3}),
                            ("LoRA r=32, transformers generate", {"lora_r": 32, "use_vllm": False}),
                            ("LoRA r=32, vLLM colocate 0.3", {"lora_r": 32, "use_vllm": True, "vllm_gpu_memory_utilization": 0.3})):
            print(f"  {size} {name:<34} {largest(config, values, mem, extra)}")


if __name__ == "__main__":
    main()
