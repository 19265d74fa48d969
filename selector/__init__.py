"""rlvr-select: find the few training examples worth RL-training a language model on.

This package is the torch-free core, in the order the data flows: pools (pools.py, the toy
world's problems in toy.py), runs (runs.py: options, presets, prepared runs), rewards
(rewards.py), the grader (grader.py), history import (history.py), the store (store/), scores
(score.py), rankings (ranking.py), sweeps (sweep.py, launcher.py), benchmark definitions
(benchmark.py, benchmarks/) and results (results.py). The commands are in selector/cli/; the
`trainer` package runs training and generation (the only torch importer); `analysis` draws.
Heavy imports (duckdb, pyarrow, numpy, math-verify) happen inside the functions that need them
so that `select --help` stays fast. docs/architecture.md has the layers and what may import what.
"""

__version__ = "0.1.0"
