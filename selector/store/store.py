"""The store: append-only facts in Parquet shards, read as one DuckDB database.

Layout of a store directory (default ./rlvr-store):

    STORE.json                       {"schema_version": N, ...}
    views.sql                        the views, for the duckdb CLI: `cd STORE && duckdb -init views.sql`
    <table>/_schema/empty.parquet    zero rows with the table's types (so every glob matches)
    <table>/<shard>/<part>.parquet   facts written by one run (or one import, one ranking)
    <table>/<shard>/<last part>~compacted.parquet   a finished run's parts merged (`select compact`)
    notices.json                     warnings already shown for this store (selector/cli/notices.py)
    compactions                      changes when a compaction hides parts: readers re-list them

Why Parquet shards and not one .duckdb file: many processes (a sweep's array tasks, several
ranks) write at once, and DuckDB lets only one process open a database file for writing. Each
run writes only under its own shard directory; a part file is written to a temporary name and
renamed into place, so readers see whole files or nothing and never block a writer. A reader
opens an in-memory DuckDB whose views glob all shards, so new runs appear without a catalog.

Facts are never updated in place (schema.py lists the tables). Derived numbers (epoch accuracy,
the current ranking, eval scores, sweep tables) are defined once, as the views of views.sql,
whose header lists the public ones; scores themselves are one numpy function each in
selector/score.py, whose output `select rank` appends to `rankings`. The reads of this module
are plain lookups by key over those views; a module that needs another read owns its SQL
(analysis/data.py for the figures). Values always go in as bound parameters.
"""

import json
import os
import socket
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from selector.errors import UserError
from selector.store.schema import SCHEMA_VERSION, TABLES, arrow_schema

_VIEWS_FILE = Path(__file__).with_name("views.sql")
# strict: selector/grader.py, as the training reward; paper: selector/paper_grader.py, the authors' evaluation.
GRADING_MODES = ("strict", "paper")


def views_sql(root: str) -> str:
    """views.sql with every table path under `root` (absolute for our readers, `.` in a store's copy)."""
    return _VIEWS_FILE.read_text().replace("'{root}/", "'" + root + "/")


