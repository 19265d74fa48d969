"""rlvr-select: find the few training examples worth RL-training a language model on.

This package is the torch-free core: the CLI, pools, the grader, the DuckDB store, scores and
sweep planning. Heavy imports (duckdb, pyarrow, numpy, math-verify) happen inside the functions
that need them so that `select --help` stays fast; torch/transformers/trl are imported only by
the separate `trainer` package.
"""

__version__ = "0.1.0"
