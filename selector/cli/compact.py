"""`select compact`: merge a stopped run's part files into one file per table.

    selector compact RUN_ID              # one run
    selector compact                     # every run that has stopped (finished, failed, interrupted, imported)
    selector compact --dry-run           # what would be merged

A training run writes a part file per table every 20 steps, and every query opens every part;
after compaction a run has one file per table. The rows are checked (count and a SHA-256 of
their content) before the parts go, and a kill at any moment leaves every row readable exactly
once (selector/store/compact.py explains how). A run still `running` is refused.
"""

from dataclasses import dataclass

from selector.cli.arguments import OutputOptions, add_command
from selector.config import StoreOptions, option

HELP = "merge a stopped run's part files into one file per table (rows checked before the parts go)"


@dataclass
class CompactConfig(StoreOptions, OutputOptions):
    run: str | None = option(None, "the run to compact (default: every run that has stopped)", positional=True,
                             metavar="RUN_ID")
    dry_run: bool = option(False, "show what would be merged and change nothing")


def make_parser(subparsers):
    return add_command(subparsers, "compact", HELP, __doc__, CompactConfig)


def main(cfg: CompactConfig) -> list[dict]:
    import sys

    from selector.cli.output import emit
    from selector.paths import store_dir
    from selector.store import Store
    from selector.store.compact import compact_run, stopped_runs

    store = Store.open(store_dir(cfg.store))
    runs = [cfg.run] if cfg.run else stopped_runs(store)
    rows = []
    for run_id in runs:
        for c in compact_run(store, run_id, cfg.dry_run):
            rows.append({"run_id": c.run_id, "table": c.table, "parts": c.parts, "after": 1 if c.merged else c.parts,
                         "rows": c.rows, "leftovers removed": c.removed})
    merged = [r for r in rows if r["after"] < r["parts"]]
    emit(rows, json_out=cfg.json, csv_out=cfg.csv, out=cfg.out,
         title=f"{'would compact' if cfg.dry_run else 'compacted'} {len(runs)} run(s) in {store.root}")
    print(f"{'would merge' if cfg.dry_run else 'merged'} {sum(r['parts'] for r in merged)} part files into {len(merged)}; "
          f"{sum(r['rows'] for r in rows):,} rows, each once", file=sys.stderr)
    return rows
