"""`select report`: the store as pictures and tables, in one directory openable offline.

    selector report                          # latest ranking, latest sweep and its pi1 run -> ./report/
    selector report --sweep NAME --out DIR   # that sweep (and its first 1-shot run)
    selector report --run RUN_ID             # that run's training curves and behaviour
    selector report --history-run RUN_ID     # rank sections from that history (e.g. an imported file)

Writes PNGs and index.html: 1. history heatmap, 2. score distribution and rank intervals,
3. score comparison (variance vs LIM vs learnability), 4. post-saturation generalization,
5. the sweep table, 6. behaviour over training (completion length, entropy, self-reflection
words). Everything comes from the store alone, so copied shards report on another machine. A
section the store has no data for says so and names the command that records it.
"""

import sys
from dataclasses import dataclass

from selector.cli.arguments import add_command
from selector.config import StoreOptions, option

HELP = "write PNG plots and an offline index.html of the store: ranking, sweep, training curves"


@dataclass
class ReportConfig(StoreOptions):
    out: str = option("report", "directory to write the PNGs and index.html into", metavar="DIR")
    run: str | None = option(None, "the trained run of the training-curve sections (default: the sweep's first 1-shot run)", metavar="RUN_ID")
    sweep: str | None = option(None, "the sweep of the sweep section (default: the latest sweep)", metavar="NAME")
    history_run: str | None = option(None, "the history behind the ranking sections (default: the run of the latest "
                                           "variance ranking)", metavar="RUN_ID")
    top: int = option(16, "how many top-ranked examples (pi1..piN) to mark and list", metavar="N")
    mode: str = option("strict", "whose verdicts the evaluation sections show: strict (our grader) or paper (the "
                                 "authors' evaluation, to set beside the paper's tables)")


def make_parser(subparsers):
    return add_command(subparsers, "report", HELP, __doc__, ReportConfig)


def main(cfg: ReportConfig) -> list:
    from analysis.data import open_store
    from analysis.report import build

    store = open_store(cfg.store).set_grading_mode(cfg.mode)

    def progress(section):
        state = f"no data: {section.missing}" if section.missing else (section.image or "table")
        print(f"  {section.title}: {state}", file=sys.stderr)

    print(f"report of store {store.root} -> {cfg.out}/", file=sys.stderr)
    sections = build(store, cfg.out, run=cfg.run, sweep=cfg.sweep, history_run=cfg.history_run, top=cfg.top, progress=progress)
    print(f"{cfg.out}/index.html")
    return sections
