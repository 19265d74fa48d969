"""The store: append-only facts in Parquet shards, read as one DuckDB database.

Layout of a store directory (default ./rlvr-store):

    STORE.json                       {"schema_version": N, ...}
    views.sql                        the views below, for the duckdb CLI: `cd STORE && duckdb -init views.sql`
    <table>/_schema/empty.parquet    zero rows with the table's types (so every glob matches)
    <table>/<shard>/<part>.parquet   facts written by one run (or one import, one ranking)

Why Parquet shards and not one .duckdb file: many processes (a sweep's array tasks, several
ranks) write at once, and DuckDB lets only one process open a database file for writing. Each
run writes only under its own shard directory; a part file is written to a temporary name and
renamed into place, so readers see whole files or nothing and never block a writer. A reader
opens an in-memory DuckDB whose views glob all shards, so new runs appear without a catalog.

Facts are never updated in place. Derived numbers (epoch accuracy, the current ranking) are
defined once, as the views in `_VIEWS`; scores themselves are one numpy function each in
score.py, whose output `select rank` appends to `rankings`.

Every SQL string of the package lives in this file; values go in as bound parameters.
"""

import json
import os
import socket
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from selector.errors import UserError

SCHEMA_VERSION = 1

# Column name -> Arrow type name; turned into pyarrow schemas lazily (pyarrow is slow to import).
# `attempt` counts resumes of a run: when a resumed run records a step again, the views keep only
# the rows of the latest attempt for that (run, step), so nothing is double counted.
TABLES: dict[str, dict[str, str]] = {
    "runs": {
        "run_id": "string", "kind": "string", "pool": "string", "model": "string",
        "config": "string", "grader_version": "string", "code_version": "string",
        "created_at": "timestamp", "host": "string",
    },
    "run_events": {"run_id": "string", "event_time": "timestamp", "status": "string", "detail": "string"},
    "rollouts": {
        "run_id": "string", "attempt": "int32", "step": "int32", "epoch": "int32",
        "example_id": "string", "batch_index": "int32", "sample_index": "int32",
        "completion": "string", "extracted": "string", "reward": "float64", "correct": "bool",
        "formatted": "bool", "completion_tokens": "int32", "grader_version": "string",
    },
    "eval_samples": {
        "run_id": "string", "attempt": "int32", "step": "int32", "benchmark": "string",
        "problem_id": "string", "sample_index": "int32", "completion": "string",
        "extracted": "string", "correct": "bool", "formatted": "bool",
        "completion_tokens": "int32", "grader_version": "string",
    },
    # An external per-example history (the authors' JSON): one row per appearance.
    # first_seen = the key's position in the file (the authors write keys in order of first
    # appearance in training); epoch = the appearance number, 1-based.
    "history_import": {
        "run_id": "string", "example_id": "string", "first_seen": "int32", "epoch": "int32",
        "acc": "float64", "n": "int32",
    },
    # Per-step training metrics as TRL logs them (loss, kl, entropy, reward, completion length...).
    "metrics": {"run_id": "string", "attempt": "int32", "step": "int32", "name": "string", "value": "float64"},
    # A sweep's plan, written once when the sweep is first planned: which runs belong to it.
    # `command` is the `select train` command line of the run (what a SLURM array task runs).
    "sweeps": {
        "sweep": "string", "position": "int32", "run_id": "string", "label": "string", "grp": "string",
        "seed": "int64", "examples": "string", "config": "string", "command": "string", "options": "string",
        "created_at": "timestamp",
    },
    "rankings": {
        "ranking_id": "string", "run_id": "string", "pool": "string", "score": "string",
        "rank": "int32", "example_id": "string", "value": "float64", "ci_low": "int32",
        "ci_high": "int32", "n_bootstrap": "int32", "seed": "int64", "created_at": "timestamp",
        "code_version": "string",
    },
}

