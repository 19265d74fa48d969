"""`select toy`: the embedded toy world (a generated arithmetic pool, a held-out toy benchmark
and a tiny Qwen2 model the project pre-trains itself on CPU).

    selector toy build            # pre-train the toy model into the cache (also done on first use)
    selector toy path             # print where the built model lives
    selector toy build --force    # rebuild

The model is saved with save_pretrained, so anything that takes a model path or hub id takes
it: `selector train --model $(selector toy path)`.
"""

from dataclasses import dataclass

from selector.cli.arguments import add_command
from selector.config import option

HELP = "build or locate the embedded toy model (tiny Qwen2 pre-trained on CPU to partial competence)"


@dataclass
class ToyConfig:
    action: str = option("build", "build (pre-train if not cached) or path (print the cached model's directory)",
                         positional=True, choices=["build", "path"], metavar="ACTION")
    seed: int = option(0, "seed of the toy world's data and model")
    force: bool = option(False, "rebuild even if a build is cached")


def make_parser(subparsers):
    return add_command(subparsers, "toy", HELP, __doc__, ToyConfig)


def main(cfg: ToyConfig) -> str:
    from selector.errors import require_extra

    require_extra("the toy model", modules=("torch", "transformers"))
    from trainer import toy_model

    path = toy_model.model_dir(cfg.seed) if cfg.action == "path" else toy_model.build(cfg.seed, force=cfg.force)
    print(path)
    return str(path)
