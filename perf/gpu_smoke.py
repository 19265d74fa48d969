"""GPU smoke test: a few GRPO steps of Qwen2.5-Math-1.5B's architecture (random weights), recorded vs plain TRL.

    python perf/gpu_smoke.py                      # any CUDA machine: HF generate, and vLLM when importable
    python perf/gpu_smoke.py --quick              # 2 steps per run
    python perf/gpu_smoke.py --steps 4 --rounds 2 --out smoke.json
    python perf/gpu_smoke.py --backends vllm --set vllm_importance_sampling_correction=false
    python perf/gpu_smoke.py --prompts-per-step 32 --max-completion-length 1024 --micro-batch-size 4

Without CUDA it prints one line saying it needs a GPU and exits 0. `--cpu-dry-run` (hidden) runs
the same code on a tiny model for 1 step on CPU; tests/test_gpu_smoke.py runs it, since CI has no GPU.

The model is a Qwen2ForCausalLM with Qwen2.5-Math-1.5B's config.json shape (hidden 1536, 28 layers,
12 heads, 2 KV heads, MLP 8960, vocabulary 151,936, tied embeddings, 4,096 positions). It has random
weights (seed 0) and is saved in bf16 like the hub checkpoint, so nothing is downloaded. The
tokenizer is the toy world's byte-level BPE (trainer/toy_model.py, Qwen2's pipeline and its chat
template), its vocabulary padded with never-merged filler tokens to the model's 151,936, so every
id the model can sample decodes (vLLM too). The prompts are toy-pool problems (about 30 tokens).
A random model almost never samples EOS, so nearly every completion runs to the full length: each
step is the worst case the memory planner assumes.

The geometry is the paper's 1-GPU preset scaled to a few steps and set by flags: 16 prompts x 8
rollouts, 512 new tokens, micro-batch 8, vLLM colocate at 0.3 of the GPU. The rest of the
`paper-qwen2.5-math-1.5b` preset applies (beta 0.001 with its reference model, the entropy bonus,
bf16 autocast over fp32 weights, activation checkpointing, lr 1e-6).

Every run is a child process of this script (`--child SPEC`, hidden), for two reasons: each run's
peak memory starts clean, and vLLM cannot be started twice in one process. Per backend (hf, vllm),
each round runs both trainers, alternating which goes first:
- wrapper: `trainer.grpo.train`, with every rollout recorded into a temporary store;
- plain: `trl.GRPOTrainer` with the wrapper's very GRPOConfig (`trainer.grpo._grpo_args` on the
  same prepared run) and the in-process reward `selector.rewards.outcome_reward`; nothing recorded.
Measured per run:
- step time: the wall time between two `on_step_end` callbacks. The first step of a run (CUDA
  and cuBLAS set-up) is not counted when a run has two or more steps;
- rollout tokens/s: completion tokens over the time of TRL's `_generate_single_turn` (generation
  itself, with vLLM's weight sync), the first call of a run not counted when there are two or more;
- peak memory per phase: `torch.cuda.max_memory_allocated()`. The generation phase is TRL's
  `_generate_and_score_completions` (generation, rewards, reference log-probs). The training phase
  is everything else up to the end of the step (forward, backward, optimizer step);
- the planner: `selector.memory.plan` for the same settings on this GPU (the prompt length set to the
  longest prompt here). Its phase totals are printed beside the measured peaks, without its
  `overhead` part (the CUDA context and a fragmentation allowance, which max_memory_allocated does
  not see).
"""

import argparse
import importlib.util
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Qwen/Qwen2.5-Math-1.5B's config.json, the fields that shape the model.
QWEN_MATH_1_5B = {"hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28, "num_attention_heads": 12,
                  "num_key_value_heads": 2, "vocab_size": 151936, "max_position_embeddings": 4096,
                  "tie_word_embeddings": True, "rope_theta": 10000.0, "rms_norm_eps": 1e-6}
# --cpu-dry-run: the same code on a model that trains a step in seconds (vocabulary still padded).
TINY = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 1024, "max_position_embeddings": 512,
        "tie_word_embeddings": True, "rope_theta": 10000.0, "rms_norm_eps": 1e-6}
