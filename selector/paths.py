"""Where things live on disk: the data directory and the store directory.

Both resolve the same way on every command: an explicit flag, else an environment variable,
else a default. Real public data (pools, histories, benchmarks) is never copied into this
repository; it is read from a data directory the user points at.
"""

import os
from pathlib import Path

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
