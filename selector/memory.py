"""Memory planner: the bytes a GRPO run needs on each GPU, from a model's config.json alone.

    from selector.memory import load_model_config, plan, parse_memory
    p = plan(load_model_config("Qwen/Qwen2.5-Math-1.5B"), preset_values, gpus=1, gpu_memory_bytes=parse_memory("80GB"))
    p.fits, p.parts["weights"], p.advice

No weights are loaded and nothing here imports torch or transformers (a test checks it): the
shape of the model comes from config.json (a local directory, a .json file, or a hub id fetched
with huggingface_hub). The run is the one trainer/grpo.py starts: TRL 1.16's GRPOTrainer under
plain `accelerate launch` (DDP: every GPU holds a whole replica; ZeRO and FSDP are not modelled),
the model loaded in fp32 (TRL's default `dtype`), bf16 autocast when `bf16` is on, AdamW
(transformers' default `adamw_torch_fused`).

What is exact and what is an estimate:
- exact (tests compare them with real tensors): the parameter count, weights, gradients, AdamW
  states, the LoRA adapter, the reference model, the KV cache of transformers' generate.
- estimates (formulas below, each derived from what TRL/transformers/PyTorch save and checked
  on CPU against the live tensors of a tiny model): activations, the LM-head work, the bf16
  weight copies autocast keeps, generation's working memory, vLLM's share, the fixed overhead.

A run has two peaks that never overlap: generation (the KV cache of the whole generation batch)
and training (the activations of one micro-batch). `total` = the parts held all the time plus
the larger of the two phases; every part says which phase it belongs to. The forwards without
gradients that score log-probs (reference model, old policy) work one micro-batch at a time and
need less than training one; they are not a part of their own.

Worst case throughout: every batch is padded to max_prompt_length + max_completion_length (TRL
pads to the longest sequence of a batch, and one long rollout is enough). Activation formulas are
derived for an fp32 model under bf16 autocast (TRL's default and the paper preset's); for a bf16
model they are scaled by element size, a rougher estimate. GB means 10^9 bytes.
"""

import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field, fields, replace

from selector.errors import UserError
from selector.model_shape import ModelShape, load_model_config

GB = 10**9
GiB = 2**30
MiB = 2**20

# Phases of a part: held all the time, or only while generating / while training a micro-batch.
ALWAYS, GENERATION, TRAINING = "always", "generation", "training"

# TRL 1.16 trl/trainer/utils.py: the fused LM head scores tokens in tiles of TOKEN_CHUNK_SIZE
# (trl/kernels/chunked_logprob.py) x _CHUNKED_LOGPROB_CHUNK_SIZE vocabulary columns.
LM_HEAD_TOKEN_TILE = 4096
LM_HEAD_VOCAB_TILE = 32768

# CUDA context (~0.7 GiB on first use, PyTorch forum "What is the reason for pytorch's GPU memory
# floor"), cuBLAS workspaces and, with several GPUs, NCCL buffers. An allowance, not a measurement.
CUDA_OVERHEAD = int(1.5 * GiB)
# The caching allocator cannot hand out every free byte (fragmentation): keep this share free.
FRAGMENTATION_SHARE = 0.05
# vLLM's own use inside its share besides weights and KV cache: CUDA graphs and the profiling
# run's activations (max_num_batched_tokens=4096, as TRL sets it in colocate mode). An allowance.
VLLM_GRAPHS = 1 * GiB
VLLM_BATCHED_TOKENS = 4096
VLLM_MAX_SEQS = 256  # vLLM's default max_num_seqs: its sampler holds that many rows of logits

LORA_RANK_ADVICE = 32  # the rank suggested when LoRA is the way to fit; memory barely depends on it