PRESET = "paper-qwen2.5-math-1.5b"
GB = 10**9


def make_tokenizer(vocab_size: int):
    """The toy tokenizer with its vocabulary padded to `vocab_size` by filler tokens.

    The fillers are 2- and 3-character strings of the byte-level alphabet that are not in the
    vocabulary. No merge produces them, so encoding is unchanged, and each decodes to bytes.
    vLLM and TRL can therefore decode any id the model samples."""
    from tokenizers import pre_tokenizers
    from transformers.models.qwen2.tokenization_qwen2 import Qwen2Tokenizer

    from trainer.toy_model import ENDOFTEXT, IM_END, IM_START
    from trainer.toy_model import make_tokenizer as toy_tokenizer

    toy = toy_tokenizer()
    spec = json.loads(toy.backend_tokenizer.to_str())["model"]
    vocab = dict(spec["vocab"])
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    fillers = ("".join(t) for n in (2, 3) for t in itertools.product(alphabet, repeat=n))
    for text in fillers:
        if len(vocab) >= vocab_size:
            break
        vocab.setdefault(text, len(vocab))
    tok = Qwen2Tokenizer(vocab=vocab, merges=[tuple(m) for m in spec["merges"]], unk_token=None,
                         bos_token=None, eos_token=ENDOFTEXT, pad_token=ENDOFTEXT,
                         extra_special_tokens=[IM_START, IM_END], padding_side="left",
                         clean_up_tokenization_spaces=False)
    tok.chat_template = toy.chat_template
    if len(tok) != vocab_size:
        raise RuntimeError(f"padded tokenizer has {len(tok)} tokens, expected {vocab_size}")
    return tok


def build_model(out: Path, shape: dict, cuda: bool) -> None:
    """A randomly initialised Qwen2ForCausalLM of `shape` and the padded tokenizer, saved in bf16."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    from trainer.toy_model import ENDOFTEXT, stop_ids

    tok = make_tokenizer(shape["vocab_size"])
    # As Qwen2.5-Math's config.json: bos and eos both <|endoftext|>; generation stops at <|im_end|> too.
    endoftext = tok.convert_tokens_to_ids(ENDOFTEXT)
    cfg = Qwen2Config(**shape, bos_token_id=endoftext, eos_token_id=endoftext,
                      pad_token_id=tok.pad_token_id, use_cache=True)
    torch.manual_seed(0)
    with torch.device("cuda" if cuda else "cpu"):  # 1.5B parameters initialise in seconds on a GPU
        model = Qwen2ForCausalLM(cfg)
    model.generation_config = GenerationConfig(bos_token_id=endoftext, eos_token_id=stop_ids(tok),
                                               pad_token_id=tok.pad_token_id)
    model.to(torch.bfloat16).save_pretrained(out)
    tok.save_pretrained(out)
    del model
    if cuda:
        torch.cuda.empty_cache()


def train_config(spec: dict, store: str):
    """The TrainConfig both trainers share: the paper preset with this script's geometry."""
    from selector.runs import TrainConfig

    g = spec["geometry"]
    sets = ["save_steps=1000000"]  # no checkpoint in a smoke run
    if g["steps_per_generation"]:
        sets.append(f"steps_per_generation={g['steps_per_generation']}")
    if spec["backend"] == "vllm":
        sets.append(f"vllm_gpu_memory_utilization={g['vllm_gpu_memory_utilization']}")
    if spec["dry_run"]:
        sets.append("bf16=false,activation_checkpointing=false")  # neither works on CPU
    if spec["set"]:
        sets.append(spec["set"])
    return TrainConfig(pool=f"file:{spec['pool']}", preset=PRESET, model=spec["model"], store=store,
                       max_steps=spec["steps"], eval_steps=0, prompts_per_step=g["prompts_per_step"],
                       num_generations=g["num_generations"], micro_batch_size=g["micro_batch_size"],
                       max_completion_length=g["max_completion_length"], use_vllm=spec["backend"] == "vllm",
                       run_id="smoke", set=",".join(sets))


