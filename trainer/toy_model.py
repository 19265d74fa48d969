"""The toy world's tokenizer, tiny Qwen2 model, its CPU pre-training and its cache (the data: selector/toy.py).

- tokenizer: byte-level BPE in Qwen2's pipeline (single-digit numbers), ~400 tokens, with
  Qwen2.5-Math's special tokens and chat markup (below), so that rollouts and evaluation start
  and stop exactly as they do on Qwen2.5-Math.
- model: Qwen2ForCausalLM, hidden 96, 3 layers, 4 heads (2 KV heads), MLP 256, tied embeddings:
  345k parameters, initialised from torch.manual_seed(seed).
- pre-training: plain next-token loss on the completions of 2,400 x 32 generated (prompt, worked
  solution) pairs (never a pool or benchmark problem), AdamW lr 3e-3, 100 warm-up steps, linear
  decay; about 3 minutes on 2 CPU cores, deterministic for a seed.

Heavy imports (torch, transformers, tokenizers) stay inside functions.
"""

import json
import os
import random
import shutil
import time
from pathlib import Path

from selector import toy

# Qwen2.5-Math's markup. Its tokenizer_config.json: eos_token and pad_token `<|endoftext|>`, no
# bos token, `<|im_start|>` / `<|im_end|>` around each chat turn; the chat template (tools left
# out here) inserts the default system turn "Please reason step by step, and put your final answer
# within \\boxed{}." when the messages have none. Its generation_config.json stops at
# `<|endoftext|>`; the instruct model's and the authors' evaluation (Qwen2.5-Math evaluation, stop
# words "<|im_end|>", "<|endoftext|>") stop at `<|im_end|>` too. The toy model ends every
# assistant turn with `<|im_end|>` and declares both as eos ids in its generation config, so TRL
# (which stops at the tokenizer's eos and every eos id of the generation config) and
# trainer/evaluate.py:generate stop at `<|im_end|>`.
ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = (ENDOFTEXT, IM_START, IM_END)
DEFAULT_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\n" + DEFAULT_SYSTEM.replace("\\", "\\\\") + "<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'user' or (message.role == 'system' and not loop.first) or message.role == 'assistant' %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
# Text the tokenizer's merges are learnt from besides the toy problems: the paper's prompts.
EXTRA_TEXT = (
    "Let's think step by step and output the final answer within \\boxed{}.",
    "Please reason step by step, and put your final answer within \\boxed{}.",
)

# Model and pre-training recipe (part of toy.RECIPE_VERSION).
MODEL = {"hidden_size": 96, "intermediate_size": 256, "num_hidden_layers": 3, "num_attention_heads": 4,
         "num_key_value_heads": 2, "max_position_embeddings": 256}
TRAIN = {"steps": 2000, "batch_size": 32, "lr": 3e-3, "warmup": 100, "weight_decay": 0.01}
# Every core when the machine is otherwise idle, else one thread (trainer/threads.py says why).
THREADS = "auto"
COMPLETE_MARK = "toy_build.json"  # written last: its presence means the build is complete


