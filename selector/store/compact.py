"""Compacting a run's shard: its many part files merged into one file per table.

A training run writes a part every 20 steps and at every checkpoint, per table, so a store
gathers thousands of small files, and every reader opens each one. Once a run has stopped,
`compact` merges each table's parts of that run into one file.

How a reader never sees a row twice or not at all, whenever the process is killed:

1. the merged rows are written to a temporary name (`.compact-*.tmp`: no view matches it), read
   back, and checked against the parts: the same row count and the same content (a SHA-256 of
   the rows in order, both sides);
2. the file is renamed to `<largest part name>~compacted.parquet` (one atomic rename); from this
   instant on the parts of the shard whose names sort at or below that name are hidden: our
   readers list them (`hidden_parts`) and pass them to the views as a file filter (views.sql,
   `facts`), so a reader sees the merged file or the parts, never both;
3. the parts are deleted; they are hidden already, so a kill in the middle changes nothing a
   reader sees, and the next `compact` deletes what is left (and any temporary file).

Why this and not filtering rows in SQL, or a new shard directory swapped in: a join in the views
that drops hidden parts row by row made reading a history 2 to 3 times slower (5x the paper's size),
while a filter on the file name prunes whole files for free; and replacing a directory is two
renames (the old one out, the new one in), with the run missing between them. The marker file
`<store>/compactions` changes before and after each rename, so a reader that stays open re-lists
the hidden parts at its next query (one small read per query). What no reader of globbed files
can avoid: a query whose file listing falls between a rename and the marker change after it may
count the replaced rows twice, and a part deleted after a query listed it fails that query with
one line (it succeeds when run again); compact stopped runs when nothing else reads the store.
A part written after a compaction (a resumed run) gets a name that sorts after the compacted
file's, so it stays visible (ShardWriter.flush). The duckdb CLI (views.sql in the store) sets no
filter: after a killed compaction it sees the replaced parts until `select compact` runs again.

A run whose status is `running` (or `stale`: running, its lease's heartbeat stopped) is refused:
its writer may add a part at any moment.
"""

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from selector.errors import UserError
from selector.store.schema import TABLES
from selector.store.store import COMPACTED, compacted_upto, touch_marker

# The statuses of a run that no process writes any more (selector/store/runlog.py).
STOPPED = ("finished", "failed", "interrupted", "imported")


@dataclass
class Compacted:
    """One table of one run: its live parts before, and the rows they hold."""

    run_id: str
    table: str
    parts: int  # live part files before (1 after, when merged)
    rows: int
    merged: bool  # False: nothing to do (one part or none)
    removed: int = 0  # leftover files of an earlier, interrupted compaction removed


def live_parts(shard: Path) -> tuple[list[Path], list[Path]]:
    """(the parts a reader sees, the parts a compacted file hides) of one shard directory."""
    upto = compacted_upto(shard)
    parts = sorted(shard.glob("*.parquet"))
    hidden = [p for p in parts if upto is not None and p.stem <= upto]
    return [p for p in parts if p not in hidden], hidden


def compact_run(store, run_id: str, dry_run: bool = False) -> list[Compacted]:
    """Merge each table's parts of run `run_id` into one file (see the module docstring)."""
    run = store.run(run_id)
    if run is None:
        known = ", ".join(r["run_id"] for r in store.runs()[-5:]) or "none"
        raise UserError(f"no run {run_id!r} in store {store.root} (latest runs: {known})")
    if run["status"] not in STOPPED:
        raise UserError(f"run {run_id} is {run['status']}: its parts may still grow, so it is not compacted (a run killed "
                        "without a word also stays running: resume it with --resume first, or leave it)")
    if not dry_run:
        store._check_writable()
    done = []
    for table in TABLES:
        shard = store.root / table / run_id
        if not shard.is_dir():
            continue
        removed = 0 if dry_run else _clean(shard)
        live, _ = live_parts(shard)
        rows = sum(_rows(p) for p in live)
        merge = len(live) > 1
        if merge and not dry_run:
            with store._write_errors():
                _merge(table, shard, live, rows)
        done.append(Compacted(run_id, table, len(live), rows, merge, removed))
    return done


def stopped_runs(store) -> list[str]:
    """Every run no process writes any more, oldest first."""
    return [r["run_id"] for r in store.runs() if r["status"] in STOPPED]


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _digest(table) -> str:
    """SHA-256 of a table's rows in order: every column's values, as Arrow IPC of one chunk."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def _merge(table_name: str, shard: Path, live: list[Path], rows: int) -> None:
    root = shard.parent.parent
    import pyarrow as pa
    import pyarrow.parquet as pq

    from selector.store.schema import arrow_schema

    parts = [pq.read_table(p) for p in live]
    # Parts written before a column was added lack it: the merged file has every column of the
    # table's schema (NULL where a part had none), as the views read it.
    schema = arrow_schema(table_name)
    for t in parts:
        for f in t.schema:
            if f.name not in schema.names:
                schema = schema.append(f)
    merged = pa.concat_tables([_conform(t, schema) for t in parts])
    expected = _digest(merged)
    tmp = shard / f".compact-{uuid.uuid4().hex}.tmp"
    try:
        pq.write_table(merged, tmp, compression="zstd")
        back = pq.read_table(tmp)
        if back.num_rows != rows or merged.num_rows != rows or _digest(back) != expected:
            raise UserError(f"compacting {shard}: the merged file does not hold the parts' {rows} rows as they are "
                            f"(read back {back.num_rows}); its parts are left as they were")
        touch_marker(root)  # before the rename: a store with a compacted file always has the marker
        _rename(tmp, shard / f"{max(p.stem for p in live)}{COMPACTED}.parquet")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    touch_marker(root)  # open readers re-list the hidden parts at their next query
    for p in live:  # hidden since the rename: a kill from here on changes nothing a reader sees
        _remove(p)


def _conform(table, schema):
    """`table` with `schema`'s columns in its order (NULL columns for the ones it lacks)."""
    import pyarrow as pa

    cols = [table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
            for f in schema]
    return pa.Table.from_arrays(cols, schema=schema)


def _clean(shard: Path) -> int:
    """Finish what an interrupted compaction left: the parts its compacted file hides, and its
    temporary files. Returns how many files went."""
    _, hidden = live_parts(shard)
    leftovers = hidden + list(shard.glob(".compact-*.tmp"))
    for p in leftovers:
        _remove(p)
    return len(leftovers)


# The two file-system steps, named so that tests can stop a compaction between any two of them.
def _rename(src: Path, dst: Path) -> None:
    os.replace(src, dst)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
