"""A decoder's shape from its config.json, and exact counts of its parameters and LoRA adapter.

    from selector.model_shape import ModelShape, load_model_config
    shape = ModelShape.from_config(load_model_config("Qwen/Qwen2.5-Math-1.5B"))   # or a local dir / config.json
    shape.params(), shape.lora_params(32)

Torch-free: config.json is read with `json`; a hub id fetches only config.json, with
huggingface_hub imported when needed. The counts are exact for the families in SUPPORTED
(tests/test_memory.py compares them with real models); the memory planner (selector/memory.py)
builds on them.
"""

import json
import os
from dataclasses import dataclass, field

from selector.errors import UserError

# Decoder families whose parameter layout is counted exactly (Qwen2: biases on q/k/v; Llama and
# Mistral: `attention_bias` on q/k/v/o and `mlp_bias`, both off by default).
SUPPORTED = ("qwen2", "llama", "mistral")


def _option(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class ModelShape:
    """The numbers of a decoder's config.json that decide its memory."""

    model_type: str = _option("qwen2", "config.json `model_type`")
    hidden: int = _option(0, "hidden_size")
    layers: int = _option(0, "num_hidden_layers")
    heads: int = _option(0, "num_attention_heads")
    kv_heads: int = _option(0, "num_key_value_heads (GQA); = heads when absent")
    head_dim: int = _option(0, "head_dim; hidden_size // heads when absent")
    intermediate: int = _option(0, "intermediate_size of the gated MLP")
    vocab: int = _option(0, "vocab_size")
    tied: bool = _option(False, "tie_word_embeddings: lm_head shares the embedding matrix")
    qkv_bias: bool = _option(False, "biases on q/k/v (always on Qwen2; `attention_bias` on Llama)")
    o_bias: bool = _option(False, "bias on o_proj (Llama's `attention_bias`)")
    mlp_bias: bool = _option(False, "biases on gate/up/down (Llama's `mlp_bias`)")
    max_positions: int = _option(0, "max_position_embeddings: vLLM's default max_model_len")

    @classmethod
    def from_config(cls, config: dict) -> "ModelShape":
        """Read a config.json dict; a model family we cannot count exactly is refused."""
        kind = config.get("model_type")
        if kind not in SUPPORTED:
            raise UserError(f"model_type {kind!r} is not planned (the planner counts {', '.join(SUPPORTED)} decoders exactly); "
                            "plan with a config of one of those families")
        missing = [k for k in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size")
                   if not isinstance(config.get(k), int)]
        if missing:
            raise UserError(f"config.json lacks {', '.join(missing)}; pass the model's own config.json")
        heads = config["num_attention_heads"]
        attention_bias = bool(config.get("attention_bias", False))
        return cls(
            model_type=kind, hidden=config["hidden_size"], layers=config["num_hidden_layers"], heads=heads,
            kv_heads=config.get("num_key_value_heads") or heads,
            head_dim=config.get("head_dim") or config["hidden_size"] // heads,
            intermediate=config["intermediate_size"], vocab=config["vocab_size"],
            # transformers' PretrainedConfig default is True; Qwen2Config and LlamaConfig default to False.
            tied=bool(config.get("tie_word_embeddings", False)),
            qkv_bias=kind == "qwen2" or attention_bias, o_bias=kind != "qwen2" and attention_bias,
            mlp_bias=kind != "qwen2" and bool(config.get("mlp_bias", False)),
            max_positions=config.get("max_position_embeddings") or 0,
        )

    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    def _linears(self) -> list[tuple[int, int, bool]]:
        """(in, out, bias) of each nn.Linear in one decoder layer: q, k, v, o, gate, up, down."""
        h, i = self.hidden, self.intermediate
        return [(h, self.q_dim, self.qkv_bias), (h, self.kv_dim, self.qkv_bias), (h, self.kv_dim, self.qkv_bias),
                (self.q_dim, h, self.o_bias), (h, i, self.mlp_bias), (h, i, self.mlp_bias), (i, h, self.mlp_bias)]

    def layer_linear_params(self) -> int:
        return sum(a * b + (b if bias else 0) for a, b, bias in self._linears())

    def params(self) -> int:
        """Exact parameter count: embeddings, per layer q/k/v/o (+biases), gate/up/down, two RMSNorm
        weights; the final norm; lm_head unless tied to the embeddings."""
        embed = self.vocab * self.hidden
        per_layer = self.layer_linear_params() + 2 * self.hidden
        return embed + self.layers * per_layer + self.hidden + (0 if self.tied else embed)

    def param_tensors(self) -> int:
        """Number of parameter tensors (AdamW keeps one `step` scalar per tensor)."""
        per_layer = sum(1 + bias for _, _, bias in self._linears()) + 2
        return 1 + self.layers * per_layer + 1 + (0 if self.tied else 1)

    def lora_params(self, r: int) -> int:
        """LoRA adapter size for peft's target_modules="all-linear": every nn.Linear of the decoder
        layers (peft leaves out the output layer, lm_head) gets A (r x in) and B (out x r)."""
        return self.layers * sum(r * (a + b) for a, b, _ in self._linears())

    def lora_tensors(self) -> int:
        return self.layers * len(self._linears()) * 2


def load_model_config(model: str) -> dict:
    """config.json of a local model directory, a .json file, or a hub id (only config.json is
    downloaded, with huggingface_hub; offline, the error says how to pass a local directory)."""
    path = os.path.expanduser(model)
    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
        if not os.path.isfile(path):
            raise UserError(f"{model} has no config.json; pass a model directory written by save_pretrained or a hub id")
    elif not os.path.isfile(path):
        if model.startswith((".", "/", "~")) or model.count("/") != 1:
            raise UserError(f"{model} is neither a model directory, a config.json file nor a hub id (org/name)")
        try:
            from huggingface_hub import hf_hub_download
            from huggingface_hub.errors import (
                HfHubHTTPError,
                HFValidationError,
                LocalEntryNotFoundError,
            )
        except ImportError:
            raise UserError(f"reading {model} from the hub needs huggingface_hub (pip install huggingface_hub); "
                            "or pass a local directory with config.json") from None
        try:
            path = hf_hub_download(model, "config.json")
        except (LocalEntryNotFoundError, HfHubHTTPError, HFValidationError, OSError, ValueError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
            raise UserError(f"cannot get config.json of {model!r} ({first}); offline? pass a local directory with its "
                            f"config.json, e.g. from `hf download {model} config.json --local-dir DIR`") from None
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {path} as JSON ({e}); pass the model's config.json") from None
    if not isinstance(config, dict):
        raise UserError(f"{path} is not a JSON object; pass the model's config.json")
    return config