def now() -> datetime:
    """Current time in UTC, without tzinfo: every timestamp in the store is naive UTC (DuckDB
    would need pytz to hand back tz-aware values)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def code_version() -> str:
    from selector.version import __version__

    return __version__




class Store:
    """A store directory. `Store.open(path)` checks it; `Store.open(path, create=True)` makes it."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._reader = None  # the DuckDB connection of rows() and history_arrays(), made on first use
        self._hidden = (None, [])  # (compaction marker seen, the parts compacted files replace)
        self.grading_mode = "strict"  # which verdict the evaluation views read (views.sql `verdict`)

    def set_grading_mode(self, mode: str) -> "Store":
        """Read evaluations as the strict grader (the default) or the paper's evaluation graded them."""
        if mode not in GRADING_MODES:
            raise UserError(f"unknown grading mode {mode!r}; valid modes: {', '.join(GRADING_MODES)}")
        self.grading_mode = mode
        return self

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, root: str | Path, create: bool = False) -> "Store":
        store = cls(Path(root))
        meta = store.root / "STORE.json"
        if not meta.exists():
            if not create:
                raise UserError(f"no store at {store.root} (nothing recorded yet); run `selector rank ...` first or pass --store DIR")
            # Entries a store's own creation makes (possibly by another process right now: the ranks of
            # one `accelerate launch` all create a fresh --store at once): finishing it is safe,
            # every write of _create is atomic and skips what exists.
            own = set(TABLES) | {"views.sql", ".DS_Store"}
            if store.root.exists() and any(p.name not in own and not p.name.endswith(".tmp") for p in store.root.iterdir()):
                raise UserError(f"{store.root} is not empty and is not an rlvr-select store (no STORE.json); pass --store to a new or existing store directory")
            store._create()
        store._check_version()
        store._upgrade()
        return store

    def _upgrade(self) -> None:
        """Bring a store of this schema version up to date with additive changes: a table added
        since it was made gets its empty schema file, and views.sql is rewritten. Nothing recorded
        is touched. A read-only store that lacks a table cannot be read and says so."""
        missing = [t for t in TABLES if not (self.root / t / "_schema" / "empty.parquet").exists()]
        views = views_sql(".")
        stale = (self.root / "views.sql").exists() and (self.root / "views.sql").read_text() != views
        if not missing and not stale:
            return
        if not os.access(self.root, os.W_OK):
            if missing:
                raise UserError(f"store {self.root} was made by an older rlvr-select and lacks table(s) {', '.join(missing)}; "
                                "open it once where it is writable, or copy it")
            return
        self._write_schema_files(missing)
        _atomic_write_text(self.root / "views.sql", views)

    def _check_version(self) -> None:
        try:
            meta = json.loads((self.root / "STORE.json").read_text())
            version = int(meta["schema_version"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise UserError(f"{self.root}/STORE.json is unreadable or corrupt ({e}); restore it or use another --store") from None
        if version > SCHEMA_VERSION:
            raise UserError(f"store {self.root} has schema version {version}, newer than this rlvr-select reads ({SCHEMA_VERSION}); upgrade rlvr-select")
        if version < SCHEMA_VERSION:
            raise UserError(f"store {self.root} has schema version {version}, older than this rlvr-select reads ({SCHEMA_VERSION}); use a new --store or an older rlvr-select")

    def _create(self) -> None:
        self._check_writable(create=True)
        with self._write_errors():
            self._write_schema_files(TABLES)
            _atomic_write_text(self.root / "views.sql", views_sql("."))
            # Written last: a store is complete exactly when STORE.json exists.
            _atomic_write_text(self.root / "STORE.json", json.dumps(
                {"schema_version": SCHEMA_VERSION, "created_with": f"rlvr-select {code_version()}", "created_at": now().isoformat()}, indent=1))

    def _write_schema_files(self, tables) -> None:
        import pyarrow.parquet as pq

        for table in tables:
            target = self.root / table / "_schema" / "empty.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                tmp = target.with_name(f".empty-{uuid.uuid4().hex}.tmp")
                pq.write_table(arrow_schema(table).empty_table(), tmp)
                os.replace(tmp, target)

    def _check_writable(self, create: bool = False) -> None:
        probe = self.root
        while create and not probe.exists():
            probe = probe.parent
        if probe.exists() and not os.access(probe, os.W_OK):
            raise UserError(f"store directory {probe} is read-only; pass --store DIR (or set RLVR_STORE) to a writable directory")

    @contextmanager
    def _write_errors(self):
        try:
            yield
        except PermissionError as e:
            raise UserError(f"cannot write to store {self.root}: permission denied ({e.filename}); pass --store DIR to a writable directory") from None
        except OSError as e:
            raise UserError(f"cannot write to store {self.root}: {e.strerror or e}; free space or pass --store DIR") from None

    # --- writing -------------------------------------------------------------------------
    @contextmanager
    def writer(self, shard: str):
        """Append facts under `<table>/<shard>/`. On error, this writer's files are removed again,
        so a failed import or ranking leaves nothing half-written."""
        self._check_writable()
        w = ShardWriter(self, shard)
        try:
            with self._write_errors():
                yield w
                w.flush()
        except BaseException:
            w.discard()
            raise

    def run_writer(self, shard: str) -> "ShardWriter":
        """A writer for a long run: every flush is durable on its own and nothing is rolled back
        on a crash (unlike `writer`), so a crashed run keeps what it recorded."""
        self._check_writable()
        return ShardWriter(self, shard)

    # --- reading -------------------------------------------------------------------------
    def connect(self):
        """An in-memory DuckDB connection whose views read every shard of this store (less the parts
        a compacted file replaces, as they are when it connects; views.sql, `facts`)."""
        import duckdb

        con = duckdb.connect()
        root = str(self.root.resolve())
        with self.read_errors():
            con.execute(views_sql(root.replace("'", "''")))
        self._hidden = (_marker(self.root), hidden_parts(self.root, root))
        con.execute("SET VARIABLE rlvr_hidden_parts = ?", [self._hidden[1]])
        con.execute("SET VARIABLE rlvr_grading_mode = ?", [self.grading_mode])
        return con

    @contextmanager
    def read_errors(self):
        """A part file DuckDB cannot read (cut short by an interrupted copy, or not Parquet) is one
        line naming it, not a traceback from every command."""
        import duckdb

        try:
            yield
        except (duckdb.IOException, duckdb.InvalidInputException) as e:
            msg = str(e).splitlines()[0]
            if "parquet" not in msg.lower():
                raise
            raise UserError(f"store {self.root} has an unreadable part file ({msg}); move that file out of the store "
                            "(a copy cut short, or a file that is not Parquet)") from None

    def _reader_cursor(self):
        # One reader connection per Store, made on first use: creating the views reads the
        # metadata of every part file (a second or more on a store with thousands of parts),
        # while a query on an open connection re-expands the globs and so still sees new parts.
        if self._reader is None:
            self._reader = self.connect()
        elif _marker(self.root) != self._hidden[0]:  # a compaction since: one small read per query tells
            self._hidden = (_marker(self.root), hidden_parts(self.root, str(self.root.resolve())))
        cur = self._reader.cursor()  # a cursor is a connection of its own: it needs the variables too
        cur.execute("SET VARIABLE rlvr_hidden_parts = ?", [self._hidden[1]])
        cur.execute("SET VARIABLE rlvr_grading_mode = ?", [self.grading_mode])
        return cur

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        with self.read_errors():
            cur = self._reader_cursor().execute(sql, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    def frame(self, sql: str, params: list | None = None):
        """The result as a pandas DataFrame (NULL in a number column is NaN)."""
        with self.read_errors():
            return self._reader_cursor().execute(sql, params or []).df()

    def run(self, run_id: str) -> dict | None:
        found = self.rows("SELECT * FROM run_status WHERE run_id = ?", [run_id])
        return found[0] if found else None

    def runs(self, pool: str | None = None) -> list[dict]:
        return self.rows("SELECT run_id, kind, pool, model, status, created_at FROM run_status "
                         "WHERE ? IS NULL OR pool = ? ORDER BY created_at, run_id", [pool, pool])

    def history_arrays(self, run_id: str):
        """(ids, example, epoch, acc): one entry per (example, epoch), grouped by example in the
        order the run first met them (ties by id, numerically where ids are numbers), epochs
        ascending; `example` indexes `ids`. Flat numpy arrays, fetched without a Python object
        per entry (a 10M-rollout history has ~1.2M entries)."""
        import numpy as np

        with self.read_errors():
            got = self._reader_cursor().execute(
                "SELECT e.example_id, e.epoch, e.acc FROM epoch_accuracy e JOIN example_order o USING (run_id, example_id) "
                "WHERE e.run_id = ? ORDER BY o.first_seen, TRY_CAST(e.example_id AS BIGINT) NULLS LAST, e.example_id, e.epoch",
                [run_id]).fetchnumpy()
        names = np.asarray(got["example_id"], dtype=object)
        if not len(names):
            return [], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        new = np.concatenate([[True], names[1:] != names[:-1]])
        return (list(names[new]), np.cumsum(new) - 1, np.asarray(got["epoch"], dtype=np.int64),
                np.asarray(got["acc"], dtype=np.float64))

    def history(self, run_id: str) -> tuple[list[str], list[list[float]], list[list[int]]]:
        """(ids, accuracies, epochs): `history_arrays` as one list per example."""
        import numpy as np

        ids, example, epoch, acc = self.history_arrays(run_id)
        cuts = np.flatnonzero(np.diff(example)) + 1
        return ids, [a.tolist() for a in np.split(acc, cuts)] if ids else [], [e.tolist() for e in np.split(epoch, cuts)] if ids else []

    def ranking(self, ranking_id: str) -> list[dict]:
        return self.rows("SELECT * FROM rankings WHERE ranking_id = ? ORDER BY rank", [ranking_id])

    def has_ranking(self, ranking_id: str) -> bool:
        return bool(self.rows("SELECT 1 FROM rankings WHERE ranking_id = ? LIMIT 1", [ranking_id]))

    def latest_ranking_id(self, pool: str, score: str) -> str | None:
        got = self.rows("SELECT ranking_id FROM rankings WHERE pool = ? AND score = ? "
                        "ORDER BY created_at DESC, ranking_id DESC LIMIT 1", [pool, score])
        return got[0]["ranking_id"] if got else None

    def sweep_plan(self, sweep: str) -> list[dict]:
        return self.rows("SELECT * FROM sweeps WHERE sweep = ? ORDER BY position", [sweep])

    def latest_sweep(self) -> str | None:
        """The sweep planned last, leaving out dry-run plans none of whose runs has started."""
        got = self.rows("SELECT s.sweep FROM sweeps s LEFT JOIN (SELECT DISTINCT run_id FROM runs) r ON s.run_id = r.run_id "
                        "GROUP BY s.sweep HAVING NOT bool_and(coalesce(s.dry_run, false)) OR count(r.run_id) > 0 "
                        "ORDER BY max(s.created_at) DESC, s.sweep DESC LIMIT 1")
        return got[0]["sweep"] if got else None

    def dry_run_sweeps(self) -> list[str]:
        """Sweeps planned by a dry run with no run started yet (never the default sweep)."""
        got = self.rows("SELECT s.sweep FROM sweeps s LEFT JOIN (SELECT DISTINCT run_id FROM runs) r ON s.run_id = r.run_id "
                        "GROUP BY s.sweep HAVING bool_and(coalesce(s.dry_run, false)) AND count(r.run_id) = 0 "
                        "ORDER BY max(s.created_at) DESC, s.sweep DESC")
        return [r["sweep"] for r in got]

    def sweep_results(self, sweep: str) -> list[dict]:
        return self.rows("SELECT * FROM sweep_results WHERE sweep = ? ORDER BY position", [sweep])

    def sweep_summary(self, sweep: str) -> list[dict]:
        return self.rows("SELECT * FROM sweep_summary WHERE sweep = ? ORDER BY position", [sweep])

    def sweep_base(self, sweep: str) -> dict | None:
        got = self.rows("SELECT * FROM sweep_base WHERE sweep = ?", [sweep])
        return got[0] if got else None

    def run_eval_scores(self, run_id: str) -> list[dict]:
        return self.rows("SELECT * FROM eval_scores WHERE run_id = ? ORDER BY step, benchmark", [run_id])

    def example_history(self, run_id: str, example_id: str) -> list[dict]:
        return self.rows("SELECT epoch, n_correct, n, acc FROM epoch_accuracy WHERE run_id = ? AND example_id = ? "
                         "ORDER BY epoch", [run_id, example_id])


class ShardWriter:
    """Buffers rows per table and writes them as one Parquet part per table on `flush()`.

    Batched on purpose: a training step appends ~1k rollouts with one call and flushes once,
    never one insert per row.
    """

    def __init__(self, store: Store, shard: str):
        if not shard or "/" in shard or shard.startswith(("_", ".")):
            raise ValueError(f"bad shard name {shard!r}")
        self.store, self.shard = store, shard
        self._buf: dict[str, dict[str, list]] = {}
        self._written: list[Path] = []

    def append(self, table: str, rows: list[dict]) -> None:
        cols = TABLES[table]
        buf = self._buf.setdefault(table, {c: [] for c in cols})
        for row in rows:
            extra = set(row) - set(cols)
            if extra:
                raise ValueError(f"{table}: unknown column(s) {sorted(extra)}")
            for c in cols:
                buf[c].append(row.get(c))

    def flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        for table, cols in self._buf.items():
            if not cols[next(iter(cols))]:
                continue
            data = pa.table(cols, schema=arrow_schema(table))
            target_dir = self.store.root / table / self.shard
            target_dir.mkdir(parents=True, exist_ok=True)
            name = f"{now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            floor = compacted_upto(target_dir)
            if floor is not None and name <= floor:  # a clock behind the compaction's: sort after it, stay visible
                name = f"{floor}+{name}"
            tmp, target = target_dir / f".{name}.tmp", target_dir / f"{name}.parquet"
            pq.write_table(data, tmp, compression="zstd")
            os.replace(tmp, target)
            self._written.append(target)
        self._buf.clear()

    def discard(self) -> None:
        """Remove the parts this writer wrote (used when the operation as a whole failed)."""
        for path in self._written:
            path.unlink(missing_ok=True)
        self._written.clear()
        self._buf.clear()


COMPACTED = "~compacted"  # the suffix of a compacted part's name (selector/store/compact.py)
MARKER = "compactions"  # rewritten by every compaction step that changes which parts are hidden


def compacted_upto(shard_dir: Path) -> str | None:
    """The largest part name a compacted file in `shard_dir` replaces (the parts whose names sort
    at or below it are hidden), or None when the shard was never compacted."""
    covered = [p.stem[: -len(COMPACTED)] for p in shard_dir.glob(f"*{COMPACTED}.parquet")]
    return max(covered) if covered else None


def hidden_parts(root: Path, prefix: str) -> list[str]:
    """The part files that compacted files replace and that are still there (a compaction between
    its rename and its deletions, or killed there), as `prefix/<table>/<shard>/<part>` paths: the
    file names DuckDB's globs give, for `rlvr_hidden_parts` (views.sql, `facts`)."""
    if not (root / MARKER).exists():  # never compacted: nothing to look for
        return []
    out = []
    for shard in sorted({p.parent for p in root.glob(f"*/*/*{COMPACTED}.parquet")}):
        upto = compacted_upto(shard)
        out += [f"{prefix}/{shard.parent.name}/{shard.name}/{p.name}" for p in sorted(shard.glob("*.parquet")) if p.stem <= upto]
    return out


def _marker(root: Path) -> str | None:
    try:
        return (root / MARKER).read_text()  # a fresh random id per change: no clock or inode to trust
    except OSError:
        return None


def touch_marker(root: Path) -> None:
    """Tell open readers that the hidden parts changed (they re-list them at their next query)."""
    _atomic_write_text(root / MARKER, uuid.uuid4().hex)


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def host() -> str:
    return socket.gethostname()
