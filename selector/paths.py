"""Where things live on disk: the data directory and the store directory.

Both resolve the same way on every command: an explicit flag, else an environment variable,
else a default. Real public data (pools, histories, benchmarks) is never copied into this
repository; it is read from a data directory the user points at.
"""

import os
from pathlib import Path

from selector.errors import UserError

DATA_ENV = "RLVR_DATA_DIR"
STORE_ENV = "RLVR_STORE"
DEFAULT_STORE = "rlvr-store"

# The checkout this package was imported from (useful for editable installs run from elsewhere).
_REPO = Path(__file__).resolve().parents[1]


def data_dir_candidates(explicit: str | Path | None = None) -> list[Path]:
    """Data directories to search, most specific first.

    `--data-dir`, then $RLVR_DATA_DIR, then `../shared/data` and `./data` relative to the
    working directory, then the same two relative to this checkout.
    """
    if explicit:
        return [Path(explicit).expanduser()]
    if os.environ.get(DATA_ENV):
        return [Path(os.environ[DATA_ENV]).expanduser()]
    cwd = Path.cwd()
    cands = [cwd.parent / "shared" / "data", cwd / "data", _REPO.parent / "shared" / "data", _REPO / "data"]
    seen, out = set(), []
    for c in cands:
        key = c.resolve()
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def find_data_file(relpath: str, explicit: str | Path | None = None) -> tuple[Path | None, list[Path]]:
    """Return (the first `<data_dir>/<relpath>` that exists or None, the directories searched)."""
    dirs = data_dir_candidates(explicit)
    for d in dirs:
        if (d / relpath).is_file():
            return d / relpath, dirs
    return None, dirs


def store_dir(explicit: str | Path | None = None) -> Path:
    """`--store DIR`, else $RLVR_STORE, else ./rlvr-store."""
    return Path(explicit or os.environ.get(STORE_ENV) or DEFAULT_STORE).expanduser()


def slug(name: str, limit: int) -> str:
    """A short, directory-safe label for a run or sweep id: the last path component of `name`
    (a pool's `file:` prefix and `?mapping` dropped), every character that is not a letter or a
    digit replaced by '-', cut to `limit` characters. Ids stay unique through the hash beside it."""
    base = name.removeprefix("file:").split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    return "".join(c if c.isalnum() else "-" for c in base)[:limit]


def read_hub(dataset: str, split: str, config: str | None = None, *, what: str, where: str) -> list[dict]:
    """Rows of a Hugging Face hub dataset, for users who have the hub (`what`: the pool or
    benchmark it is for; `where`: the local places already searched, for the error message).
    Offline, gated or missing: one line saying so and how to point at a local file."""
    try:
        from datasets import load_dataset
    except ImportError:
        raise UserError(f"{what}: {where}, and loading hub dataset {dataset} needs `pip install datasets`; "
                        "put the file there or pass --data-dir DIR") from None
    try:
        loaded = load_dataset(dataset, config, split=split) if config else load_dataset(dataset, split=split)
        return list(loaded.to_list() if hasattr(loaded, "to_list") else loaded)
    except Exception as e:  # noqa: BLE001 - the hub client raises many types (offline, gated, missing); re-raised as one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise UserError(f"{what}: {where}, and hub dataset {dataset} could not be loaded ({first}); "
                        "put the file there or pass --data-dir DIR") from None