# `{root}` is the store directory: absolute for the package's own readers, `.` in views.sql.
_VIEWS = r"""
CREATE OR REPLACE VIEW runs AS SELECT * FROM read_parquet('{root}/runs/*/*.parquet', union_by_name = true);
CREATE OR REPLACE VIEW run_events AS SELECT * FROM read_parquet('{root}/run_events/*/*.parquet', union_by_name = true);
CREATE OR REPLACE VIEW history_import AS SELECT * FROM read_parquet('{root}/history_import/*/*.parquet', union_by_name = true);
CREATE OR REPLACE VIEW metrics_all AS SELECT * FROM read_parquet('{root}/metrics/*/*.parquet', union_by_name = true);
CREATE OR REPLACE VIEW metrics AS
SELECT * EXCLUDE (last_attempt) FROM (
    SELECT *, max(attempt) OVER (PARTITION BY run_id, step) AS last_attempt FROM metrics_all
) WHERE attempt = last_attempt;
CREATE OR REPLACE VIEW rankings AS SELECT * FROM read_parquet('{root}/rankings/*/*.parquet', union_by_name = true);
CREATE OR REPLACE VIEW rollouts_all AS SELECT * FROM read_parquet('{root}/rollouts/*/*.parquet', union_by_name = true);
CREATE OR REPLACE VIEW eval_samples_all AS SELECT * FROM read_parquet('{root}/eval_samples/*/*.parquet', union_by_name = true);

-- A resumed run may record a step again: keep the latest attempt's rows for each (run, step).
CREATE OR REPLACE VIEW rollouts AS
SELECT * EXCLUDE (last_attempt) FROM (
    SELECT *, max(attempt) OVER (PARTITION BY run_id, step) AS last_attempt FROM rollouts_all
) WHERE attempt = last_attempt;
CREATE OR REPLACE VIEW eval_samples AS
SELECT * EXCLUDE (last_attempt) FROM (
    SELECT *, max(attempt) OVER (PARTITION BY run_id, step) AS last_attempt FROM eval_samples_all
) WHERE attempt = last_attempt;

-- Each run with its latest status (events are appended; ties broken by status text).
CREATE OR REPLACE VIEW run_status AS
SELECT r.*, e.status, e.event_time AS updated_at, e.detail
FROM runs r LEFT JOIN (
    SELECT * FROM run_events QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY event_time DESC, status DESC) = 1
) e USING (run_id);

-- Training accuracy of each example at each epoch, from recorded rollouts and imported histories.
-- For an imported history an "epoch" is an appearance (the authors' loader drops the last
-- partial batch every epoch, so an example can sit an epoch out).
CREATE OR REPLACE VIEW epoch_accuracy AS
SELECT run_id, example_id, epoch, count_if(correct) AS n_correct, count(*) AS n, avg(correct::DOUBLE) AS acc
FROM rollouts GROUP BY run_id, example_id, epoch
UNION ALL BY NAME
SELECT run_id, example_id, epoch, CAST(round(acc * n) AS BIGINT) AS n_correct, CAST(n AS BIGINT) AS n, acc
FROM history_import;

-- The order in which each run first met each example: the tie-break of every ranking.
CREATE OR REPLACE VIEW example_order AS
SELECT run_id, example_id, CAST(min(first_seen) AS BIGINT) AS first_seen FROM history_import GROUP BY run_id, example_id
UNION ALL BY NAME
SELECT run_id, example_id,
       row_number() OVER (PARTITION BY run_id ORDER BY min(step), arg_min(batch_index, step), example_id) - 1 AS first_seen
FROM rollouts GROUP BY run_id, example_id;

CREATE OR REPLACE VIEW sweeps AS SELECT * FROM read_parquet('{root}/sweeps/*/*.parquet', union_by_name = true);

-- Unbiased pass@k from n samples of which c are correct (Chen et al. 2021, "Evaluating Large
-- Language Models Trained on Code"): 1 - C(n-c, k) / C(n, k), computed as their numerically
-- stable product 1 - prod(1 - k/i) over i = n-c+1 .. n. NULL when k > n.
CREATE OR REPLACE MACRO pass_at_k(n, c, k) AS
    CASE WHEN k > n THEN NULL WHEN n - c < k THEN 1.0
         ELSE 1.0 - coalesce(list_product(list_transform(range(CAST(n - c + 1 AS BIGINT), CAST(n + 1 AS BIGINT)), lambda i: 1.0 - k / i)), 1.0) END;

-- Each evaluated problem at each step: n samples, c correct.
CREATE OR REPLACE VIEW eval_problems AS
SELECT run_id, step, benchmark, problem_id, count(*) AS n, count_if(correct) AS c, min(grader_version) AS grader_version
FROM eval_samples GROUP BY run_id, step, benchmark, problem_id;

-- Each benchmark's score at each step: accuracy = the mean over problems of c/n (avg@n, which is
-- pass@1; the paper's "avg@8"), and pass@n with n the samples per problem. Other k:
-- SELECT avg(pass_at_k(n, c, 4)) FROM eval_problems WHERE ...
CREATE OR REPLACE VIEW eval_scores AS
SELECT run_id, step, benchmark, count(*) AS problems, min(n) AS samples, avg(c / n) AS accuracy,
       avg(pass_at_k(n, c, n)) AS pass_at_n, min(grader_version) AS grader_version
FROM eval_problems GROUP BY run_id, step, benchmark;

-- The average over benchmarks at each step (the paper's "average of the six").
CREATE OR REPLACE VIEW eval_average AS
SELECT run_id, step, count(*) AS n_benchmarks, string_agg(benchmark, ',' ORDER BY benchmark) AS benchmarks, avg(accuracy) AS accuracy
FROM eval_scores GROUP BY run_id, step;

-- Each run's evaluation in brief: before training (step 0), at its last evaluated step, and at
-- its best step (the earliest of equals).
CREATE OR REPLACE VIEW run_eval_summary AS
WITH a AS (SELECT *, max(accuracy) FILTER (WHERE step > 0) OVER (PARTITION BY run_id) AS top FROM eval_average)
SELECT run_id, any_value(benchmarks) AS benchmarks,
       max(accuracy) FILTER (WHERE step = 0) AS base,
       arg_max(accuracy, step) FILTER (WHERE step > 0) AS final, max(step) FILTER (WHERE step > 0) AS final_step,
       any_value(top) AS best, min(step) FILTER (WHERE step > 0 AND accuracy = top) AS best_step
FROM a GROUP BY run_id;

-- Every planned run of every sweep with its status and evaluation summary.
CREATE OR REPLACE VIEW sweep_results AS
SELECT s.sweep, s.position, s.label, s.grp, s.seed, s.run_id, coalesce(r.status, 'planned') AS status,
       e.benchmarks, e.base, e.final, e.final_step, e.best, e.best_step
FROM sweeps s LEFT JOIN run_status r USING (run_id) LEFT JOIN run_eval_summary e USING (run_id);

-- A sweep in the paper's table form: each planned item (pi1, the set pi1+pi13, random, bottom, full
-- pool, ...) over its seeds; mean and sample standard deviation over the seeds that have evals.
CREATE OR REPLACE VIEW sweep_summary AS
SELECT sweep, min(position) AS position, label, grp, count(*) AS runs, count_if(status = 'finished') AS finished,
       any_value(benchmarks) AS benchmarks, avg(base) AS base, avg(final) AS final, stddev_samp(final) AS final_sd,
       avg(best) AS best, stddev_samp(best) AS best_sd
FROM sweep_results GROUP BY sweep, label, grp;

-- The base model of a sweep: the mean of its runs' evaluations before training (step 0).
CREATE OR REPLACE VIEW sweep_base AS
SELECT sweep, avg(base) AS base, count(*) AS runs, any_value(benchmarks) AS benchmarks
FROM sweep_results WHERE base IS NOT NULL GROUP BY sweep;

-- Training accuracy of each example at each step: a 1-shot run's curve on its own example.
CREATE OR REPLACE VIEW step_accuracy AS
SELECT run_id, step, example_id, count_if(correct) AS n_correct, count(*) AS n, avg(correct::DOUBLE) AS acc
FROM rollouts GROUP BY run_id, step, example_id;

-- Self-reflection words in a completion (the paper's Fig. 4 counts "rethink", "recheck" and
-- "recalculate"; re-evaluate, re-examine and double-check are the same behaviour in other words).
-- Counted case-insensitively, each occurrence once, with or without a hyphen ("re-check").
CREATE OR REPLACE MACRO reflection_words(text) AS
    len(regexp_extract_all(lower(text), '\b(re-?think|re-?check|re-?calculat|re-?evaluat|re-?examin|double[- ]?check)'));

-- Each run's training behaviour per step: from its rollouts (accuracy over the batch, completion
-- length, self-reflection) and from the trainer's logged metrics (policy entropy, KL, loss).
CREATE OR REPLACE VIEW train_behaviour AS
WITH r AS (
    SELECT run_id, step, count(*) AS rollouts, avg(correct::DOUBLE) AS accuracy, avg(completion_tokens) AS completion_tokens,
           avg(reflection_words(completion)) AS reflection_words, avg((reflection_words(completion) > 0)::DOUBLE) AS reflection_rate
    FROM rollouts GROUP BY run_id, step
), m AS (
    SELECT run_id, step, any_value(value) FILTER (WHERE name = 'entropy') AS entropy, any_value(value) FILTER (WHERE name = 'kl') AS kl,
           any_value(value) FILTER (WHERE name = 'loss') AS loss
    FROM metrics GROUP BY run_id, step
)
SELECT * FROM r LEFT JOIN m USING (run_id, step);

-- Each run's test completions per evaluated step and benchmark: length and self-reflection.
CREATE OR REPLACE VIEW eval_behaviour AS
SELECT run_id, step, benchmark, count(*) AS completions, avg(completion_tokens) AS completion_tokens,
       avg(reflection_words(completion)) AS reflection_words, avg((reflection_words(completion) > 0)::DOUBLE) AS reflection_rate
FROM eval_samples GROUP BY run_id, step, benchmark;

-- The step at which a run's training accuracy saturates: the first step whose accuracy over its
-- batch, averaged over that step and the 4 before it, reaches 90%. NULL if it never does.
CREATE OR REPLACE VIEW run_saturation AS
SELECT run_id, min(step) FILTER (WHERE smoothed >= 0.9) AS saturation_step FROM (
    SELECT run_id, step, avg(accuracy) OVER (PARTITION BY run_id ORDER BY step ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS smoothed
    FROM train_behaviour
) GROUP BY run_id;

-- The latest ranking of each (run, score); `select rank` appends rankings, never edits them.
CREATE OR REPLACE VIEW scores AS
SELECT * FROM rankings WHERE ranking_id IN (
    SELECT ranking_id FROM (SELECT DISTINCT run_id, score, ranking_id, created_at FROM rankings)
    QUALIFY row_number() OVER (PARTITION BY run_id, score ORDER BY created_at DESC, ranking_id DESC) = 1
);
"""


