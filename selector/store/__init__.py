"""The store: append-only facts in Parquet shards (schema.py), one DuckDB view layer over all
of them (views.sql), and the lifecycle of runs (runlog.py). See store.py for the layout."""

from selector.store.runlog import FAILED, FINISHED, IMPORTED, INTERRUPTED, RUNNING, RunLog
from selector.store.schema import SCHEMA_VERSION, TABLES
from selector.store.store import ShardWriter, Store, code_version, host, now

__all__ = ["FAILED", "FINISHED", "IMPORTED", "INTERRUPTED", "RUNNING", "RunLog", "SCHEMA_VERSION", "TABLES", "ShardWriter", "Store", "code_version", "host", "now"]