# ---------------------------------------------------------------------------------------------
# One run (a child process): the meter, TRL's hooks, the wrapper or plain TRL.


def child(spec_path: str) -> int:
    import torch
    import transformers
    from transformers import TrainerCallback

    spec = json.loads(Path(spec_path).read_text())
    cuda = torch.cuda.is_available()
    transformers.utils.logging.disable_progress_bar()  # weight-loading bars in the run's log

    class Meter(TrainerCallback):
        def __init__(self):
            self.ends, self.rollouts = [], []  # step-end times; (seconds, tokens, completions) per generation
            self.peaks = {"generation": 0, "training": 0}
            self.at_start = None

        def boundary(self, phase: str) -> None:
            """Close a phase: keep its CUDA peak, start the next from zero."""
            if cuda:
                torch.cuda.synchronize()
                self.peaks[phase] = max(self.peaks[phase], torch.cuda.max_memory_allocated())
                torch.cuda.reset_peak_memory_stats()

        def on_train_begin(self, args, state, control, **kwargs):
            if cuda:
                torch.cuda.synchronize()
                self.at_start = torch.cuda.memory_allocated()
                torch.cuda.reset_peak_memory_stats()
            self.ends.append(time.perf_counter())

        def on_step_end(self, args, state, control, **kwargs):
            self.boundary("training")
            self.ends.append(time.perf_counter())
            # No checkpoint, not even the Trainer's final one: 1.5B fp32 weights with AdamW states are
            # ~18.5 GB per run, more than the runs' disk.
            control.should_save = False
            return control

    meter = Meter()
    from trl import GRPOTrainer

    generate_and_score, single_turn = GRPOTrainer._generate_and_score_completions, GRPOTrainer._generate_single_turn

    def metered_generate_and_score(self, *args, **kwargs):
        meter.boundary("training")  # what ran since the last boundary belongs to training
        out = generate_and_score(self, *args, **kwargs)
        meter.boundary("generation")
        return out

    def timed_single_turn(self, *args, **kwargs):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = single_turn(self, *args, **kwargs)
        if cuda:
            torch.cuda.synchronize()
        completions = out[0]
        meter.rollouts.append((time.perf_counter() - t0, sum(len(c) for c in completions), len(completions)))
        return out

    GRPOTrainer._generate_and_score_completions = metered_generate_and_score
    GRPOTrainer._generate_single_turn = timed_single_turn

    work = Path(spec["work"])
    recorded = None
    if spec["variant"] == "wrapper":
        from selector.store import Store
        from trainer.grpo import train

        train(train_config(spec, str(work / "store")), callbacks=(meter,))
        recorded = Store.open(work / "store").rows("SELECT count(*) AS n FROM rollouts")[0]["n"]
    else:
        from datasets import Dataset
        from transformers import AutoTokenizer
        from transformers.trainer_callback import PrinterCallback

        from selector.rewards import outcome_reward
        from selector.runs import prepare
        from trainer.grpo import _grpo_args, grpo_fields

        p = prepare(train_config(spec, str(work / "unused-store")), grpo_fields=grpo_fields())
        tokenizer = AutoTokenizer.from_pretrained(spec["model"])
        trainer = GRPOTrainer(model=spec["model"], reward_funcs=[outcome_reward], args=_grpo_args(p, work / "out"),
                              train_dataset=Dataset.from_list(p.rows), processing_class=tokenizer)
        trainer.remove_callback(PrinterCallback)
        trainer.add_callback(meter)
        trainer.train()

    steps = [b - a for a, b in zip(meter.ends, meter.ends[1:])]
    result = {"variant": spec["variant"], "backend": spec["backend"], "round": spec["round"], "step_s": steps,
              "counted_step_s": steps[1:] if len(steps) > 1 else steps,
              "rollouts": [{"s": s, "tokens": t, "completions": c} for s, t, c in meter.rollouts],
              "counted_rollouts": meter.rollouts[1:] if len(meter.rollouts) > 1 else meter.rollouts,
              "recorded_rollouts": recorded, "allocated_at_start": meter.at_start,
              "peak_generation": meter.peaks["generation"] if cuda else None,
              "peak_training": meter.peaks["training"] if cuda else None,
              "max_reserved": torch.cuda.max_memory_reserved() if cuda else None}
    Path(spec["result"]).write_text(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------------------------
# The orchestration: flags, model, planner, interleaved runs, the table.


def run_child(spec: dict, tmp: Path) -> dict:
    path = tmp / f"spec-{spec['backend']}-{spec['variant']}-{spec['round']}.json"
    path.write_text(json.dumps(spec))
    paths = [str(REPO), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), "HF_HUB_OFFLINE": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"}
    log = Path(spec["work"]) / "log.txt"
    t0 = time.perf_counter()
    with open(log, "w") as f:
        rc = subprocess.call([sys.executable, __file__, "--child", str(path)], env=env, stdout=f,
                             stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    if rc != 0 or not Path(spec["result"]).exists():
        tail = log.read_text()[-3000:]
        print(f"  {spec['backend']} {spec['variant']}: FAILED (exit {rc}); last lines of {log}:\n{tail}", flush=True)
        return {"variant": spec["variant"], "backend": spec["backend"], "round": spec["round"], "error": tail,
                "wall_s": wall}
    r = json.loads(Path(spec["result"]).read_text())
    r["wall_s"] = wall
    s = statistics.median(r["counted_step_s"]) if r["counted_step_s"] else float("nan")
    print(f"  {spec['backend']:<5} {spec['variant']:<8} median {s:.2f} s/step ({len(r['step_s'])} steps, {wall:.0f} s "
          "with start-up)", flush=True)
    return r


def summarize(runs: list[dict], expected_rollouts: int) -> list[dict]:
    rows = []
    for backend in dict.fromkeys(r["backend"] for r in runs):
        for variant in ("plain", "wrapper"):
            mine = [r for r in runs if r["backend"] == backend and r["variant"] == variant and "error" not in r]
            if not mine:
                continue
            steps = [t for r in mine for t in r["counted_step_s"]]
            gens = [g for r in mine for g in r["counted_rollouts"]]
            peak = lambda k: max(r[k] for r in mine) if mine[0][k] is not None else None  # noqa: E731
            rows.append({"backend": backend, "trainer": variant, "runs": len(mine), "steps": len(steps),
                         "median_step_s": statistics.median(steps), "mean_step_s": statistics.mean(steps),
                         "rollout_tokens_per_s": sum(g[1] for g in gens) / max(1e-9, sum(g[0] for g in gens)),
                         "tokens_per_completion": sum(g[1] for g in gens) / max(1, sum(g[2] for g in gens)),
                         "peak_generation": peak("peak_generation"), "peak_training": peak("peak_training"),
                         "recorded_rollouts": mine[0]["recorded_rollouts"], "expected_rollouts": expected_rollouts})
    for row in rows:
        plain = next((r for r in rows if r["backend"] == row["backend"] and r["trainer"] == "plain"), None)
        row["vs_plain"] = row["median_step_s"] / plain["median_step_s"] if plain else None
    return rows


def gb(x) -> str:
    return "n/a" if x is None else f"{x / GB:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # Geometry (the paper's 1-GPU preset scaled to a few steps)
    parser.add_argument("--prompts-per-step", type=int, default=16, help="distinct prompts per optimizer step")
    parser.add_argument("--num-generations", type=int, default=8, help="rollouts per prompt")
    parser.add_argument("--max-completion-length", type=int, default=512, help="new tokens per rollout")
    parser.add_argument("--micro-batch-size", type=int, default=8, help="completions per forward/backward")
    parser.add_argument("--steps-per-generation", type=int, default=None,
                        help="micro-steps per generation batch (default: TRL's, the gradient accumulation)")
    parser.add_argument("--vllm-gpu-memory-utilization", type=float, default=0.3, help="vLLM's share of the GPU")
    parser.add_argument("--set", default=None, metavar="KV",
                        help="more GRPOConfig fields or preset keys, as `--set` of selector train (e.g. beta=0)")
    # Runtime
    parser.add_argument("--steps", type=int, default=3, help="optimizer steps per run (the first is not counted)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of (wrapper, plain) per backend, alternating which goes first")
    parser.add_argument("--quick", action="store_true", help="2 steps per run, 1 round")
    parser.add_argument("--backends", default="auto", help="hf, vllm or hf,vllm; auto: hf, plus vllm when importable")
    parser.add_argument("--out", default=None, metavar="JSON", help="write every measurement here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (model, stores, logs)")
    parser.add_argument("--cpu-dry-run", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    sys.path.insert(0, str(REPO))  # this checkout's code, in the children too (run_child's PYTHONPATH)

    # ---------------------------------------------------------------------------------------------
    # A GPU, or one line saying so
    try:
        import torch
    except ImportError:
        print("perf/gpu_smoke.py needs torch and a CUDA GPU (pip install -e '.[train]'); nothing measured")
        return 0
    cuda = torch.cuda.is_available()
    if not cuda and not args.cpu_dry_run:
        print("perf/gpu_smoke.py needs a CUDA GPU (torch.cuda.is_available() is False); nothing measured")
        return 0

    # ---------------------------------------------------------------------------------------------
    # Geometry and backends
    geometry = {"prompts_per_step": args.prompts_per_step, "num_generations": args.num_generations,
                "max_completion_length": args.max_completion_length, "micro_batch_size": args.micro_batch_size,
                "steps_per_generation": args.steps_per_generation,
                "vllm_gpu_memory_utilization": args.vllm_gpu_memory_utilization}
    steps, rounds, shape = args.steps, args.rounds, QWEN_MATH_1_5B
    if args.quick:
        steps, rounds = 2, 1
    if args.cpu_dry_run:
        geometry.update(prompts_per_step=2, num_generations=2, max_completion_length=8, micro_batch_size=2,
                        steps_per_generation=None)
        steps, rounds, shape = 1, 1, TINY
    has_vllm = importlib.util.find_spec("vllm") is not None
    if args.backends == "auto":
        backends = ["hf", "vllm"] if has_vllm and cuda else ["hf"]
    else:
        backends = args.backends.split(",")
    if args.cpu_dry_run:
        backends = ["hf"]
    for b in backends:
        if b not in ("hf", "vllm"):
            raise SystemExit(f"--backends {args.backends!r}: expected hf, vllm or hf,vllm")
    if "vllm" in backends and not has_vllm:
        raise SystemExit("--backends vllm: vLLM is not installed (pip install -e '.[gpu]')")
    device = torch.cuda.get_device_name(0) if cuda else "CPU (dry run)"
    gpu_memory = torch.cuda.get_device_properties(0).total_memory if cuda else 80 * GB
    print(f"{device}: {geometry['prompts_per_step']} prompts x {geometry['num_generations']} rollouts, "
          f"<= {geometry['max_completion_length']} new tokens, micro-batch {geometry['micro_batch_size']}; "
          f"{steps} step(s) x {rounds} round(s); backends {','.join(backends)}", flush=True)

    # ---------------------------------------------------------------------------------------------
    # Model, tokenizer and pool, in a temporary directory
    import transformers

    transformers.utils.logging.disable_progress_bar()
    tmp = Path(tempfile.mkdtemp(prefix="gpu-smoke-"))
    t0 = time.perf_counter()
    model_dir = tmp / "model"
    build_model(model_dir, shape, cuda)
    from transformers import AutoTokenizer

    from selector.toy import pool_rows

    rows = pool_rows()[:geometry["prompts_per_step"] * (steps + 1)]
    pool = tmp / "pool.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tok = AutoTokenizer.from_pretrained(model_dir)
    longest_prompt = max(len(tok.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=True,
                                                     return_dict=False)) for r in rows)
    print(f"model and tokenizer built in {time.perf_counter() - t0:.0f} s ({tmp}); "
          f"longest prompt {longest_prompt} tokens", flush=True)

    # ---------------------------------------------------------------------------------------------
    # The planner's prediction for the same settings
    from selector.memory import load_model_config, plan
    from selector.runs import resolve_settings

    base = {"work": "", "result": "", "variant": "", "round": 0, "model": str(model_dir), "pool": str(pool),
            "steps": steps, "geometry": geometry, "set": args.set, "dry_run": args.cpu_dry_run}
    plans = {}
    for b in backends:
        values = resolve_settings(train_config({**base, "backend": b}, str(tmp / "plan-store")))
        values.update(max_prompt_length=longest_prompt, use_vllm=b == "vllm")
        plans[b] = plan(load_model_config(str(model_dir)), values, gpus=1, gpu_memory_bytes=gpu_memory, advise=False)

    # ---------------------------------------------------------------------------------------------
    # The runs, interleaved: per backend, (wrapper, plain) then (plain, wrapper), ...
    runs = []
    for r in range(rounds):
        for b in backends:
            for variant in (("wrapper", "plain") if r % 2 == 0 else ("plain", "wrapper")):
                work = tmp / f"{b}-{variant}-{r}"
                work.mkdir()
                spec = {**base, "backend": b, "variant": variant, "round": r, "work": str(work),
                        "result": str(work / "result.json")}
                runs.append(run_child(spec, tmp))

    # ---------------------------------------------------------------------------------------------
    # The table, and the JSON
    expected = steps * geometry["prompts_per_step"] * geometry["num_generations"]
    summary = summarize(runs, expected)
    print(f"\n{'backend':<8}{'trainer':<9}{'steps':>6}{'s/step':>9}{'vs plain':>10}{'rollout tok/s':>15}"
          f"{'tok/compl':>10}{'gen peak GB':>13}{'train peak GB':>15}{'recorded':>10}")
    for s in summary:
        vs = "" if s["vs_plain"] is None else f"{s['vs_plain']:.3f}x"
        rec = "-" if s["recorded_rollouts"] is None else f"{s['recorded_rollouts']}/{s['expected_rollouts']}"
        print(f"{s['backend']:<8}{s['trainer']:<9}{s['steps']:>6}{s['median_step_s']:>9.3f}{vs:>10}"
              f"{s['rollout_tokens_per_s']:>15.0f}{s['tokens_per_completion']:>10.0f}{gb(s['peak_generation']):>13}"
              f"{gb(s['peak_training']):>15}{rec:>10}")
    memory = []
    print(f"\nmemory planner (selector.memory.plan, 1 GPU of {gpu_memory / GB:.1f} GB, prompts padded to "
          f"{longest_prompt} tokens), without its overhead allowance:")
    print(f"{'backend':<8}{'phase':<12}{'measured GB':>13}{'planned GB':>12}{'measured/planned':>18}")
    for b, p in plans.items():
        for phase, key in (("generation", "peak_generation"), ("training", "peak_training")):
            planned = p.phase_total(phase) - p.parts.get("overhead", 0)
            measured = [s[key] for s in summary if s["backend"] == b and s[key] is not None]
            m = max(measured) if measured else None
            ratio = f"{m / planned:.2f}" if m is not None and planned else "n/a"
            memory.append({"backend": b, "phase": phase, "measured": m, "planned": planned,
                           "planned_with_overhead": p.phase_total(phase), "fits": p.fits})
            print(f"{b:<8}{phase:<12}{gb(m):>13}{gb(planned):>12}{ratio:>18}")
    failed = [r for r in runs if "error" in r]
    if args.out:
        report = {"device": device, "gpu_memory": gpu_memory, "model_shape": shape, "geometry": geometry,
                  "steps": steps, "rounds": rounds, "backends": backends, "longest_prompt": longest_prompt,
                  "runs": runs, "summary": summary, "memory": memory,
                  "plans": {b: p.to_json() for b, p in plans.items()}}
        Path(args.out).write_text(json.dumps(report, indent=1))
        print(f"\nwrote {args.out}")
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        print(f"{len(failed)} run(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
