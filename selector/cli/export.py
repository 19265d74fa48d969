"""`select export`: chosen examples as a training file for verl, TRL or the hub.

    selector export --pool dsr-sub --examples pi1 --copies 128           # exports/pi1_r128.parquet, the authors' layout
    selector export --pool dsr-sub --examples pi1,pi13 --copies 128      # exports/merge_pi1_pi13_r128.parquet (64 + 64)
    selector export --pool toy --top 16 --format jsonl                    # pi1..pi16, one row each
    selector export --pool toy --examples pi1 --format hf --out DIR --push-to-hub USER/NAME

The examples are pi names of the pool's latest ranking (or example ids), or its top N. `--copies
N` makes the file N rows, split evenly over the examples, as the paper fills each batch of 128.
`verl` writes the authors' parquet layout (data_source, prompt, ability, reward_model.ground_truth,
extra_info.index): for a verl pool such as DSR-sub the pool file's own rows, so the file is the
one their data_selection.py writes. `jsonl` and `hf` write TRL's conversational layout (prompt,
answer, id, pi); `hf` is a `datasets` dataset saved with save_to_disk (`load_from_disk(DIR)`),
pushed to the hub only with --push-to-hub. A verl or jsonl file loads back as a pool: --pool file:PATH.
"""

import sys
from dataclasses import dataclass

from selector.cli.arguments import add_command
from selector.config import StoreOptions, option
from selector.errors import UserError

HELP = "write chosen examples (pi1, pi1+pi13, the top N) as a verl / TRL / hub training file, with copies"


@dataclass
class ExportConfig(StoreOptions):
    pool: str | None = option(None, "pool (see `selector pools`); default: the pool of the store's latest ranking")
    examples: str | None = option(None, "pi names of the pool's latest ranking or example ids, comma-separated "
                                        "(e.g. pi1,pi13)", metavar="LIST")
    top: int | None = option(None, "the first N of the pool's latest ranking instead of --examples", metavar="N")
    copies: int | None = option(None, "rows in the file, split evenly over the examples (the paper: 128, so "
                                      "pi1_r128.parquet); default: one row per example", metavar="N")
    format: str = option("verl", "verl (the authors' parquet layout), jsonl or hf (TRL's conversational layout; hf: "
                                 "a datasets dataset on disk)")
    out: str | None = option(None, "file (directory for hf); default: exports/<the authors' file name>", metavar="PATH")
    score: str = option("variance", "the ranking that pi names and --top refer to")
    data_source: str | None = option(None, "verl's data_source column (verl picks its reward function by it); "
                                           "default: a verl pool's own, else the pool's name", metavar="NAME")
    push_to_hub: str | None = option(None, "hf: also push the dataset to the hub under this repository id",
                                     metavar="REPO")


def make_parser(subparsers):
    return add_command(subparsers, "export", HELP, __doc__, ExportConfig)


def main(cfg: ExportConfig) -> str:
    from pathlib import Path

    from selector import export
    from selector.errors import require_extra
    from selector.paths import store_dir
    from selector.pools import load_pool
    from selector.score import get_score
    from selector.store import Store

    if cfg.format not in export.FORMATS:
        raise UserError(f"unknown format {cfg.format!r}; valid formats: {', '.join(export.FORMATS)}")
    if cfg.push_to_hub and cfg.format != "hf":
        raise UserError("--push-to-hub needs --format hf")
    get_score(cfg.score)
    root = store_dir(cfg.store)
    store = Store.open(root) if (root / "STORE.json").exists() else None
    name = cfg.pool or _latest_ranked_pool(store, cfg.score, root)
    pool = load_pool(name, cfg.data_dir)
    ids, names = export.choose(store, pool, cfg.examples, cfg.top, cfg.score)
    counts = export.copies_of(ids, cfg.copies)
    if cfg.format == "hf":
        require_extra("--format hf", modules=("datasets",), extra="hub")
    out = Path(cfg.out) if cfg.out else Path("exports") / export.default_name(ids, names, cfg.copies, cfg.format, cfg.top)
    try:
        rows = export.write(cfg.format, pool, ids, counts, names, out, cfg.data_source, cfg.push_to_hub)
    except OSError as e:
        raise UserError(f"cannot write {out}: {e.strerror or e}") from None
    what = ", ".join(f"{n or i} x{c}" for i, n, c in zip(ids, names, counts))
    print(f"wrote {rows} rows ({what}) to {out}" + (f", pushed to {cfg.push_to_hub}" if cfg.push_to_hub else "")
          + ("" if cfg.format == "hf" else f"; it loads back as a pool: --pool file:{out}"), file=sys.stderr)
    print(out)
    return str(out)


def _latest_ranked_pool(store, score: str, root) -> str:
    got = store.rows("SELECT pool FROM rankings WHERE score = ? ORDER BY created_at DESC, ranking_id DESC LIMIT 1",
                     [score]) if store else []
    if not got:
        raise UserError(f"give --pool NAME: store {root} has no {score} ranking to take the pool from")
    return got[0]["pool"]
