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

Several processes (one per GPU) run one attempt together. The main process (0) records the run
and its start; an attempt gets exactly one ending event, written by whichever process ends it
first: the main process when it finishes, is interrupted or raises, or another process that
raises (its event names it: "process 1: RuntimeError: ..."). A process stopped because another
one failed (the launcher terminates the rest) writes nothing. "First" is decided by creating
`<store>/leases/<run_id>.a<attempt>.ended` exclusively, which is atomic on any filesystem.
"""

import json
import os

from selector.store.store import ShardWriter, Store, code_version, host, now

RUNNING, FINISHED, FAILED, INTERRUPTED, IMPORTED = "running", "finished", "failed", "interrupted", "imported"


class RunLog:
    """One run's lifecycle events. `writer`: the run's shard writer (default: a durable run
    writer of its own); `process`/`processes`: this process's index and how many run the
    attempt (the main process, 0, speaks for the run)."""

    def __init__(self, store: Store, run_id: str, writer: ShardWriter | None = None, process: int = 0,
                 processes: int = 1):
        self.store, self.run_id, self.process, self.processes = store, run_id, process, processes
        self.main = process == 0
        self.attempt: int | None = None
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
        `create`: the runs row's fields (kind, pool, model, config, grader_version) for a new run.
        Every process calls it (with the attempt the main process decided); only the main writes."""
        self.attempt = attempt
        if not self.main:
            return
        if create is not None:
            self._create(**create)
        self._event(RUNNING, f"attempt {attempt}")
        self.writer.flush()

    def _claim_end(self) -> bool:
        """True for the first process to end this attempt (see the module docstring)."""
        if self.attempt is None:
            return True
        marker = self.store.root / "leases" / f"{self.run_id}.a{self.attempt}.ended"
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def finish(self, detail: str) -> None:
        if self.main and self._claim_end():
            self._event(FINISHED, detail)
            self.writer.flush()

    def fail(self, error: BaseException) -> None:
        """The attempt ended with `error`: `interrupted` for Ctrl-C or a termination signal
        (KeyboardInterrupt, SystemExit), `failed` for anything else. Only the main process
        records an interruption (the others are stopped with it); any process records its error."""
        stopped = isinstance(error, (KeyboardInterrupt, SystemExit))
        if (stopped and not self.main) or not self._claim_end():
            return
        who = f"process {self.process}: " if self.processes > 1 else ""
        self._event(INTERRUPTED if stopped else FAILED, f"{who}{type(error).__name__}: {str(error)[:500]}")
        self.writer.flush()

    def record_import(self, *, pool: str, config: dict, detail: str) -> None:
        """An imported history's runs row and its one event (the caller's writer flushes them
        with the history rows, all or nothing)."""
        self._create("imported", pool, None, config, None)  # graded by someone else's grader
        self._event(IMPORTED, detail)