def now() -> datetime:
    """Current time in UTC, without tzinfo: every timestamp in the store is naive UTC (DuckDB
    would need pytz to hand back tz-aware values)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def code_version() -> str:
    from selector import __version__

    return __version__


def _arrow_schema(table: str):
    import pyarrow as pa

    types = {"string": pa.string(), "int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(),
             "bool": pa.bool_(), "timestamp": pa.timestamp("us")}
    return pa.schema([(name, types[t]) for name, t in TABLES[table].items()])


class Store:
    """A store directory. `Store.open(path)` checks it; `Store.open(path, create=True)` makes it."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._reader = None  # the DuckDB connection of rows() and history_arrays(), made on first use

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
        views = _VIEWS.format(root=".")
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
            _atomic_write_text(self.root / "views.sql", _VIEWS.format(root="."))
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
                pq.write_table(_arrow_schema(table).empty_table(), tmp)
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
        """An in-memory DuckDB connection whose views read every shard of this store."""
        import duckdb

        con = duckdb.connect()
        root = str(self.root.resolve()).replace("'", "''")
        with self.read_errors():
            con.execute(_VIEWS.format(root=root))
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
        return self._reader.cursor()

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        with self.read_errors():
            cur = self._reader_cursor().execute(sql, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

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

    def attempts(self, run_id: str) -> int:
        """How many times the run was started (its `running` events): the next attempt's number."""
        return self.rows("SELECT count(*) AS n FROM run_events WHERE run_id = ? AND status = 'running'", [run_id])[0]["n"]

    def sweep_plan(self, sweep: str) -> list[dict]:
        return self.rows("SELECT * FROM sweeps WHERE sweep = ? ORDER BY position", [sweep])

    def latest_sweep(self) -> str | None:
        got = self.rows("SELECT sweep FROM sweeps ORDER BY created_at DESC, sweep DESC LIMIT 1")
        return got[0]["sweep"] if got else None

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
            data = pa.table(cols, schema=_arrow_schema(table))
            target_dir = self.store.root / table / self.shard
            target_dir.mkdir(parents=True, exist_ok=True)
            name = f"{now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
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


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def host() -> str:
    return socket.gethostname()