def _option(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class Settings:
    """The run settings the planner reads, under the preset's keys (trainer/config.py). A preset
    dict has more keys; they do not change memory and are ignored. `None` = derived, as said."""

    prompts_per_step: int = _option(None, "distinct prompts per optimizer step (all GPUs together)")
    num_generations: int = _option(8, "rollouts per prompt (TRL's default 8)")
    micro_batch_size: int | None = _option(None, "completions per forward/backward on one GPU; None: all of a GPU's "
                                                 "completions at once (as trainer/grpo.py does)")
    max_prompt_length: int = _option(None, "longest prompt in tokens; the plan assumes a batch padded to it")
    max_completion_length: int = _option(256, "longest completion in tokens (TRL's default 256); the plan assumes it is reached")
    bf16: bool = _option(True, "bf16 autocast over fp32 weights (TRL's default True)")
    activation_checkpointing: bool | None = _option(None, "recompute each decoder layer in the backward; None: TRL's "
                                                          "default (GRPOConfig.gradient_checkpointing=True)")
    beta: float = _option(0.0, "KL coefficient; > 0 loads a reference model (TRL's default 0.0)")
    use_vllm: bool = _option(False, "generate with vLLM instead of transformers' generate")
    vllm_mode: str = _option("colocate", "colocate (vLLM shares each training GPU) or server (vLLM on other GPUs)")
    vllm_gpu_memory_utilization: float = _option(0.3, "share of each GPU vLLM takes in colocate mode (TRL's default 0.3)")
    vllm_enable_sleep_mode: bool = _option(False, "vLLM frees its share while training (TRL's sleep level 2)")
    vllm_max_model_length: int | None = _option(None, "vLLM's max_model_len; None: the model's max_position_embeddings")
    lora_r: int = _option(0, "LoRA rank on all linear layers; 0 = full fine-tuning")
    steps_per_generation: int | None = _option(None, "micro-steps served by one generation batch; None: TRL's default, "
                                                     "the gradient accumulation steps (one generation batch per optimizer step)")
    generation_batch_size: int | None = _option(None, "completions per generation on all GPUs together (TRL's other way to "
                                                      "set steps_per_generation; give one of the two)")
    fp16: bool = _option(False, "fp16 autocast instead of bf16: the same 2-byte sizes")
    model_dtype: str = _option("float32", "dtype the model is loaded in (TRL's default float32; model_init_kwargs['dtype'])")

    @classmethod
    def from_dict(cls, values: dict) -> "Settings":
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in values.items() if k in known and v is not None}
        if "activation_checkpointing" not in kw and values.get("gradient_checkpointing") is not None:
            kw["activation_checkpointing"] = values["gradient_checkpointing"]  # transformers' old name
        dtype = (values.get("model_init_kwargs") or {}).get("dtype")
        if dtype is not None and "model_dtype" not in kw:
            kw["model_dtype"] = str(dtype).removeprefix("torch.")
        s = cls(**kw)
        s.check()
        return s

    def check(self) -> None:
        for key in ("prompts_per_step", "max_prompt_length"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 1:
                raise UserError(f"settings lack {key} (a positive integer, got {getattr(self, key)!r}); pass the preset's values")
        for key in ("num_generations", "max_completion_length"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 1:
                raise UserError(f"{key} must be a positive integer, got {getattr(self, key)!r}")
        if self.model_dtype not in ("float32", "bfloat16"):
            raise UserError(f"model_dtype {self.model_dtype!r} is not planned; use float32 (TRL's default) or bfloat16")
        if self.vllm_mode not in ("colocate", "server"):
            raise UserError(f"vllm_mode {self.vllm_mode!r}: expected colocate or server")
        if not 0 < self.vllm_gpu_memory_utilization < 1:
            raise UserError(f"vllm_gpu_memory_utilization must be in (0, 1), got {self.vllm_gpu_memory_utilization}")
        if self.lora_r < 0:
            raise UserError(f"lora_r must be >= 0, got {self.lora_r}")

    @property
    def checkpointing(self) -> bool:
        return True if self.activation_checkpointing is None else bool(self.activation_checkpointing)


@dataclass(frozen=True)
class Batch:
    """How a step's completions split on `gpus` GPUs (TRL's GRPOConfig.__post_init__ rules)."""

    completions_per_gpu: int
    micro: int
    accumulation: int  # gradient_accumulation_steps
    steps_per_generation: int
    generation_per_gpu: int  # completions one GPU generates at once

    @classmethod
    def of(cls, s: Settings, gpus: int) -> "Batch":
        completions = s.prompts_per_step * s.num_generations
        if completions % gpus:
            raise UserError(f"{completions} completions per step do not split over {gpus} GPUs; pick a GPU count that divides them")
        per_gpu = completions // gpus
        micro = s.micro_batch_size or per_gpu
        if per_gpu % micro:
            raise UserError(f"micro_batch_size {micro} does not divide the {per_gpu} completions per GPU; pick a divisor of {per_gpu}")
        accumulation = per_gpu // micro
        if s.generation_batch_size and s.steps_per_generation:
            raise UserError("steps_per_generation and generation_batch_size are both set; TRL takes one of the two")
        if s.generation_batch_size:
            if s.generation_batch_size % (micro * gpus):
                raise UserError(f"generation_batch_size {s.generation_batch_size} is not a multiple of micro {micro} x {gpus} GPUs")
            spg = s.generation_batch_size // (micro * gpus)
        else:
            spg = s.steps_per_generation or accumulation
        if (micro * gpus * spg) % s.num_generations:
            raise UserError(f"a generation batch of {micro * gpus * spg} completions (micro {micro} x {gpus} GPUs x "
                            f"steps_per_generation {spg}) must hold whole groups of {s.num_generations}; raise steps_per_generation")
        return cls(per_gpu, micro, accumulation, spg, micro * spg)


def _layer_saved_per_token(m: ModelShape, s: Settings, seq: int, act: int, res: int) -> int:
    """Bytes one decoder layer saves for the backward, per token (no checkpointing). Counted from
    what autograd keeps in transformers' Qwen2/Llama layer under autocast (checked on CPU with
    saved_tensors_hooks on a tiny model, tests/test_memory.py), `act` = bytes of a bf16/fp32
    autocast output, `res` = bytes of the residual stream (the model's dtype):
      full fine-tuning: 2 RMSNorms x (input + normalised input) 4*res*h; the autocast copy of
        each linear's input 5*act*h (q, k, v, gate, up) + act*q (o); SDPA's q, repeated k, repeated
        v 3*act*q (its output is o_proj's input); the MLP's gate, silu, up, product 4*act*i; the
        log-sum-exp 4*heads; the boolean padding mask converted to an additive one act*seq; rstd 8.
      LoRA: frozen norm weights keep only their input (2*res*h); frozen linears keep no input, but
        each lora_A keeps its own cast input (5*act*h + act*q + act*i for down) and lora_B keeps
        lora_A's output (7*act*r); SDPA's output is kept apart (4*act*q)."""
    h, i, q = m.hidden, m.intermediate, m.q_dim
    common = 4 * m.heads + act * seq + 8
    if s.lora_r:
        return 2 * res * h + 5 * act * h + act * q + 4 * act * q + 4 * act * i + 7 * act * s.lora_r + common
    return 4 * res * h + 5 * act * h + act * q + 3 * act * q + 4 * act * i + common


def _backward_per_token(m: ModelShape, act: int, res: int) -> int:
    """Gradients alive while one layer runs its backward, per token (estimate): the residual's
    gradient in and out (2*res*h) and three of the MLP's intermediate gradients (3*act*i)."""
    return 2 * res * m.hidden + 3 * act * m.intermediate


def _prefill_per_token(m: ModelShape, act: int, res: int, prompt: int) -> int:
    """Working bytes per prompt token of one layer's no-grad forward at the prefill (estimate): the
    larger of the MLP stage (residual + normalised input 2*res*h, its cast act*h, silu(gate), up and
    their product 3*act*i) and the attention stage (q and k after RoPE in fp32 as cos/sin take the
    residual's dtype, k/v repeated for SDPA's masked path, their casts, the output, the mask)."""
    h, i, q, kv = m.hidden, m.intermediate, m.q_dim, m.kv_dim
    mlp = 2 * res * h + act * h + 3 * act * i
    attention = 2 * res * h + res * q + res * kv + act * kv + res * q + act * q + 3 * act * q + act * q + (1 + act) * prompt
    return max(mlp, attention)


def kv_bytes_per_token(m: ModelShape, s: Settings) -> int:
    """Bytes transformers' DynamicCache holds per token of one sequence during TRL's generate:
    layers x kv_heads x head_dim x (key bytes + value bytes). accelerate wraps the model's forward
    in autocast, so v_proj's output (the values) is bf16; RoPE multiplies the keys by cos/sin made
    in the residual stream's dtype, so with an fp32 model the keys are promoted back to fp32
    (checked against a real cache in tests/test_memory.py). The cache of a sequence holds
    prompt + completion - 1 tokens (the last sampled token is never fed back)."""
    weights = 4 if s.model_dtype == "float32" else 2
    return m.layers * m.kv_dim * (weights + _compute_bytes(s))


def _compute_bytes(s: Settings) -> int:
    """Bytes of an autocast output: 2 under bf16/fp16 autocast or with a bf16 model, else 4."""
    return 2 if (s.bf16 or s.fp16 or s.model_dtype == "bfloat16") else 4


@dataclass
class Plan:
    """Bytes per GPU of each part of a run, whether it fits, and the smallest changes that make it fit."""

    parts: dict[str, int]  # part -> bytes per GPU; `weights` is the model's weights
    phases: dict[str, str]  # part -> always | generation | training
    total: int  # the peak: parts held always + the larger phase
    peak_phase: str  # generation | training
    fits: bool
    gpu_memory: int
    gpus: int
    advice: list[str] = field(default_factory=list)  # each re-planned and checked to fit
    fixes: list[dict] = field(default_factory=list)  # the same advice as settings changes (+ "gpus")
    notes: list[str] = field(default_factory=list)  # assumptions and warnings that apply to this run
    params: int = 0
    trainable: int = 0
    batch: Batch | None = None
    vllm_sequences: int | None = None  # full-length sequences vLLM's KV cache holds at once

    def phase_total(self, phase: str) -> int:
        return sum(b for k, b in self.parts.items() if self.phases[k] in (ALWAYS, phase))

    def to_json(self) -> dict:
        return {"parts": dict(self.parts), "phases": dict(self.phases), "total": self.total, "peak_phase": self.peak_phase,
                "gpu_memory": self.gpu_memory, "gpus": self.gpus, "fits": self.fits, "advice": list(self.advice),
                "fixes": [dict(f) for f in self.fixes], "notes": list(self.notes), "params": self.params,
                "trainable": self.trainable, "batch": asdict(self.batch) if self.batch else None,
                "vllm_sequences": self.vllm_sequences}

    def rows(self) -> list[dict]:
        """Table rows: one per part, then the two phase totals, the peak and the GPU's memory (GB = 10^9 bytes)."""
        rows = [{"part": k, "phase": self.phases[k], "bytes": b, "GB": round(b / GB, 2)} for k, b in self.parts.items()]
        for phase in (GENERATION, TRAINING):
            b = self.phase_total(phase)
            rows.append({"part": f"= {phase} phase", "phase": phase, "bytes": b, "GB": round(b / GB, 2)})
        rows.append({"part": "= peak (" + ("fits" if self.fits else "DOES NOT FIT") + ")", "phase": self.peak_phase,
                     "bytes": self.total, "GB": round(self.total / GB, 2)})
        rows.append({"part": f"GPU memory x {self.gpus}", "phase": "", "bytes": self.gpu_memory, "GB": round(self.gpu_memory / GB, 2)})
        return rows


def _parts(m: ModelShape, s: Settings, gpus: int, gpu_memory: int) -> tuple[dict, dict, list[str], Batch, int, int, int | None]:
    b = Batch.of(s, gpus)
    prompt, completion = s.max_prompt_length, s.max_completion_length
    seq = prompt + completion
    wbytes = 4 if s.model_dtype == "float32" else 2
    act = _compute_bytes(s)
    res = wbytes  # the residual stream keeps the weights' dtype (embeddings are not autocast)
    n = m.params()
    lora = m.lora_params(s.lora_r) if s.lora_r else 0
    trainable = lora or n
    tensors = m.lora_tensors() if s.lora_r else m.param_tensors()
    parts, phases, notes = {}, {}, []

    def put(name, nbytes, phase):
        parts[name] = int(nbytes)
        phases[name] = phase

    # Weights: TRL loads the policy in fp32 (create_model_from_path's default dtype) and bf16=True
    # only autocasts, so the fp32 copy is the master copy. LoRA adds the adapter (peft upcasts
    # adapters to fp32, autocast_adapter_dtype=True).
    put("weights", n * wbytes + lora * 4, ALWAYS)
    # Gradients: one per trainable parameter, in its dtype. The Trainer sets them to None at each
    # optimizer step, so with one generation batch per step they do not exist while generating.
    in_generation = b.steps_per_generation < b.accumulation
    put("gradients", trainable * (4 if s.lora_r else wbytes), ALWAYS if in_generation else TRAINING)
    if gpus > 1:
        # DDP's reducer keeps its own bucket buffers, as big as all gradients, unless
        # gradient_as_bucket_view=True (accelerate's DistributedDataParallelKwargs default is False).
        put("ddp_buckets", trainable * (4 if s.lora_r else wbytes), ALWAYS)
    # AdamW: exp_avg and exp_avg_sq like each parameter, plus a 4-byte `step` per tensor.
    put("optimizer_states", 2 * trainable * (4 if s.lora_r else wbytes) + 4 * tensors, ALWAYS)
    # Reference model: with beta > 0 TRL builds a second copy in the policy's dtype; with peft it
    # uses the base model with the adapter disabled (no copy); beta = 0 loads none.
    put("reference_model", n * wbytes if s.beta > 0 and not s.lora_r else 0, ALWAYS)

    # Training a micro-batch: the backbone sees micro x (prompt + completion) tokens; TRL's fused
    # LM head scores only completion tokens (labels -100 elsewhere) on GPUs with Triton.
    tokens, scored = b.micro * seq, b.micro * completion
    per_layer = _layer_saved_per_token(m, s, seq, act, res)
    backward = _backward_per_token(m, act, res)
    final_norm = (1 if s.lora_r else 2) * res * m.hidden
    layer_linear = m.layers * m.layer_linear_params()
    layer_lora = m.lora_params(s.lora_r) // m.layers if s.lora_r else 0
    # bf16 copies of the weights: autocast casts each fp32 weight that requires grad once per
    # forward and caches it until the autocast region ends (aten/src/ATen/autocast_mode.cpp,
    # cached_cast); a linear also saves its weight's cast for the backward. Frozen (LoRA) weights
    # are cast again at each use, not cached, but saved for the backward all the same.
    if act == wbytes:
        all_copies = layer_copies = 0  # no autocast cast: compute dtype = the weights' dtype
    else:
        all_copies = (layer_linear + m.layers * layer_lora) * act
        layer_copies = (m.layer_linear_params() + layer_lora) * act
    if s.checkpointing:
        # Non-reentrant checkpointing keeps each layer's input (res*h per token); the backward
        # recomputes one layer at a time, so one layer's saved tensors exist at once, with its
        # weight casts. The forward's end holds the cache of every trainable weight's cast instead
        # (LoRA: only the adapter's): the part is whichever of the two needs more on top of the
        # stored inputs.
        held = tokens * (per_layer + backward)
        activations = tokens * (m.layers * res * m.hidden + final_norm) + held
        forward_cache = m.layers * layer_lora * act if s.lora_r else all_copies
        copies = max(layer_copies, forward_cache - held)
    else:
        activations = tokens * (m.layers * per_layer + backward + final_norm)
        copies = all_copies
    activations += b.micro * seq * seq  # the boolean 4-D padding mask (1 byte), shared by the layers
    put("activations", activations, TRAINING)
    put("bf16_weight_copies", copies, TRAINING)
    # LM head (TRL 1.16 add_fused_lm_head + trl/kernels/chunked_logprob.py): the (tokens x vocab)
    # logits are never materialised. Saved: the gathered completion hidden states (res*h each) and
    # two fp32 per-token values; working: one [4096 x 32768] tile (32768 columns even for a smaller
    # vocabulary) and the weight slice in the compute dtype, seven fp32 per-token statistics, the
    # fp32 gradient of the hidden states (and its scatter back to the whole sequence); with full
    # fine-tuning also the fp32 gradient of the whole LM-head weight (vocab x hidden x 4). This is
    # the CUDA path (Triton folds each tile in place); TRL's torch fallback on CPU allocates several
    # fp32 tiles more. An unfused head would hold micro x seq x vocab x 4 bytes instead.
    vocab_tile = min(m.vocab, LM_HEAD_VOCAB_TILE)
    logits = (scored * res * m.hidden + scored * 4 * 2  # saved
              + min(scored, LM_HEAD_TOKEN_TILE) * (LM_HEAD_VOCAB_TILE + m.hidden) * act + vocab_tile * m.hidden * act
              + scored * 4 * 9 + scored * 4 * m.hidden + tokens * res * m.hidden  # statistics, gradients
              + (0 if s.lora_r else m.vocab * m.hidden * 4))
    put("logits", logits, TRAINING)

    # Generation.
    vllm_sequences = None
    colocate = s.use_vllm and s.vllm_mode == "colocate"
    if s.use_vllm:
        put("kv_cache", 0, GENERATION)
        put("generation_work", 0, GENERATION)
        if colocate:
            share = int(s.vllm_gpu_memory_utilization * gpu_memory)
            # vLLM allocates its share at start-up (gpu_memory_utilization x total memory, per engine;
            # TRL starts one engine per GPU, tensor_parallel_size 1); sleep mode level 2 frees it
            # between generations (TRL calls llm.sleep(level=2) after generating).
            put("vllm_reserve", share, GENERATION if s.vllm_enable_sleep_mode else ALWAYS)
            max_len = s.vllm_max_model_length or m.max_positions or seq
            kv_token = m.layers * 2 * m.kv_dim * 2  # vLLM's KV cache is bf16
            own = (n * 2 + VLLM_GRAPHS + VLLM_BATCHED_TOKENS * _prefill_per_token(m, 2, 2, 0)
                   + VLLM_MAX_SEQS * m.vocab * 4 * 2)
            vllm_sequences = max(0, share - own) // (kv_token * max_len)
            if vllm_sequences < 1:
                notes.append(f"vLLM's share ({share / GB:.1f} GB) cannot hold one {max_len}-token sequence after its "
                             f"weights and working memory ({own / GB:.1f} GB): vLLM refuses to start")
            elif vllm_sequences < b.generation_per_gpu:
                notes.append(f"vLLM's KV cache holds about {vllm_sequences} of the {b.generation_per_gpu} sequences a GPU "
                             "generates at once: it generates them in waves (slower, not out of memory)")
        else:
            notes.append("vllm_mode=server: generation runs on separate GPUs, not counted here")
    else:
        # transformers' generate (TRL's regular path) over the whole local generation batch at once.
        kv_token = kv_bytes_per_token(m, s)
        kv_full = b.generation_per_gpu * seq * kv_token
        put("kv_cache", kv_full, GENERATION)
        # Working memory on top of the full cache at the peak: the larger of the prefill (prompt
        # cache + one layer over every prompt token + last-token logits) and the last decoding step
        # (a layer's cache copied by torch.cat, sampling's fp32 logits, attention scores), plus the
        # bf16 copies of every linear weight (incl. lm_head) cached by autocast for the forward.
        g = b.generation_per_gpu
        head = m.vocab * m.hidden
        gen_copies = 0 if act == wbytes else (layer_linear + head if not s.lora_r else head) * act
        prefill = g * prompt * (kv_token + _prefill_per_token(m, act, res, prompt)) + g * m.vocab * 4 * 3
        decode = kv_full + kv_full // m.layers + g * m.vocab * 4 * 4 + g * m.heads * seq * 4
        put("generation_work", gen_copies + max(prefill, decode) - kv_full, GENERATION)
    # The generation batch TRL keeps between generations (_buffered_inputs): prompt and completion
    # ids and masks (int64, 16 bytes per token), and per completion token up to four fp32 values
    # (old, reference and vLLM sampling log-probs, the importance ratio). An upper bound.
    put("generation_batch", b.generation_per_gpu * (16 * seq + 16 * completion), ALWAYS)
    put("overhead", CUDA_OVERHEAD + int(FRAGMENTATION_SHARE * gpu_memory), ALWAYS)
    if s.model_dtype == "bfloat16":
        notes.append("a bfloat16 model: the activation formulas (derived for fp32 weights under bf16 autocast) are scaled "
                     "by element size, a rougher estimate")
    if b.steps_per_generation < b.accumulation:
        notes.append(f"steps_per_generation={b.steps_per_generation} < gradient accumulation {b.accumulation}: each optimizer "
                     f"step is built from {b.accumulation // b.steps_per_generation} generation batches made with the same weights")
    return parts, phases, notes, b, n, trainable, vllm_sequences


def _evaluate(m: ModelShape, s: Settings, gpus: int, gpu_memory: int) -> Plan:
    parts, phases, notes, b, n, trainable, vllm_sequences = _parts(m, s, gpus, gpu_memory)
    always = sum(v for k, v in parts.items() if phases[k] == ALWAYS)
    gen = sum(v for k, v in parts.items() if phases[k] == GENERATION)
    train = sum(v for k, v in parts.items() if phases[k] == TRAINING)
    total = always + max(gen, train)
    fits = total <= gpu_memory and (vllm_sequences is None or vllm_sequences >= 1)
    return Plan(parts, phases, total, GENERATION if gen > train else TRAINING, fits, gpu_memory, gpus,
                notes=notes, params=n, trainable=trainable, batch=b, vllm_sequences=vllm_sequences)


# ---------------------------------------------------------------------------------------------
# Advice: the smallest changes that make a run fit, each checked by planning again.


def _divisors(n: int) -> list[int]:
    return [d for d in range(n, 0, -1) if n % d == 0]


def _fix_checkpointing(s: Settings, gpus: int, b: Batch) -> list[dict]:
    return [] if s.checkpointing else [{"activation_checkpointing": True}]


def _fix_micro(s: Settings, gpus: int, b: Batch) -> list[dict]:
    # Largest first: fewer, bigger micro-batches are faster. With steps_per_generation unset the
    # generation batch stays the whole step; set, it shrinks with the micro-batch.
    return [{"micro_batch_size": d} for d in _divisors(b.completions_per_gpu) if d < b.micro]


def _fix_chunks(s: Settings, gpus: int, b: Batch) -> list[dict]:
    clear = {"generation_batch_size": None} if s.generation_batch_size else {}
    return [{"steps_per_generation": d, **clear} for d in _divisors(b.accumulation)
            if d < b.steps_per_generation and (b.micro * gpus * d) % s.num_generations == 0]


def _fix_sleep(s: Settings, gpus: int, b: Batch) -> list[dict]:
    colocate = s.use_vllm and s.vllm_mode == "colocate"
    return [{"vllm_enable_sleep_mode": True}] if colocate and not s.vllm_enable_sleep_mode else []


def _fix_vllm(s: Settings, gpus: int, b: Batch) -> list[dict]:
    if s.use_vllm:
        return []
    # TRL's default share first; then others, the larger the faster vLLM generates.
    shares = [0.3] + [x / 100 for x in range(85, 10, -5) if x != 30]
    return [{"use_vllm": True, "vllm_mode": "colocate", "vllm_gpu_memory_utilization": u} for u in shares]


def _fix_lora(s: Settings, gpus: int, b: Batch) -> list[dict]:
    return [] if s.lora_r else [{"lora_r": LORA_RANK_ADVICE}]


def _fix_gpus(s: Settings, gpus: int, b: Batch) -> list[dict]:
    return [{"gpus": g} for g in (2, 4, 8, 16) if g > gpus]


# In order of how little each changes the run: memory-only knobs first (same algorithm, slower),
# then vLLM (another sampler, bf16 rollouts), more hardware, and LoRA last (another experiment).
FIXES = (("activation_checkpointing", _fix_checkpointing), ("micro_batch_size", _fix_micro),
         ("steps_per_generation", _fix_chunks), ("vllm_enable_sleep_mode", _fix_sleep), ("use_vllm", _fix_vllm),
         ("gpus", _fix_gpus), ("lora_r", _fix_lora))


def _apply(s: Settings, gpus: int, change: dict) -> tuple[Settings, int]:
    change = dict(change)
    gpus = change.pop("gpus", gpus)
    return replace(s, **change), gpus


def _try(m, s, gpus, mem, change) -> Plan | None:
    s2, g2 = _apply(s, gpus, change)
    try:
        p = _evaluate(m, s2, g2, mem)
    except UserError:  # e.g. a micro-batch that no longer splits the batch on more GPUs
        return None
    return p if p.fits else None


def _describe(change: dict, p: Plan) -> str:
    flags = []
    for k, v in change.items():
        if k == "gpus":
            flags.append(f"--processes {v} (train on {v} GPUs; `selector plan --gpus {v}` plans it)")
        elif k == "micro_batch_size":
            flags.append(f"--micro-batch-size {v}")
        elif k == "lora_r":
            flags.append(f"--lora-r {v}")
        elif k == "use_vllm":
            flags.append("--use-vllm")
        elif k == "vllm_mode" or v is None:
            continue
        else:
            flags.append(f"--set {k}={str(v).lower() if isinstance(v, bool) else v}")
    return f"{' '.join(flags)}: peak {p.total / GB:.1f} GB of {p.gpu_memory / GB:.1f} GB per GPU"


def _search(m: ModelShape, s: Settings, gpus: int, mem: int, depth: int, limit: int) -> list[tuple[dict, Plan]]:
    """Changes that make the run fit, as (settings change, its plan). Single changes first: for
    each kind in FIXES order, its first candidate that fits. Only when none does, pairs of kinds,
    then triples: for the first candidate of a kind that some later kind completes."""
    found: list[tuple[dict, Plan]] = []

    def extend(prefix: dict, s1: Settings, g1: int, kinds: tuple, left: int) -> None:
        for idx, (_, candidates) in enumerate(kinds):
            if len(found) >= limit:
                return
            try:
                b1 = Batch.of(s1, g1)
            except UserError:
                return
            for cand in candidates(s1, g1, b1):
                change = {**prefix, **cand}
                if left == 1:
                    fixed = _try(m, s, gpus, mem, change)
                    if fixed is not None:
                        found.append((change, fixed))
                        break
                else:
                    s2, g2 = _apply(s1, g1, cand)
                    before = len(found)
                    extend(change, s2, g2, kinds[idx + 1:], left - 1)
                    if len(found) > before:
                        break

    for size in range(1, depth + 1):
        extend({}, s, gpus, FIXES, size)
        if found:
            break
    return found[:limit]


def plan(model_config: dict, settings: dict, gpus: int, gpu_memory_bytes: int, *, advise: bool = True) -> Plan:
    """Plan a run: `model_config` is config.json as a dict, `settings` the preset's values (see
    Settings), `gpus` the data-parallel processes, `gpu_memory_bytes` one GPU's total memory.

    When the run does not fit, `advice` lists the smallest changes that make it fit, most
    preferred first (one change of each kind that works alone; else combinations of two or three
    kinds), each planned again and checked to fit; `fixes` holds them as settings changes."""
    if not isinstance(gpus, int) or gpus < 1:
        raise UserError(f"--gpus must be a positive integer, got {gpus!r}")
    if not isinstance(gpu_memory_bytes, int) or gpu_memory_bytes <= 0:
        raise UserError(f"GPU memory must be a positive number of bytes, got {gpu_memory_bytes!r}")
    m = ModelShape.from_config(model_config)
    s = Settings.from_dict(settings)
    p = _evaluate(m, s, gpus, gpu_memory_bytes)
    if not p.fits and advise:
        for change, fixed in _search(m, s, gpus, gpu_memory_bytes, depth=3, limit=4):
            p.fixes.append(change)
            p.advice.append(_describe(change, fixed))
        if not p.advice:
            p.advice.append(f"no single change nor combination of up to three (micro-batch, steps_per_generation, "
                            f"checkpointing, vLLM, more GPUs up to 16, LoRA) fits this model in {gpu_memory_bytes / GB:.1f} GB")
    return p


# ---------------------------------------------------------------------------------------------
# Inputs: config.json, memory sizes, the GPU's memory.


_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": GB, "tb": 10**12, "kib": 2**10, "mib": MiB, "gib": GiB, "tib": 2**40}


def parse_memory(text: str) -> int:
    """'80GB' (10^9 bytes), '80GiB' (2^30), '81920MiB', '1.5TB' -> bytes. A bare number or a unit
    like 'G' is refused: GPU vendors and tools disagree on what it means."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", str(text))
    if not match:
        raise UserError(f"memory size {text!r}: expected a number and a unit, e.g. 80GB, 80GiB or 81920MiB")
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit not in _UNITS:
        raise UserError(f"memory size {text!r}: unknown unit {match.group(2)!r}; use B, KB, MB, GB, TB (powers of 10) "
                        "or KiB, MiB, GiB, TiB (powers of 2)")
    value = int(number * _UNITS[unit])
    if value <= 0:
        raise UserError(f"memory size {text!r} must be positive")
    return value


def detect_gpu_memories() -> list[int] | None:
    """Total memory in bytes of each GPU this process may use (CUDA_VISIBLE_DEVICES as indices),
    from `nvidia-smi`; None when there is no nvidia-smi or it fails."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=index,memory.total", "--format=csv,noheader,nounits"],
                             check=False, capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    sizes = {}
    for line in out.stdout.strip().splitlines():
        cols = [c.strip() for c in line.split(",")]
        if len(cols) == 2 and cols[0].isdigit() and cols[1].isdigit():
            sizes[cols[0]] = int(cols[1]) * MiB  # nvidia-smi's "MiB"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip():
        wanted = [v.strip() for v in visible.split(",")]
        if all(v.isdigit() for v in wanted):  # UUIDs or MIG names: keep every GPU listed
            sizes = {k: v for k, v in sizes.items() if k in wanted}
    return list(sizes.values()) or None


def detect_gpu_memory() -> int | None:
    """The smallest visible GPU's total memory in bytes (DDP is limited by it), or None."""
    sizes = detect_gpu_memories()
    return min(sizes) if sizes else None


__all__ = [
    "GB",
    "Batch",
    "GiB",
    "MiB",
    "ModelShape",
    "Plan",
    "Settings",
    "detect_gpu_memories",
    "detect_gpu_memory",
    "kv_bytes_per_token",
    "load_model_config",
    "parse_memory",
    "plan",
]
