"""Importing an existing per-example accuracy history into the store.

The format is the one the paper's authors publish: a JSON object
`{"<example id>": [acc_1, acc_2, ...], ...}` where each accuracy is the fraction of one
appearance's rollouts judged correct (8 rollouts in the paper: 0, 0.125, ..., 1). Lists may have
different lengths (the authors' loader drops the last partial batch every epoch, so an example
sits some epochs out: 44 to 57 entries in their file). Keys are in order of first appearance in
training, and that order is kept: it is the tie-break of the paper's ranking.

An imported history becomes a run of kind `imported`; its id is derived from the file's content
and the pool, so importing the same file twice records it once.
"""

import hashlib
import json
import math
from pathlib import Path

from selector.errors import UserError
from selector.pools import Pool
from selector.paths import slug
from selector.store import RunLog, Store


def read_history(path: str | Path) -> tuple[dict[str, list[float]], str]:
    """Parse and check a history file. Returns ({id: accuracies} in file order, content digest)."""
    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"history file {path} does not exist") from None
    except OSError as e:
        raise UserError(f"cannot read history file {path}: {e.strerror}") from None
    try:
        # NaN / Infinity are legal in Python's json but not in a history: catch them by name.
        data = json.loads(raw.decode("utf-8"), parse_constant=lambda c: _bad_constant(path, c))
    except UnicodeDecodeError as e:
        raise UserError(f"history file {path} is not UTF-8 text (byte {e.start}); expected the JSON {{id: [acc, ...]}} format") from None
    except json.JSONDecodeError as e:
        raise UserError(f"history file {path} is not valid JSON (line {e.lineno} column {e.colno}: {e.msg}); truncated or corrupt?") from None
    except RecursionError:  # json recurses per nesting level: `[[[[...` is a traceback otherwise
        raise UserError(f"history file {path} nests JSON too deeply; expected the JSON {{id: [acc, ...]}} format") from None
    if not isinstance(data, dict) or not data:
        raise UserError(f"history file {path} must be a non-empty JSON object {{example_id: [acc_epoch_1, ...]}}")
    history = {}
    for key, accs in data.items():
        if not isinstance(accs, list) or not accs:
            raise UserError(f"history file {path}: example {key!r} must map to a non-empty list of accuracies")
        for i, a in enumerate(accs):
            if isinstance(a, bool) or not isinstance(a, (int, float)):
                raise UserError(f"history file {path}: example {key!r} entry {i + 1} is {a!r}, not a number")
            if not math.isfinite(a) or not 0.0 <= a <= 1.0:
                raise UserError(f"history file {path}: example {key!r} entry {i + 1} is {a!r}; accuracies must lie in [0, 1]")
        history[str(key)] = [float(a) for a in accs]
    return history, hashlib.sha256(raw).hexdigest()


def _bad_constant(path: Path, constant: str):
    raise UserError(f"history file {path} holds {constant}; accuracies must be finite numbers in [0, 1]")


def check_ids(history: dict[str, list[float]], pool: Pool, path: str | Path) -> None:
    """Every id of the history must be an example of the pool."""
    missing = [k for k in history if k not in pool.by_id]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise UserError(f"history {path}: {len(missing)} of {len(history)} example ids are not in pool {pool.name!r} ({shown}); is it the history of another pool?")


def import_history(store: Store, pool: Pool, path: str | Path, history: dict[str, list[float]], digest: str,
                   rollouts_per_entry: int | None = None) -> tuple[str, bool]:
    """Record a history read by `read_history` as an `imported` run. Returns (run id, whether it was new).

    The caller checks first (`read_history`, `check_ids`): a bad file leaves the store untouched.
    """
    check_ids(history, pool, path)
    # Readable and safe as a directory name; the hash covers the file and the full pool name.
    run_id = f"import-{slug(pool.name, 40)}-{hashlib.sha256(f'{digest}|{pool.name}'.encode()).hexdigest()[:12]}"
    if store.run(run_id) is not None:
        return run_id, False
    rows = [
        {"run_id": run_id, "example_id": ex_id, "first_seen": order, "epoch": epoch, "acc": acc, "n": rollouts_per_entry}
        for order, (ex_id, accs) in enumerate(history.items())
        for epoch, acc in enumerate(accs, 1)
    ]
    config = {"history_file": str(Path(path).expanduser().resolve()), "sha256": digest, "examples": len(history),
              "rollouts_per_entry": rollouts_per_entry, "pool_source": pool.source}
    with store.writer(run_id) as w:
        w.append("history_import", rows)
        RunLog(store, run_id, writer=w).record_import(pool=pool.name, config=config, detail=str(path))
    return run_id, True
