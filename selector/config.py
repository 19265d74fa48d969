"""Dataclass fields that carry their own help text (in the spirit of TRL's dataclass configs).

Library configs (`selector.runs.TrainConfig`, ...) declare their fields with `option(default,
help, ...)`; `selector.cli.arguments` turns such dataclasses into argparse flags and back, so a
field added once is a flag of every command that uses the dataclass, and `main(cfg)` can be
called from tests and notebooks without argparse. Field metadata beside `help`:
`positional=True` (a positional argument), `choices`, `metavar`, `short` (an extra short flag).
"""

from dataclasses import dataclass, field
from typing import ClassVar


def option(default=None, help: str = "", **meta):
    """A dataclass field with CLI metadata."""
    return field(default=default, metadata={"help": help, **meta})


@dataclass
class StoreOptions:
    """Where a command reads and records: shared by every command that touches the store."""

    GROUP: ClassVar[str] = "store and data"  # the --help section of these options

    store: str | None = option(None, "store directory; default $RLVR_STORE, else ./rlvr-store", metavar="DIR")
    data_dir: str | None = option(None, "directory holding pools/, histories/, benchmarks/; default $RLVR_DATA_DIR, "
                                        "else ../shared/data or ./data", metavar="DIR")
