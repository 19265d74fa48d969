"""Dataclass configs to argparse and back (in the spirit of TRL's HfArgumentParser).

Every verb declares its options as a dataclass whose fields carry `metadata={"help": ...}`;
`add_arguments` turns the fields into flags (`data_dir` -> `--data-dir`), and `from_args`
builds the dataclass from the parsed namespace, so `main(cfg)` can also be called from tests
and notebooks without argparse. Field metadata: `positional=True` for a positional argument,
`choices`, `metavar`, `short` (an extra short flag).
"""

import argparse
import dataclasses
import typing
from dataclasses import dataclass, field


def option(default=None, help: str = "", **meta):
    """A dataclass field with CLI metadata."""
    return field(default=default, metadata={"help": help, **meta})


@dataclass
class StoreOptions:
    """Options every verb that touches the store shares (defined once)."""

    store: str | None = option(None, "store directory; default $RLVR_STORE, else ./rlvr-store", metavar="DIR")
    data_dir: str | None = option(None, "directory holding pools/, histories/, benchmarks/; default $RLVR_DATA_DIR, "
                                        "else ../shared/data or ./data", metavar="DIR")


@dataclass
class OutputOptions:
    json: bool = option(False, "print JSON (a list of objects) instead of a table")
    csv: bool = option(False, "print CSV instead of a table")
    out: str | None = option(None, "also write the rows to FILE (.csv, .parquet or .json)", metavar="FILE")


def _base_type(tp):
    if typing.get_origin(tp) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0]
    return tp


def add_arguments(parser: argparse.ArgumentParser, cls) -> None:
    hints = typing.get_type_hints(cls)
    own = set(cls.__dict__.get("__annotations__", {}))
    # The verb's own options first, the shared store/output options after them.
    for f in sorted(dataclasses.fields(cls), key=lambda f: f.name not in own):
        meta = dict(f.metadata)
        tp = _base_type(hints[f.name])
        kwargs = {"help": meta.get("help", "")}
        if "choices" in meta:
            kwargs["choices"] = meta["choices"]
        if "metavar" in meta:
            kwargs["metavar"] = meta["metavar"]
        if meta.get("positional"):
            if f.default is not dataclasses.MISSING:
                kwargs["nargs"] = "?"
                kwargs["default"] = f.default
            parser.add_argument(f.name, type=tp, **kwargs)
            continue
        flags = [f"--{f.name.replace('_', '-')}"] + ([meta["short"]] if "short" in meta else [])
        if tp is bool:
            parser.add_argument(*flags, dest=f.name, action="store_true", default=f.default, help=kwargs["help"])
        else:
            if f.default is not None and "default:" not in kwargs["help"]:
                kwargs["help"] += f" (default: {f.default})"
            parser.add_argument(*flags, dest=f.name, type=tp, default=f.default, **kwargs)


def from_args(cls, ns: argparse.Namespace):
    return cls(**{f.name: getattr(ns, f.name) for f in dataclasses.fields(cls)})
