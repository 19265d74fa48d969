"""Tests of the memory planner (selector/memory.py).

    PYTHONPATH=$PWD python -m pytest tests/test_memory.py

What is checked, and how:
- exact parts against real tensors: the parameter count of real Qwen2/Llama/Mistral models
  (tiny ones, and the paper's model on the meta device), weights, gradients and AdamW states
  after one optimizer step, the LoRA adapter of a real peft model, the KV cache of a real
  DynamicCache after transformers' generate under autocast (as accelerate runs it);
- the estimated parts: a formula table (hand-computed rows) pins each formula, and on CPU the
  estimates are compared with the peak of live tensors during a real forward/backward and a real
  generate of a tiny model (a dispatch mode tracks every storage the ops create);
- answers for Qwen2.5-Math-1.5B (its public config.json values) at 1 and 8 GPUs, 40 and 80 GB;
  every piece of advice is planned again and must fit;
- inputs: memory sizes, nvidia-smi output (a fake nvidia-smi on PATH), config.json loading,
  and that importing the module loads no torch.

Tests that build models skip without transformers (the `train` extra).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from selector.errors import UserError
from selector.memory import (
    GB,
    GiB,
    MiB,
    ModelShape,
    Settings,
    detect_gpu_memories,
    detect_gpu_memory,
    kv_bytes_per_token,
    load_model_config,
    parse_memory,
    plan,
)

REPO = Path(__file__).resolve().parents[1]

# Qwen/Qwen2.5-Math-1.5B's public config.json (the values that matter here).
QWEN_MATH_15B = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 1536, "num_hidden_layers": 28,
                 "num_attention_heads": 12, "num_key_value_heads": 2, "intermediate_size": 8960, "vocab_size": 151936,
                 "tie_word_embeddings": True, "max_position_embeddings": 4096, "rms_norm_eps": 1e-6, "hidden_act": "silu",
                 "torch_dtype": "bfloat16"}

# The paper preset's keys that matter for memory (trainer/config.py PRESETS["paper-qwen2.5-math-1.5b"]);
# copied so that these tests need no trl, and checked against the preset when it is importable.
PAPER = {"prompts_per_step": 128, "num_generations": 8, "micro_batch_size": 16, "max_prompt_length": 1024,
         "max_completion_length": 3072, "bf16": True, "activation_checkpointing": True, "beta": 0.001}

# Settings found with perf/plan_table.py (the largest micro-batch that fits, at TRL's default vLLM
# share). 1 GPU of 80 GB, full fine-tuning: vLLM colocate; generation in chunks of 8 x 16 = 128 completions,
# which vLLM's KV cache at that share holds in one wave.
ONE_GPU_80GB = {"use_vllm": True, "vllm_gpu_memory_utilization": 0.3, "micro_batch_size": 8, "steps_per_generation": 16}
# 1 GPU of 40 GB: LoRA (rank 32, all linear layers) with vLLM colocate.
LORA_40GB = {"lora_r": 32, "use_vllm": True, "vllm_gpu_memory_utilization": 0.3, "micro_batch_size": 8}
# 8 GPUs of 80 GB with vLLM colocate: the preset's micro-batch of 16 does not fit (see the test).
EIGHT_GPU_VLLM = {"use_vllm": True, "vllm_gpu_memory_utilization": 0.3, "micro_batch_size": 4}


def _tiny(model_type="qwen2", **over) -> dict:
    cfg = {"model_type": model_type, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "intermediate_size": 160, "vocab_size": 1000, "tie_word_embeddings": True, "max_position_embeddings": 256}
    return {**cfg, **over}


def _real_model(cfg: dict, device=None):
    transformers = pytest.importorskip("transformers")
    import torch

    config = transformers.AutoConfig.for_model(**cfg)
    torch.manual_seed(0)
    if device is not None:
        with torch.device(device):
            return transformers.AutoModelForCausalLM.from_config(config)
    return transformers.AutoModelForCausalLM.from_config(config)


def _nbytes(tensors) -> int:
    seen, total = set(), 0
    for t in tensors:
        if t.untyped_storage().data_ptr() not in seen:
            seen.add(t.untyped_storage().data_ptr())
            total += t.numel() * t.element_size()
    return total


# ---------------------------------------------------------------------------------------------
# The module stays torch-free.


def test_import_loads_no_torch_or_transformers():
    code = "import sys, selector.memory, selector.model_shape; bad = [m for m in ('torch', 'transformers', 'trl') if m in sys.modules]; sys.exit(str(bad) if bad else 0)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                         check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr or out.stdout


def test_source_never_imports_torch_even_inside_functions():
    src = "".join((REPO / "selector" / name).read_text() for name in ("memory.py", "model_shape.py"))
    assert not re.findall(r"^\s*(?:import|from)\s+(?:torch|transformers|trl|peft)\b", src, re.MULTILINE)


# ---------------------------------------------------------------------------------------------
# Exact parts against real tensors.

COUNT_CASES = [
    _tiny(),  # Qwen2: q/k/v biases, tied embeddings
    _tiny(tie_word_embeddings=False),  # a separate lm_head
    _tiny(num_key_value_heads=4),  # no GQA
    _tiny("llama", attention_bias=True, mlp_bias=True),  # Llama with every optional bias
    _tiny("llama", head_dim=32, tie_word_embeddings=False),  # head_dim given, heads x head_dim != hidden
    _tiny("mistral"),  # no biases at all
]
COUNT_IDS = ["qwen2-tied", "qwen2-untied", "qwen2-mha", "llama-biases", "llama-head-dim", "mistral"]


@pytest.mark.parametrize("cfg", COUNT_CASES, ids=COUNT_IDS)
def test_parameter_count_matches_real_model(cfg):
    model = _real_model(cfg)
    shape = ModelShape.from_config(cfg)
    params = list(model.parameters())  # tied weights appear once
    assert (shape.params(), shape.param_tensors()) == (sum(p.numel() for p in params), len(params))
    assert shape.layers * shape.layer_linear_params() == sum(
        mod.weight.numel() + (mod.bias.numel() if mod.bias is not None else 0)
        for name, mod in model.named_modules() if name.startswith("model.layers.") and type(mod).__name__ == "Linear")


def test_paper_model_count_matches_real_model_on_meta_device():
    model = _real_model(QWEN_MATH_15B, device="meta")  # the real architecture, no memory
    assert ModelShape.from_config(QWEN_MATH_15B).params() == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_weights_gradients_adam_states_match_real_tensors(dtype):
    torch = pytest.importorskip("torch")
    cfg = _tiny()
    model = _real_model(cfg).to(getattr(torch, dtype))
    settings = {"prompts_per_step": 1, "num_generations": 2, "max_prompt_length": 3, "max_completion_length": 5,
                "model_dtype": dtype, "beta": 0.001}
    p = plan(cfg, settings, 1, 80 * GB, advise=False)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)  # the states AdamW keeps are the same in every implementation
    model(input_ids=torch.tensor([[1, 2, 3, 4]]), labels=torch.tensor([[1, 2, 3, 4]])).loss.backward()
    opt.step()
    states = [t for st in opt.state.values() for t in st.values() if torch.is_tensor(t)]
    real = {"weights": _nbytes(model.parameters()), "gradients": _nbytes(q.grad for q in model.parameters()),
            "optimizer_states": sum(t.numel() * t.element_size() for t in states),
            "reference_model": _nbytes(_real_model(cfg).to(getattr(torch, dtype)).parameters())}  # TRL: a second copy, same dtype
    assert {k: p.parts[k] for k in real} == real


@pytest.mark.parametrize("cfg,r", [(_tiny(), 1), (_tiny(), 8), (_tiny("llama", attention_bias=True, tie_word_embeddings=False), 16)],
                         ids=["qwen2-r1", "qwen2-r8", "llama-untied-r16"])
def test_lora_adapter_matches_peft(cfg, r):
    torch = pytest.importorskip("torch")
    peft = pytest.importorskip("peft")
    model = peft.get_peft_model(_real_model(cfg), peft.LoraConfig(r=r, lora_alpha=2 * r, target_modules="all-linear", task_type="CAUSAL_LM"))
    trainable = [q for q in model.parameters() if q.requires_grad]
    shape = ModelShape.from_config(cfg)
    assert (shape.lora_params(r), shape.lora_tensors()) == (sum(q.numel() for q in trainable), len(trainable))
    p = plan(cfg, {"prompts_per_step": 1, "num_generations": 2, "max_prompt_length": 3, "max_completion_length": 5,
                   "lora_r": r, "beta": 0.001}, 1, 80 * GB, advise=False)
    opt = torch.optim.AdamW(trainable, lr=1e-3)
    ids = torch.tensor([[1, 2, 3, 4]])
    model(input_ids=ids, labels=ids).loss.backward()
    opt.step()
    states = [t for st in opt.state.values() for t in st.values() if torch.is_tensor(t)]
    real = {"weights": _nbytes(model.parameters()), "gradients": _nbytes(q.grad for q in trainable),
            "optimizer_states": sum(t.numel() * t.element_size() for t in states), "reference_model": 0}  # adapters disabled, no copy
    assert {k: p.parts[k] for k in real} == real


@pytest.mark.parametrize("bf16", [True, False], ids=["bf16-autocast", "fp32"])
def test_kv_cache_matches_dynamic_cache_after_generate(bf16):
    torch = pytest.importorskip("torch")
    cfg = _tiny()
    model = _real_model(cfg).eval()
    if bf16:  # as accelerate's prepare_model wraps forward with mixed precision bf16
        model.forward = torch.autocast("cpu", dtype=torch.bfloat16)(model.forward)
    batch, prompt, new = 3, 7, 5
    ids = torch.randint(1, 1000, (batch, prompt))
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=new, min_new_tokens=new,
                             do_sample=False, return_dict_in_generate=True, pad_token_id=0)
    cache = getattr(out, "past_key_values", None) or out.cache
    real = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))
    per_token = kv_bytes_per_token(ModelShape.from_config(cfg), Settings.from_dict(
        {"prompts_per_step": 1, "max_prompt_length": prompt, "max_completion_length": new, "bf16": bf16}))
    assert real == per_token * batch * (prompt + new - 1)


# ---------------------------------------------------------------------------------------------
# The estimated parts: a formula table. The model: hidden 64, 2 layers, 4 heads of 16 (q 64), 2 KV
# heads (kv 32), MLP 160, vocab 1000, tied. One micro-batch of 2 completions of prompt 3 + completion
# 5 = 8 tokens: 16 tokens, 10 scored. fp32 weights (4 bytes), bf16 autocast (2 bytes).

SMALL = _tiny()
BASE = {"prompts_per_step": 1, "num_generations": 2, "micro_batch_size": 2, "max_prompt_length": 3, "max_completion_length": 5,
        "beta": 0.001, "bf16": True, "activation_checkpointing": True}
MEM = 80 * GB
# Saved per token by one layer (selector.memory._layer_saved_per_token's terms):
# norms 4*4*64, linear inputs 5*2*64 + 2*64, SDPA 3*2*64, MLP 4*2*160, lse 4*4, mask 2*8, rstd 8
FULL_LAYER = 4 * 4 * 64 + 5 * 2 * 64 + 2 * 64 + 3 * 2 * 64 + 4 * 2 * 160 + 4 * 4 + 2 * 8 + 8


def LORA_LAYER(r):
    # norms keep their input only 2*4*64; lora_A inputs 5*2*64 + 2*64; SDPA with its output 4*2*64;
    # MLP 4*2*160; lora_A outputs 7*2*r; lse, mask, rstd
    return 2 * 4 * 64 + 5 * 2 * 64 + 2 * 64 + 4 * 2 * 64 + 4 * 2 * 160 + 7 * 2 * r + 4 * 4 + 2 * 8 + 8


BACKWARD = 2 * 4 * 64 + 3 * 2 * 160  # residual gradient in and out, three MLP gradients
LAYER_LINEAR = (64 * 64 + 64) + 2 * (64 * 32 + 32) + 64 * 64 + 3 * 64 * 160  # q, k, v (biases), o, gate/up/down
MASK = 2 * 8 * 8  # micro x seq x seq booleans
LOGITS_NO_WEIGHT_GRAD = (10 * 4 * 64 + 10 * 4 * 2  # saved hidden states, log Z and entropy
                         + 10 * (32768 + 64) * 2 + 1000 * 64 * 2  # one tile (32768 columns) + hidden chunk, weight slice
                         + 10 * 4 * 9 + 10 * 4 * 64 + 16 * 4 * 64)  # statistics, hidden-state gradients
KV_TOKEN = 2 * 32 * (4 + 2)  # layers x kv_dim x (fp32 key + bf16 value)
PREFILL_TOKEN = max(2 * 4 * 64 + 2 * 64 + 3 * 2 * 160,  # MLP stage
                    2 * 4 * 64 + 4 * 64 + 4 * 32 + 2 * 32 + 4 * 64 + 2 * 64 + 3 * 2 * 64 + 2 * 64 + 3 * 3)  # attention stage
GEN_WORK = ((2 * LAYER_LINEAR + 1000 * 64) * 2  # autocast copies of every linear incl. lm_head
            + max(2 * 3 * (KV_TOKEN + PREFILL_TOKEN) + 2 * 1000 * 4 * 3,  # prefill
                  2 * 8 * KV_TOKEN + 2 * 8 * KV_TOKEN // 2 + 2 * 1000 * 4 * 4 + 2 * 4 * 8 * 4)  # last decode step
            - 2 * 8 * KV_TOKEN)

FORMULAS = [
    # (settings changes, gpus, part, expected bytes)
    ({}, 1, "activations", 16 * (2 * 4 * 64 + 2 * 4 * 64 + FULL_LAYER + BACKWARD) + MASK),  # inputs + final norm + one layer
    ({"activation_checkpointing": False}, 1, "activations", 16 * (2 * FULL_LAYER + BACKWARD + 2 * 4 * 64) + MASK),
    ({"lora_r": 4}, 1, "activations", 16 * (2 * 4 * 64 + 4 * 64 + LORA_LAYER(4) + BACKWARD) + MASK),
    ({"lora_r": 4, "activation_checkpointing": False}, 1, "activations", 16 * (2 * LORA_LAYER(4) + BACKWARD + 4 * 64) + MASK),
    ({"activation_checkpointing": False}, 1, "bf16_weight_copies", 2 * LAYER_LINEAR * 2),  # saved for the backward
    # checkpointing: the forward's cache of every cast, less what the backward holds, or one layer's casts
    ({}, 1, "bf16_weight_copies", max(LAYER_LINEAR * 2, 2 * LAYER_LINEAR * 2 - 16 * (FULL_LAYER + BACKWARD))),
    ({"bf16": False}, 1, "bf16_weight_copies", 0),  # fp32 compute: nothing is cast
    ({}, 1, "logits", LOGITS_NO_WEIGHT_GRAD + 1000 * 64 * 4),  # + the fp32 gradient of the tied head weight
    ({"lora_r": 4}, 1, "logits", LOGITS_NO_WEIGHT_GRAD),  # head frozen under LoRA
    ({}, 1, "kv_cache", 2 * 8 * KV_TOKEN),  # generation batch 2 x (3 + 5) tokens
    ({"bf16": False}, 1, "kv_cache", 2 * 8 * 2 * 32 * (4 + 4)),
    ({}, 1, "generation_work", GEN_WORK),
    ({"use_vllm": True}, 1, "kv_cache", 0),  # generation happens inside vLLM's share
    ({"use_vllm": True, "vllm_gpu_memory_utilization": 0.25}, 1, "vllm_reserve", int(0.25 * MEM)),
    ({}, 1, "generation_batch", 2 * (16 * 8 + 16 * 5)),  # ids and masks per token, 4 fp32 per completion token
    ({}, 1, "overhead", int(1.5 * GiB) + int(0.05 * MEM)),
    ({"micro_batch_size": None}, 2, "ddp_buckets", ModelShape.from_config(SMALL).params() * 4),
    ({"lora_r": 4}, 1, "reference_model", 0),
    ({"beta": 0.0}, 1, "reference_model", 0),
]
FORMULA_IDS = ["activations-ckpt", "activations-no-ckpt", "activations-lora-ckpt", "activations-lora-no-ckpt",
               "copies-no-ckpt", "copies-ckpt", "copies-fp32", "logits-full", "logits-lora", "kv-bf16", "kv-fp32",
               "generation-work", "kv-vllm", "vllm-share", "generation-batch", "overhead", "ddp-buckets", "ref-lora", "ref-beta0"]


@pytest.mark.parametrize("change,gpus,part,expected", FORMULAS, ids=FORMULA_IDS)
def test_formula_table(change, gpus, part, expected):
    assert plan(SMALL, {**BASE, **change}, gpus, MEM, advise=False).parts[part] == expected


@pytest.mark.parametrize("spg,phase", [(None, "training"), (1, "always")], ids=["one-generation-per-step", "chunked"])
def test_gradients_exist_while_generating_only_when_generation_is_chunked(spg, phase):
    p = plan(SMALL, {**BASE, "prompts_per_step": 2, "micro_batch_size": 2, "steps_per_generation": spg}, 1, MEM, advise=False)
    assert p.phases["gradients"] == phase


BATCHES = [
    # (changes, gpus, (micro, accumulation, steps_per_generation, generation batch per GPU))
    ({}, 1, (16, 64, 64, 1024)),  # TRL's default: one generation batch per optimizer step
    ({"generation_batch_size": 256}, 1, (16, 64, 16, 256)),  # TRL derives steps_per_generation from it
    ({"steps_per_generation": 4}, 8, (16, 8, 4, 64)),
    ({"micro_batch_size": None}, 8, (128, 1, 1, 128)),  # trainer/grpo.py: all of a GPU's completions at once
]


@pytest.mark.parametrize("change,gpus,expected", BATCHES, ids=["default", "generation-batch-size", "chunks-8-gpus", "no-micro"])
def test_batch_split_follows_trl(change, gpus, expected):
    b = plan(QWEN_MATH_15B, {**PAPER, **change}, gpus, 10**15, advise=False).batch
    assert (b.micro, b.accumulation, b.steps_per_generation, b.generation_per_gpu) == expected


def test_a_run_nothing_can_fit_says_so():
    p = plan(QWEN_MATH_15B, PAPER, 1, parse_memory("8GB"))  # below weights + optimizer of full fine-tuning
    assert not p.fits and p.fixes == [] and len(p.advice) == 1 and "no single change" in p.advice[0]


def test_total_is_the_parts_held_always_plus_the_larger_phase():
    p = plan(SMALL, BASE, 1, MEM, advise=False)
    always = sum(b for k, b in p.parts.items() if p.phases[k] == "always")
    gen = sum(b for k, b in p.parts.items() if p.phases[k] == "generation")
    train = sum(b for k, b in p.parts.items() if p.phases[k] == "training")
    assert p.total == always + max(gen, train) and p.total == max(p.phase_total("generation"), p.phase_total("training"))


# ---------------------------------------------------------------------------------------------
# The estimates against live tensors on CPU (bf16 autocast over fp32 weights, as on the GPU; the
# CPU attention kernel and autocast lists differ from CUDA's, so this bounds the formulas' shape,
# not the GPU's exact bytes).


class _LivePeak:
    """A dispatch mode that records every storage an op creates and the peak of those alive."""

    def __new__(cls, exclude):
        from torch.multiprocessing.reductions import StorageWeakRef
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils._pytree import tree_flatten

        class Mode(TorchDispatchMode):
            def __init__(self):
                super().__init__()
                self.live, self.peak = {}, 0

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                for t in tree_flatten(out)[0]:
                    if hasattr(t, "untyped_storage"):
                        st = t.untyped_storage()
                        key = st.data_ptr()
                        # a freed storage's address can be reused at once: replace an expired entry
                        if key and key not in exclude and (key not in self.live or self.live[key][0].expired()):
                            self.live[key] = (StorageWeakRef(st), st.nbytes())
                for k in [k for k, (ref, _) in self.live.items() if ref.expired()]:
                    del self.live[k]
                self.peak = max(self.peak, sum(n for _, n in self.live.values()))
                return out

        return Mode()


CPU_MODEL = {"model_type": "qwen2", "hidden_size": 256, "intermediate_size": 1408, "num_hidden_layers": 4, "num_attention_heads": 4,
             "num_key_value_heads": 2, "vocab_size": 4000, "tie_word_embeddings": True, "max_position_embeddings": 512}


@pytest.mark.parametrize("checkpointing,lora_r", [(False, 0), (True, 0), (False, 8), (True, 8)],
                         ids=["full", "full-ckpt", "lora", "lora-ckpt"])
def test_training_estimate_tracks_live_tensors_on_cpu(checkpointing, lora_r):
    torch = pytest.importorskip("torch")
    model = _real_model(CPU_MODEL)
    if lora_r:
        peft = pytest.importorskip("peft")
        model = peft.get_peft_model(model, peft.LoraConfig(r=lora_r, lora_alpha=2 * lora_r, target_modules="all-linear", task_type="CAUSAL_LM"))
        model.enable_input_require_grads()
    model.train()
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    backbone = (model.base_model.model if lora_r else model).model
    micro, seq = 4, 128
    ids = torch.randint(0, 4000, (micro, seq))
    mask = torch.ones(micro, seq, dtype=torch.long)
    mask[0, :7] = 0  # left padding: the masked attention path, as TRL's batches have

    def step():  # the backbone only: TRL's LM head runs a different (Triton) kernel on GPUs
        with torch.autocast("cpu", dtype=torch.bfloat16):
            hidden = backbone(input_ids=ids, attention_mask=mask).last_hidden_state
        hidden.float().pow(2).mean().backward()

    step()  # gradients exist from here on, as after the first micro-batch
    known = {q.untyped_storage().data_ptr() for q in model.parameters()} | {
        q.grad.untyped_storage().data_ptr() for q in model.parameters() if q.grad is not None}
    mode = _LivePeak(known)
    with mode:
        step()
    p = plan(CPU_MODEL, {"prompts_per_step": 1, "num_generations": micro, "max_prompt_length": 1, "max_completion_length": seq - 1,
                         "activation_checkpointing": checkpointing, "lora_r": lora_r}, 1, 80 * GB, advise=False)
    estimate = p.parts["activations"] + p.parts["bf16_weight_copies"]
    assert 0.9 <= estimate / mode.peak <= 1.3, (estimate, mode.peak)


# Smaller for generation: bf16 matmuls are slow on CPUs without native bf16.
CPU_GEN_MODEL = {**CPU_MODEL, "hidden_size": 128, "intermediate_size": 704, "num_hidden_layers": 2, "vocab_size": 2000}


@pytest.mark.parametrize("batch,prompt,new", [(8, 16, 32), (16, 64, 16)], ids=["decode-bound", "prefill-bound"])
def test_generation_estimate_tracks_live_tensors_on_cpu(batch, prompt, new):
    torch = pytest.importorskip("torch")
    model = _real_model(CPU_GEN_MODEL).train()  # TRL generates with the model in training mode
    model.forward = torch.autocast("cpu", dtype=torch.bfloat16)(model.forward)  # as accelerate does
    ids = torch.randint(1, 2000, (batch, prompt))
    mask = torch.ones_like(ids)
    mask[0, :3] = 0

    def generate():
        with torch.no_grad():
            model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new, min_new_tokens=new, do_sample=True,
                           temperature=0.6, top_k=0, pad_token_id=0)

    generate()
    mode = _LivePeak({q.untyped_storage().data_ptr() for q in model.parameters()})
    with mode:
        generate()
    p = plan(CPU_GEN_MODEL, {"prompts_per_step": 1, "num_generations": batch, "max_prompt_length": prompt,
                         "max_completion_length": new}, 1, 80 * GB, advise=False)
    estimate = p.parts["kv_cache"] + p.parts["generation_work"]
    assert 0.9 <= estimate / mode.peak <= 1.3, (estimate, mode.peak)


# ---------------------------------------------------------------------------------------------
# Answers for the paper's model.


def _refit(settings: dict, p, mem: int):
    """Plan each piece of advice again through the public API; all must fit."""
    assert p.advice and len(p.advice) == len(p.fixes)
    for fix in p.fixes:
        fix = dict(fix)
        gpus = fix.pop("gpus", p.gpus)
        again = plan(QWEN_MATH_15B, {**settings, **fix}, gpus, mem, advise=False)
        assert again.fits, (fix, again.total / GB)


def test_paper_settings_are_the_presets():
    from selector.runs import PRESETS

    preset = PRESETS["paper-qwen2.5-math-1.5b"]
    # the paper's settings, at the micro-batch the planner found for its 8 GPUs with vLLM (4, not 16)
    assert {k: preset[k] for k in PAPER} == {**PAPER, "micro_batch_size": EIGHT_GPU_VLLM["micro_batch_size"]}
    assert {k: preset[k] for k in EIGHT_GPU_VLLM} == EIGHT_GPU_VLLM


def test_paper_model_on_one_80gb_gpu_does_not_fit_and_every_advice_does():
    p = plan(QWEN_MATH_15B, PAPER, 1, parse_memory("80GB"))
    assert not p.fits and p.peak_phase == "generation"  # 1,024 completions' KV cache at once
    _refit(PAPER, p, parse_memory("80GB"))
    assert any("steps_per_generation" in a for a in p.advice) and any("--use-vllm" in a for a in p.advice)


def test_paper_model_on_eight_80gb_gpus_fits_without_vllm():
    p = plan(QWEN_MATH_15B, PAPER, 8, parse_memory("80GB"))
    assert p.fits and p.advice == [] and p.parts["ddp_buckets"] == p.parts["gradients"]


def test_paper_model_on_eight_gpus_with_vllm_needs_a_smaller_micro_batch():
    mem = parse_memory("80GB")
    preset = plan(QWEN_MATH_15B, {**PAPER, "use_vllm": True}, 8, mem)
    assert not preset.fits  # TRL's default vLLM share (0.3) + DDP buckets leave too little for micro-batches of 16
    _refit({**PAPER, "use_vllm": True}, preset, mem)
    assert plan(QWEN_MATH_15B, {**PAPER, **EIGHT_GPU_VLLM}, 8, mem).fits
    assert not plan(QWEN_MATH_15B, {**PAPER, **EIGHT_GPU_VLLM, "micro_batch_size": 8}, 8, mem).fits  # 4 is the largest


def test_one_gpu_80gb_preset_fits_with_the_largest_micro_batch():
    mem = parse_memory("80GB")
    p = plan(QWEN_MATH_15B, {**PAPER, **ONE_GPU_80GB}, 1, mem)
    assert p.fits and p.batch.generation_per_gpu == 128 and p.vllm_sequences >= 128  # one vLLM wave per chunk
    assert not plan(QWEN_MATH_15B, {**PAPER, **ONE_GPU_80GB, "micro_batch_size": 16, "steps_per_generation": 8}, 1, mem).fits


def test_lora_on_one_40gb_gpu_fits_with_the_largest_micro_batch():
    mem = parse_memory("40GB")
    assert not plan(QWEN_MATH_15B, PAPER, 1, mem).fits
    p = plan(QWEN_MATH_15B, {**PAPER, **LORA_40GB}, 1, mem)
    assert p.fits and p.parts["reference_model"] == 0 and p.trainable == ModelShape.from_config(QWEN_MATH_15B).lora_params(32)
    assert not plan(QWEN_MATH_15B, {**PAPER, **LORA_40GB, "micro_batch_size": 16}, 1, mem).fits


def test_json_has_parts_fits_and_advice():
    p = plan(QWEN_MATH_15B, PAPER, 1, parse_memory("80GB"))
    out = json.loads(json.dumps(p.to_json()))
    assert out["parts"]["weights"] == ModelShape.from_config(QWEN_MATH_15B).params() * 4
    assert out["fits"] is False and out["advice"] == p.advice and sum(out["parts"].values()) >= out["total"]
    assert [r["part"] for r in p.rows()][:2] == ["weights", "gradients"]


# ---------------------------------------------------------------------------------------------
# Inputs.

MEMORY_SIZES = [
    ("80GB", 80 * 10**9),
    ("80GiB", 80 * 2**30),
    ("81920MiB", 81920 * 2**20),  # nvidia-smi's unit
    (" 40 gb ", 40 * 10**9),  # spaces and case
    ("79.5GiB", int(79.5 * 2**30)),
    ("1TB", 10**12),
]


@pytest.mark.parametrize("text,expected", MEMORY_SIZES, ids=[t for t, _ in MEMORY_SIZES])
def test_parse_memory(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["80", "80G", "eighty GB", "0GB", "-5GB", ""],
                         ids=["no-unit", "ambiguous-unit", "words", "zero", "negative", "empty"])
def test_parse_memory_refuses_with_one_line(text):
    with pytest.raises(UserError) as e:
        parse_memory(text)
    assert "\n" not in str(e.value) and ("GB" in str(e.value) or "positive" in str(e.value))


def _fake_nvidia_smi(tmp_path, monkeypatch, body: str, visible=None):
    exe = tmp_path / "nvidia-smi"
    exe.write_text(f"#!/bin/sh\n{body}\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)


@pytest.mark.parametrize("body,visible,expected", [
    ("printf '0, 81559\\n1, 81559\\n'", None, [81559 * MiB, 81559 * MiB]),  # two H100 80GB
    ("printf '0, 81559\\n1, 40960\\n'", "1", [40960 * MiB]),  # CUDA_VISIBLE_DEVICES picks the GPU
    ("echo 'NVIDIA-SMI has failed' >&2; exit 9", None, None),  # driver not loaded
], ids=["two-gpus", "visible-devices", "failing"])
def test_detect_gpu_memory_reads_nvidia_smi(tmp_path, monkeypatch, body, visible, expected):
    _fake_nvidia_smi(tmp_path, monkeypatch, body, visible)
    assert detect_gpu_memories() == expected
    assert detect_gpu_memory() == (min(expected) if expected else None)


def test_detect_gpu_memory_without_nvidia_smi(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory
    assert detect_gpu_memory() is None



def test_load_model_config_from_a_directory_and_a_file(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(QWEN_MATH_15B))
    assert load_model_config(str(tmp_path)) == QWEN_MATH_15B == load_model_config(str(tmp_path / "config.json"))


@pytest.mark.parametrize("make,fragment", [
    (lambda d: str(d), "no config.json"),  # an empty directory
    (lambda d: (d / "config.json").write_text("{not json") and str(d), "cannot read"),
    (lambda d: str(d / "missing" / "dir"), "neither"),
    (lambda d: "no-such-org/no-such-model-xyz", "offline? pass a local directory"),  # HF_HUB_OFFLINE=1 in tests
], ids=["no-config", "bad-json", "missing-path", "hub-offline"])
def test_load_model_config_errors_in_one_line(tmp_path, monkeypatch, make, fragment):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError) as e:
        load_model_config(make(tmp_path))
    assert fragment in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("cfg,fragment", [
    ({**QWEN_MATH_15B, "model_type": "gpt2"}, "not planned"),
    ({k: v for k, v in QWEN_MATH_15B.items() if k != "vocab_size"}, "vocab_size"),
], ids=["unknown-family", "missing-key"])
def test_unsupported_configs_are_refused(cfg, fragment):
    with pytest.raises(UserError, match=fragment):
        plan(cfg, PAPER, 1, 80 * GB)


@pytest.mark.parametrize("change,gpus,fragment", [
    ({"micro_batch_size": 48}, 1, "does not divide"),
    ({}, 3, "do not split over 3 GPUs"),
    ({"prompts_per_step": None}, 1, "prompts_per_step"),
    ({"micro_batch_size": 4, "steps_per_generation": 1}, 1, "whole groups of 8"),
    ({"vllm_gpu_memory_utilization": 1.5}, 1, "vllm_gpu_memory_utilization"),
    ({"steps_per_generation": 2, "generation_batch_size": 256}, 1, "both set"),
], ids=["micro-not-divisor", "gpus-not-divisor", "missing-key", "partial-groups", "bad-share", "both-generation-sizes"])
def test_settings_errors_name_the_fix(change, gpus, fragment):
    with pytest.raises(UserError, match=fragment):
        plan(QWEN_MATH_15B, {**PAPER, **change}, gpus, 80 * GB)