def make_tokenizer():
    """A tiny byte-level BPE tokenizer with Qwen2's pipeline, as transformers' Qwen2Tokenizer.

    It has to be Qwen2's pipeline: AutoTokenizer rebuilds the tokenizer of a `qwen2` model as a
    Qwen2Tokenizer from the saved vocab and merges, whatever tokenizer.json says. Qwen2's
    pre-tokenizer splits numbers into single digits (what column arithmetic wants); the ~120
    merges, learnt from a fixed sample of toy problems, make the prompts' words single tokens.
    Special tokens as Qwen2.5-Math's: <|endoftext|> (eos and pad, no bos), <|im_start|>, <|im_end|>."""
    from tokenizers import (
        Regex,
        Tokenizer,
        models,
        normalizers,
        pre_tokenizers,
        trainers,
    )
    from transformers.models.qwen2.tokenization_qwen2 import (
        PRETOKENIZE_REGEX,
        Qwen2Tokenizer,
    )

    bpe = Tokenizer(models.BPE(unk_token=None, continuing_subword_prefix="", end_of_word_suffix="",
                               fuse_unk=False, byte_fallback=False))
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(
        vocab_size=512, min_frequency=20, show_progress=False, special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = [f"{q} {s}" for q, s in toy.sft_examples(-1, 3000, exclude=set())] + list(EXTRA_TEXT) * 100
    corpus += ["system\n", "user\n", "assistant\n"] * 100  # the role lines of the chat markup
    bpe.train_from_iterator(corpus, trainer)
    spec = json.loads(bpe.to_str())["model"]
    tok = Qwen2Tokenizer(
        vocab=spec["vocab"], merges=[tuple(m) for m in spec["merges"]], unk_token=None,
        bos_token=None, eos_token=ENDOFTEXT, pad_token=ENDOFTEXT,
        extra_special_tokens=[IM_START, IM_END], padding_side="left", clean_up_tokenization_spaces=False,
    )
    tok.chat_template = CHAT_TEMPLATE
    return tok


def render_prompt(question: str) -> str:
    """What CHAT_TEMPLATE renders for one user turn and the generation prompt (fast path)."""
    return (f"{IM_START}system\n{DEFAULT_SYSTEM}{IM_END}\n{IM_START}user\n{question}{IM_END}\n"
            f"{IM_START}assistant\n")


def encode_sft(tok, seed: int, n: int) -> list[tuple[list[int], int]]:
    """n pre-training sequences as (token ids, prompt length): the prompt, then the worked solution
    and the `<|im_end|>` that ends the assistant turn (the loss covers the solution and that stop)."""
    pairs = list(toy.sft_examples(seed, n))
    backend = tok.backend_tokenizer
    prompts = backend.encode_batch([render_prompt(q) for q, _ in pairs], add_special_tokens=False)
    sols = backend.encode_batch([s + IM_END for _, s in pairs], add_special_tokens=False)
    return [(p.ids + s.ids, len(p.ids)) for p, s in zip(prompts, sols)]


def stop_ids(tok) -> list[int]:
    """The ids generation stops at: `<|im_end|>` (end of the assistant turn), then `<|endoftext|>`."""
    return [tok.convert_tokens_to_ids(IM_END), tok.convert_tokens_to_ids(ENDOFTEXT)]


def make_model(tok, seed: int):
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    # As Qwen2.5-Math's config.json: bos and eos ids both <|endoftext|>.
    endoftext = tok.convert_tokens_to_ids(ENDOFTEXT)
    cfg = Qwen2Config(
        vocab_size=len(tok), tie_word_embeddings=True, rope_theta=10000.0, rms_norm_eps=1e-6,
        bos_token_id=endoftext, eos_token_id=endoftext, pad_token_id=tok.pad_token_id,
        use_cache=True, **MODEL,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(cfg)
    # Plain defaults (greedy, like an unconfigured hub model): callers choose how to sample.
    model.generation_config = GenerationConfig(
        bos_token_id=endoftext, eos_token_id=stop_ids(tok), pad_token_id=tok.pad_token_id, max_new_tokens=64,
    )
    return model


def is_complete(path: Path, seed: int, steps: int) -> bool:
    """A finished build of this recipe, seed and number of steps is at path."""
    try:
        info = json.loads((Path(path) / COMPLETE_MARK).read_text())
    except (OSError, ValueError):
        return False
    return info.get("recipe") == toy.RECIPE_VERSION and info.get("seed") == seed and info.get("steps") == steps


def cache_root() -> Path:
    """$RLVR_CACHE, else $XDG_CACHE_HOME/rlvr-select, else ~/.cache/rlvr-select."""
    if os.environ.get("RLVR_CACHE"):
        return Path(os.environ["RLVR_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "rlvr-select"


def model_dir(seed: int = 0) -> Path:
    """Where the toy model of this recipe and seed is cached."""
    return cache_root() / f"toy-{toy.RECIPE_VERSION}-seed{seed}"


def build(seed: int = 0, *, force: bool = False, progress: bool = True, out_dir: Path | None = None,
          steps: int | None = None) -> Path:
    """Pre-train the toy model (CPU, a few minutes) and save model + tokenizer with save_pretrained
    into model_dir(seed), or out_dir. Returns at once if a complete build is there (unless force).
    Written to a temporary folder and renamed into place, so an interrupted build leaves nothing
    half-made. `steps` overrides the number of pre-training steps (tests use a handful)."""
    out = Path(out_dir) if out_dir is not None else model_dir(seed)
    steps = TRAIN["steps"] if steps is None else int(steps)
    if not force and is_complete(out, seed, steps):
        return out
    import torch
    from tqdm.auto import tqdm

    bs = TRAIN["batch_size"]
    t0 = time.time()
    from trainer.threads import applied

    with applied(THREADS):
        tok = make_tokenizer()
        model = make_model(tok, seed)
        data = encode_sft(tok, seed, steps * bs)
        # Similar lengths in a batch (less padding), batches in a seeded random order.
        chunk = bs * 16
        data = [s for i in range(0, len(data), chunk) for s in sorted(data[i:i + chunk], key=lambda x: len(x[0]))]
        batches = [data[i:i + bs] for i in range(0, len(data), bs)]
        random.Random(f"toy-batches-{seed}").shuffle(batches)
        opt = torch.optim.AdamW(model.parameters(), lr=TRAIN["lr"], weight_decay=TRAIN["weight_decay"], betas=(0.9, 0.98))
        warm = min(TRAIN["warmup"], max(1, steps // 10))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / warm) * max(0.05, 1 - max(0, s - warm) / max(1, steps - warm)))
        model.train()
        bar = tqdm(range(steps), desc=f"toy pre-training (seed {seed})", disable=not progress, unit="step")
        ema = None
        for step in bar:
            batch = batches[step]
            width = max(len(ids) for ids, _ in batch)
            ids = torch.full((len(batch), width), tok.pad_token_id, dtype=torch.long)
            labels = torch.full((len(batch), width), -100, dtype=torch.long)
            for i, (seq, plen) in enumerate(batch):
                ids[i, :len(seq)] = torch.tensor(seq)
                labels[i, plen:len(seq)] = torch.tensor(seq[plen:])
            # Right padding needs no attention mask (causal attention never sees the pads that
            # follow a sequence), and without one SDPA takes its fast path.
            loss = model(input_ids=ids, labels=labels).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
            bar.set_postfix(loss=f"{ema:.3f}")
        model.eval()
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        info = {"recipe": toy.RECIPE_VERSION, "seed": seed, "steps": steps, "final_loss": ema,
                "params": sum(p.numel() for p in model.parameters()), "seconds": round(time.time() - t0, 1),
                "model": MODEL, "train": TRAIN, "slip_rates": toy.SLIP_RATES, "boxed_rate": toy.BOXED_RATE}
        (tmp / COMPLETE_MARK).write_text(json.dumps(info, indent=1))
        if not force and is_complete(out, seed, steps):  # a concurrent build finished first
            shutil.rmtree(tmp, ignore_errors=True)
            return out
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
        return out


def ensure_built(seed: int = 0) -> Path:
    """The toy model's folder, pre-training it first if needed."""
    return build(seed)
