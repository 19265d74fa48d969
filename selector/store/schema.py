"""The store's tables: their columns and types, and the schema version of a store directory.

Facts only (append-only); derived numbers are the views in views.sql beside this file.
"""

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
    # `correct`/`extracted`: the strict grader (selector/grader.py, the training reward);
    # `correct_paper`/`extracted_paper`: the paper's evaluation (selector/paper_grader.py), NULL for a
    # benchmark it has no rules for (the toy benchmark, GSM8K, ARC).
    "eval_samples": {
        "run_id": "string", "attempt": "int32", "step": "int32", "benchmark": "string",
        "problem_id": "string", "sample_index": "int32", "completion": "string",
        "extracted": "string", "correct": "bool", "formatted": "bool",
        "completion_tokens": "int32", "grader_version": "string",
        "correct_paper": "bool", "extracted_paper": "string",
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
    # `dry_run`: planned by `--dry-run` (the slurm launcher stores the plan its script refers to);
    # such a sweep is not the default of `results` / `report` until one of its runs exists.
    # Added after the first stores: their parts lack it, and the view reads it as NULL (= false).
    "sweeps": {
        "sweep": "string", "position": "int32", "run_id": "string", "label": "string", "grp": "string",
        "seed": "int64", "examples": "string", "config": "string", "command": "string", "options": "string",
        "created_at": "timestamp", "dry_run": "bool",
    },
    # `select validate`: Spearman's rho between a score and the 1-shot gain (`gain`: at the final or
    # the best evaluated step) over a stratified sample of a ranking, with its bootstrap interval; one
    # row per (score, gain) each time it is computed (`validation` = the validation's sweep name;
    # view validation_latest keeps the latest).
    "validations": {
        "validation": "string", "score": "string", "gain": "string", "run_id": "string", "examples": "int32",
        "runs_finished": "int32",
        "spearman": "float64", "ci_low": "float64", "ci_high": "float64", "n_bootstrap": "int32", "seed": "int64",
        "created_at": "timestamp", "code_version": "string",
    },
    "rankings": {
        "ranking_id": "string", "run_id": "string", "pool": "string", "score": "string",
        "rank": "int32", "example_id": "string", "value": "float64", "ci_low": "int32",
        "ci_high": "int32", "n_bootstrap": "int32", "seed": "int64", "created_at": "timestamp",
        "code_version": "string",
    },
}


def arrow_schema(table: str):
    """The pyarrow schema of a table (pyarrow imported here: it is slow to import)."""
    import pyarrow as pa

    types = {"string": pa.string(), "int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(),
             "bool": pa.bool_(), "timestamp": pa.timestamp("us")}
    return pa.schema([(name, types[t]) for name, t in TABLES[table].items()])
