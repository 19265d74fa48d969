"""`select show`: one example in full: the problem, its answer, its history and its rank.

    selector show pi13 --pool dsr-sub          # the 13th of the latest variance ranking of dsr-sub
    selector show 682 --pool dsr-sub           # the same example by its id
    selector show pi1 --pool dsr-sub --score lim --json
    selector show RUN_ID --config > run.yaml    # a recorded run's options: selector train --config run.yaml

A pi name resolves through the latest ranking of the pool by the chosen score in the store. With
--config, NAME is a run id and the output is the YAML that reproduces the run (`--config FILE`
of train, rank, sweep and eval reads it).
"""

from dataclasses import dataclass

from selector.cli.arguments import add_command
from selector.config import StoreOptions, option
from selector.errors import UserError

HELP = "show one example: problem, answer, accuracy history, rank with its confidence interval"

@dataclass
class ShowConfig(StoreOptions):
    name: str = option(None, "pi<k> (the k-th of the latest ranking; also π<k>) or an example id", positional=True, metavar="NAME")
    pool: str = option("dsr-sub", "pool name (see `selector pools`) or file:PATH")
    score: str = option("variance", "which ranking a pi name refers to")
    json: bool = option(False, "print JSON instead of text")
    config: bool = option(False, "NAME is a run id: print its options as YAML for `--config` (reproduces the run)")


def make_parser(subparsers):
    return add_command(subparsers, "show", HELP, __doc__, ShowConfig)


def main(cfg: ShowConfig) -> dict:
    import json

    from selector.paths import store_dir
    from selector.pools import load_pool
    from selector.ranking import is_pi, resolve_name
    from selector.store import Store

    if not cfg.name:
        raise UserError("give an example: pi<k> or an example id, e.g. `selector show pi13 --pool dsr-sub`")
    if cfg.config:
        from selector.cli.config_file import run_yaml

        text = run_yaml(Store.open(store_dir(cfg.store)), cfg.name, cfg.data_dir)
        print(text, end="")
        return {"run_id": cfg.name, "yaml": text}
    pool = load_pool(cfg.pool, cfg.data_dir)
    root = store_dir(cfg.store)
    store = Store.open(root) if (root / "STORE.json").exists() or is_pi(cfg.name) else None
    example_id, ranking = resolve_name(store, pool.name, cfg.score, cfg.name)
    ex = pool.get(example_id)
    info = {"example_id": ex.id, "pool": pool.name, "answer": ex.answer, "problem": ex.problem,
            "bad_gold": pool.bad_golds.get(ex.id), "planted": ex.planted or None, "score": cfg.score}
    if ranking:
        mine = next((r for r in ranking if r["example_id"] == ex.id), None)
        info.update(run_id=ranking[0]["run_id"], ranking_id=ranking[0]["ranking_id"], of=len(ranking))
        if mine:
            info.update(rank=mine["rank"], pi=f"pi{mine['rank']}", value=mine["value"], ci_low=mine["ci_low"], ci_high=mine["ci_high"])
            hist = store.example_history(mine["run_id"], ex.id)
            info["history"] = [h["acc"] for h in hist]
            info["epochs"] = [h["epoch"] for h in hist]
    if cfg.json:
        print(json.dumps(info, indent=1, ensure_ascii=False, default=str))
        return info
    _print(info)
    return info


def _spark(values: list[float]) -> str:
    bars = " ▁▂▃▄▅▆▇█"
    return "".join(bars[min(8, round(v * 8))] for v in values)


def _print(info: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel

    console = Console()
    head = f"example {info['example_id']} of pool {info['pool']}"
    if "rank" in info:
        ci = f", 90% CI rank {info['ci_low']}-{info['ci_high']}" if info.get("ci_low") is not None else ""
        head = f"{info['pi']} ({info['score']} {info['value']:.4f}{ci}) = {head}, ranked over run {info['run_id']}"
    console.print(Panel(escape(info["problem"]), title=escape(head), title_align="left"))
    console.print(f"answer: {escape(info['answer'])!s}" + (f"   [red]unusable gold: {info['bad_gold']}[/red]" if info["bad_gold"] else "")
                  + (f"   [red]planted: {info['planted']}[/red]" if info.get("planted") else ""))
    if "history" in info:
        h = info["history"]
        mean = sum(h) / len(h) if h else float("nan")
        console.print(f"history: {len(h)} entries, mean accuracy {mean:.3f}  [cyan]{_spark(h)}[/cyan]")
        console.print("  " + " ".join(f"{a:.3g}" for a in h))
    elif info.get("of"):
        console.print(f"not in the {info['score']} ranking of run {info['run_id']} (the history never saw it)")
