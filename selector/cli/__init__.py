"""The `select` / `selector` / `python -m selector` command line: parsers and dispatch only.

Each command lives in its own file in this folder, named after its verb, with a config
dataclass, `make_parser(subparsers)` and `main(cfg)` that calls the library (selector/,
trainer/, analysis/); this file registers them. Command files import nothing heavy at module
level, so `select --help` stays fast.

`select` is a reserved word in bash: `select rank ...` is a syntax error there. Use
`selector rank ...`, `command select rank ...` or `python -m selector rank ...`.
"""

import argparse
import importlib
import sys

# verb -> (module, config dataclass name)
VERBS = {
    "pools": ("selector.cli.pools", "PoolsConfig"),
    "rank": ("selector.cli.rank", "RankConfig"),
    "show": ("selector.cli.show", "ShowConfig"),
    "sql": ("selector.cli.sql", "SqlConfig"),
    "train": ("selector.cli.train", "TrainConfig"),
    "plan": ("selector.cli.plan", "PlanConfig"),
    "sweep": ("selector.cli.sweep", "SweepConfig"),
    "eval": ("selector.cli.eval", "EvalConfig"),
    "results": ("selector.cli.results", "ResultsConfig"),
    "report": ("selector.cli.report", "ReportConfig"),
    "export": ("selector.cli.export", "ExportConfig"),
    "compact": ("selector.cli.compact", "CompactConfig"),
    "toy": ("selector.cli.toy", "ToyConfig"),
    "history-stats": ("selector.cli.history_stats", "HistoryStatsConfig"),
    "validate": ("selector.cli.validate", "ValidateConfig"),
}

EPILOG = """\
examples:
  selector rank --pool dsr-sub --history ../shared/data/histories/dsr_sub_acc_step_500.json
  selector show pi13 --pool dsr-sub
  selector rank --pool toy && selector sweep --top 4 --pool toy --seeds 1,2
  selector eval --model Qwen/Qwen2.5-Math-1.5B --bench math6
  selector plan --preset paper-qwen2.5-math-1.5b-1gpu     # will it fit one 80 GB GPU?
  selector report --out report/ && open report/index.html
  selector export --pool dsr-sub --examples pi1 --copies 128     # exports/pi1_r128.parquet for verl
  selector sql "SELECT * FROM scores WHERE rank <= 16 ORDER BY score, rank"

`select` is a reserved word in bash (`select rank ...` is a syntax error there):
use `selector ...`, `command select ...` or `python -m selector ...`; all three are the same.
"""


def build_parser() -> argparse.ArgumentParser:
    from selector import __version__

    parser = argparse.ArgumentParser(
        prog="selector", description="Find the few training examples worth RL-training a language model on "
        "(1-shot RLVR, arXiv 2504.20571), and prove it.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"rlvr-select {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    from selector.cli import config_file

    for verb, (module, _) in VERBS.items():
        command = importlib.import_module(module).make_parser(sub)
        if verb in config_file.VERBS:
            config_file.add_flag(command)  # --config FILE.yaml
    parser.sub = sub
    return parser


def run(argv: list[str] | None = None) -> int:
    """Parse, dispatch, and turn a UserError into one line on stderr and exit code 2."""
    from selector.cli.arguments import from_args
    from selector.errors import UserError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.verb:
        parser.print_help()
        return 2
    module, config = VERBS[args.verb]
    mod = importlib.import_module(module)
    if getattr(args, "config_file", None):  # the file's options as defaults, then the flags again
        from selector.cli import config_file

        try:
            args = config_file.apply(parser, parser.sub, args, argv, getattr(mod, config))
        except UserError as e:
            print(f"{parser.prog}: error: {e}", file=sys.stderr)
            sys.exit(2)
    notices = _notices(parser.prog, args)
    try:
        try:
            mod.main(from_args(getattr(mod, config), args))
        finally:
            notices.finish()
    except UserError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # `selector rank ... | head`
        sys.stderr.close()
    return 0


def _notices(prog: str, args):
    """Warnings as one line each (a pool's bad golds once per store), and a word when the command
    made a new store (selector/cli/notices.py)."""
    from selector.cli.notices import Notices
    from selector.paths import store_dir

    notices = Notices(prog, store_dir(args.store) if hasattr(args, "store") else None)
    notices.start()
    return notices


if __name__ == "__main__":
    run()
