"""rlvr-select: find the few training examples worth RL-training a language model on.

This package is the torch-free core, in the order the data flows: pools (pools.py, the toy
world's problems in toy.py), runs (runs.py: options, presets, prepared runs), rewards
(rewards.py), the grader (grader.py), history import (history.py), the store (store/), scores
(score.py), rankings (ranking.py), sweeps (sweep.py, launcher.py), benchmark definitions
(benchmark.py, benchmarks/) and results (results.py). The commands are in selector/cli/; the
`trainer` package runs training and generation (the only torch importer); `analysis` draws.
Heavy imports (duckdb, pyarrow, numpy, math-verify) happen inside the functions that need them
so that `select --help` stays fast. `selector.connect()` opens a store's views for pandas and
polars. docs/architecture.md has the layers and what may import what.
"""

from selector.version import __version__

__all__ = ["__version__", "connect"]


def connect(store=None):
    """A DuckDB connection to a store with every view of selector/store/views.sql, for DataFrames:

        import selector
        con = selector.connect()                     # --store's default: $RLVR_STORE, else ./rlvr-store
        df = con.sql("SELECT * FROM scores WHERE rank <= 16").df()   # pandas
        pl = con.sql("SELECT * FROM epoch_accuracy").pl()            # polars

    In memory: the views read the store's Parquet shards (new parts show up in the next query),
    and nothing written on this connection reaches the store. `store`: a directory (default as
    every command: $RLVR_STORE, else ./rlvr-store); a directory that is not a store is an error."""
    from selector.paths import store_dir
    from selector.store import Store

    return Store.open(store_dir(store)).connect()
