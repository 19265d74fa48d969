"""The lifecycle of one run in the store: its `runs` row and its `run_events`, written here only.

A run is created once (the `runs` row: kind, pool, model, resolved config, grader and code
versions) and then started one or more times: each start is an *attempt*, numbered from 0, and
appends a `running` event whose detail is "attempt N". An attempt ends with one event:

    finished     the attempt ran to its end
    failed       it raised (detail: the error, cut to 500 characters)
    interrupted  it was stopped by the user or the scheduler (Ctrl-C, SIGTERM)
    imported     (an imported history: recorded once, never started)

The views read these strings: `run_status` takes each run's latest event, `sweep_results` counts
`finished` runs, and rows recorded by an attempt carry its number so that the views keep the
latest attempt of each step. A run killed without a chance to write (SIGKILL) stays `running`.
"""

import json

from selector.store.store import ShardWriter, Store, code_version, host, now

RUNNING, FINISHED, FAILED, INTERRUPTED, IMPORTED = "running", "finished", "failed", "interrupted", "imported"


class RunLog:
    """One run's lifecycle events. `writer`: the run's shard writer (default: a durable run
    writer of its own); `main`: False on the other processes of a multi-process run, which
    record nothing here (the main process speaks for the run)."""

    def __init__(self, store: Store, run_id: str, writer: ShardWriter | None = None, main: bool = True):
        self.store, self.run_id, self.main = store, run_id, main
        self.writer = writer if writer is not None else store.run_writer(run_id)

    def next_attempt(self) -> int:
        """How many times the run was started (its `running` events): the next attempt's number."""
        got = self.store.rows("SELECT count(*) AS n FROM run_events WHERE run_id = ? AND status = ?", [self.run_id, RUNNING])
        return got[0]["n"]

    def _event(self, status: str, detail: str) -> None:
        self.writer.append("run_events", [{"run_id": self.run_id, "event_time": now(), "status": status, "detail": detail}])

    def _create(self, kind: str, pool: str | None, model: str | None, config, grader_version: str | None) -> None:
        self.writer.append("runs", [{
            "run_id": self.run_id, "kind": kind, "pool": pool, "model": model,
            "config": config if isinstance(config, str) else json.dumps(config, default=str),
            "grader_version": grader_version, "code_version": code_version(), "created_at": now(), "host": host()}])

    def start(self, attempt: int, *, create: dict | None = None) -> None:
        """Record that attempt `attempt` is running, durably (flushed) before any work starts.
        `create`: the runs row's fields (kind, pool, model, config, grader_version) for a new run."""
        if not self.main:
            return
        if create is not None:
            self._create(**create)
        self._event(RUNNING, f"attempt {attempt}")
        self.writer.flush()

    def finish(self, detail: str) -> None:
        if self.main:
            self._event(FINISHED, detail)
            self.writer.flush()

    def fail(self, error: BaseException) -> None:
        """The attempt ended with `error`: `interrupted` for Ctrl-C or SIGTERM's SystemExit,
        `failed` for anything else."""
        if not self.main:
            return
        stopped = isinstance(error, (KeyboardInterrupt, SystemExit))
        self._event(INTERRUPTED if stopped else FAILED, f"{type(error).__name__}: {str(error)[:500]}")
        self.writer.flush()

    def record_import(self, *, pool: str, config: dict, detail: str) -> None:
        """An imported history's runs row and its one event (the caller's writer flushes them
        with the history rows, all or nothing)."""
        self._create("imported", pool, None, config, None)  # graded by someone else's grader
        self._event(IMPORTED, detail)
