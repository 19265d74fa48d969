"""Dataclass configs to argparse and back (in the spirit of TRL's HfArgumentParser).

Every command declares its options as a dataclass whose fields carry `metadata={"help": ...}`
(`selector.config.option`); `add_arguments` turns the fields into flags (`data_dir` ->
`--data-dir`), and `from_args` builds the dataclass from the parsed namespace.
"""

import argparse
import dataclasses
import typing
from dataclasses import dataclass

from selector.config import option


@dataclass
class OutputOptions:
    """How a command prints its rows (shared by every command that prints a table)."""

    GROUP: typing.ClassVar[str] = "output"

    json: bool = option(False, "print JSON (a list of objects) instead of a table")
    csv: bool = option(False, "print CSV instead of a table")
    out: str | None = option(None, "also write the rows to FILE (.csv, .parquet or .json)", metavar="FILE")


def _base_type(tp):
    if typing.get_origin(tp) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0]
    return tp


def add_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """The dataclass's fields as flags: its own first, then each shared options class it inherits
    (store, output, training) as a titled group of its own, so `--help` reads in that order."""
    hints = typing.get_type_hints(cls)
    groups = [(None, set(cls.__dict__.get("__annotations__", {})))]
    for base in cls.__mro__[1:]:
        if dataclasses.is_dataclass(base):
            groups.append((getattr(base, "GROUP", base.__name__), set(base.__dict__.get("__annotations__", {}))))
    fields = {f.name: f for f in dataclasses.fields(cls)}
    done = set()
    for title, names in groups:
        target = parser if title is None else parser.add_argument_group(title)
        for name in [n for n in fields if n in names and n not in done]:
            _add_field(target, fields[name], hints[name])
            done.add(name)


def _add_field(parser, f: dataclasses.Field, hint) -> None:
    meta = dict(f.metadata)
    tp = _base_type(hint)
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
        return
    flags = [f"--{f.name.replace('_', '-')}"] + ([meta["short"]] if "short" in meta else [])
    if tp is bool:  # a flag; `bool | None` (None: the preset's) also gets its --no-... form
        action = argparse.BooleanOptionalAction if f.default is None else "store_true"
        parser.add_argument(*flags, dest=f.name, action=action, default=f.default, help=kwargs["help"])
        return
    if f.default is not None and "default:" not in kwargs["help"]:
        kwargs["help"] += f" (default: {f.default})"
    parser.add_argument(*flags, dest=f.name, type=tp, default=f.default, **kwargs)


def add_command(subparsers, verb: str, help: str, description: str, cls) -> argparse.ArgumentParser:
    """The parser of one command: its one-line help, its module docstring as the description (kept
    as written: the examples stay on their lines) and the config dataclass's fields as flags."""
    p = subparsers.add_parser(verb, help=help, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p, cls)
    return p


def from_args(cls, ns: argparse.Namespace):
    return cls(**{f.name: getattr(ns, f.name) for f in dataclasses.fields(cls)})
