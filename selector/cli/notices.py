"""What the command line says around a command: warnings as one line each, a warning about a
pool's data shown once per store (not on every command), and where a new store was made.

A pool whose gold answers cannot be graded warns each time it is loaded (selector/pools.py). In
a store, that warning is shown the first time and then remembered in `<store>/notices.json` (the
hashes of the messages shown), so `rank`, `show`, `sweep` ... do not repeat it; `selector pools`
lists the count at any time. Nothing here is a fact of the store: deleting notices.json only
brings the warnings back.
"""

import hashlib
import json
import os
import sys
import uuid
from pathlib import Path

NOTICES = "notices.json"


class Notices:
    """Installed around one command: `start()` before it runs, `finish()` after (even on error)."""

    def __init__(self, prog: str, store: Path | None):
        self.prog, self.store = prog, store
        self.existed = store is not None and (store / "STORE.json").exists()
        self.shown = _read(store) if self.existed else set()
        self.pending: set[str] = set()

    def start(self) -> None:
        import warnings

        def show(message, category, filename, lineno, file=None, line=None):
            if self._once(category):
                key = hashlib.sha256(str(message).encode()).hexdigest()[:16]
                if key in self.shown:
                    return
                self.pending.add(key)
                message = f"{message} (shown once per store; `selector pools` counts them)"
            print(f"{self.prog}: warning: {message}", file=file or sys.stderr)

        warnings.showwarning = show

    def finish(self) -> None:
        """Remember the once-per-store warnings shown, and say where a new store was made."""
        if self.store is None or not (self.store / "STORE.json").exists():
            return
        if self.pending and os.access(self.store, os.W_OK):
            _write(self.store, self.shown | self.pending)
        if not self.existed:
            print(f"{self.prog}: new store at {self.store} (everything recorded goes there; --store DIR or $RLVR_STORE "
                  "picks another)", file=sys.stderr)

    @staticmethod
    def _once(category) -> bool:
        from selector.pools import BadGoldWarning

        return isinstance(category, type) and issubclass(category, BadGoldWarning)


def _read(store: Path) -> set[str]:
    try:
        return set(json.loads((store / NOTICES).read_text()).get("shown", []))
    except (OSError, ValueError, AttributeError):
        return set()  # none yet, or unreadable: show the warnings again


def _write(store: Path, shown: set[str]) -> None:
    tmp = store / f".{NOTICES}.{uuid.uuid4().hex}.tmp"
    try:
        tmp.write_text(json.dumps({"shown": sorted(shown)}))
        os.replace(tmp, store / NOTICES)
    except OSError:  # a full or read-only store: the warning simply shows again next time
        tmp.unlink(missing_ok=True)
