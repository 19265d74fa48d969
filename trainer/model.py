"""Which model a command means: the embedded toy model, a local directory, or a hub id.

Checked before anything is recorded, so a model that cannot be loaded fails in one line.
"""

import os

from selector.errors import UserError

# A transformers model directory has a config and weights (safetensors or the older .bin).
_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


def model_path(model: str | None) -> str:
    """A loadable model: the toy model (built on first use), a local model directory, or a hub id
    we can reach (real users; offline it fails saying how to point at a local copy)."""
    if model is None:
        from trainer.toy_model import ensure_built

        return str(ensure_built())
    local = os.path.expanduser(model)
    if os.path.isdir(local):
        missing = [] if os.path.isfile(os.path.join(local, "config.json")) else ["config.json"]
        if not any(os.path.isfile(os.path.join(local, w)) for w in _WEIGHTS) and not os.path.isfile(os.path.join(local, "adapter_config.json")):
            missing.append("weights (model.safetensors or pytorch_model.bin)")
        if missing:
            raise UserError(f"{model} is not a model directory (no {' and no '.join(missing)}); pass a directory "
                            "written by save_pretrained, a checkpoint under <store>/checkpoints/RUN/, or a hub id")
        return local
    if os.path.exists(local) or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise UserError(f"{model} is not a model directory (it is a file or does not exist); pass a directory written by "
                        "save_pretrained or a hub id such as Qwen/Qwen2.5-Math-1.5B")
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise UserError(f"could not load model {model!r} ({first}); offline? point --model at a local copy "
                        f"(a directory with config.json, weights and tokenizer, e.g. from `hf download {model} --local-dir DIR`)") from None
    return model
