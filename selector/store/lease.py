"""One writer per run: a lease file with a heartbeat, safe on a shared filesystem.

A run is trained by one attempt at a time. Before an attempt records anything, its main process
takes the run's lease, `<store>/leases/<run_id>.json` (host, pid, attempt, since, heartbeat),
and a thread renews the heartbeat every `interval` seconds until the attempt ends and gives it
back. A second `train` or `--resume` of the same run (a requeued SLURM job, a second terminal)
finds a live lease and stops in one line naming the live attempt, before it writes a row.

A lease is taken over, with a note, when its holder is gone: its heartbeat is older than
`stale_after` (a crashed node), or it was held on this host by a process that no longer exists
(a kill -9; so `--resume` right after a crash needs no wait).

Why files and not a lock: flock/fcntl locks are unreliable on NFS and vanish with the process
that held them, which tells a reader nothing about a run on another node. A lease is created
with os.link (atomic, and fails if the name exists, on local filesystems and NFS alike) and
renewed with os.replace, so a reader sees a whole file or the previous one, never half of one.
"""

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from selector.errors import UserError

INTERVAL_ENV = "RLVR_LEASE_INTERVAL"  # seconds between heartbeats (tests make it short)
DEFAULT_INTERVAL = 30.0
STALE_HEARTBEATS = 4  # a lease whose heartbeat is this many intervals old is taken over


def lease_dir(root: Path) -> Path:
    return Path(root) / "leases"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def read_lease(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):  # a damaged lease tells nothing: treat it as stale
        return {}


class Lease:
    """A held lease. `Lease.acquire(...)` takes it (or raises UserError naming the live holder);
    `release()` gives it back. The heartbeat thread renews it until then."""

    def __init__(self, path: Path, info: dict, interval: float):
        self.path, self.info, self.interval = path, info, interval
        self.note: str | None = None  # set when a stale lease was taken over
        self.lost = threading.Event()  # set if another attempt took the lease from us
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{info['run_id']}", daemon=True)

    @classmethod
    def acquire(cls, root: Path, run_id: str, attempt: int, interval: float | None = None,
                stale_after: float | None = None) -> "Lease":
        interval = float(os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL)) if interval is None else interval
        stale_after = STALE_HEARTBEATS * interval if stale_after is None else stale_after
        folder = lease_dir(root)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{run_id}.json"
        now = time.time()
        info = {"run_id": run_id, "attempt": attempt, "host": socket.gethostname(), "pid": os.getpid(),
                "token": uuid.uuid4().hex, "since_unix": now, "heartbeat_unix": now, "interval": interval}
        lease = cls(path, info, interval)
        tmp = folder / f".{run_id}.{info['token']}.tmp"
        tmp.write_text(json.dumps(info))
        try:
            try:
                os.link(tmp, path)  # fails if a lease exists: the only atomic create-if-absent NFS has
                lease._start()
                return lease
            except FileExistsError:
                pass
            held = read_lease(path)
            if held is None:  # given back between our link and our read: try once more
                try:
                    os.link(tmp, path)
                    lease._start()
                    return lease
                except FileExistsError:
                    held = read_lease(path) or {}
            reason = _stale(held, now, stale_after)
            if reason is None:
                raise UserError(_held_message(run_id, held, now))
            os.replace(tmp, path)  # take it over
            time.sleep(min(0.2, interval / 10))  # two takers at once: the last replace wins; the other sees it
            if (read_lease(path) or {}).get("token") != info["token"]:
                raise UserError(_held_message(run_id, read_lease(path) or {}, time.time()))
            lease.note = (f"took over the lease of run {run_id} from attempt {held.get('attempt', '?')} "
                          f"(host {held.get('host', '?')}, pid {held.get('pid', '?')}): {reason}")
            lease._start()
            return lease
        finally:
            tmp.unlink(missing_ok=True)

    def _start(self) -> None:
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            held = read_lease(self.path)
            if not held or held.get("token") != self.info["token"]:
                self.lost.set()  # taken over (we were presumed dead) or removed: stop renewing
                return
            self.info["heartbeat_unix"] = time.time()
            tmp = self.path.with_name(f".{self.path.stem}.{self.info['token']}.beat.tmp")
            try:
                tmp.write_text(json.dumps(self.info))
                os.replace(tmp, self.path)
            except OSError:
                tmp.unlink(missing_ok=True)  # a full disk or a hiccup of the filesystem: try again next beat

    def release(self) -> None:
        """Stop the heartbeat and remove the lease if it is still ours."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        held = read_lease(self.path)
        if held and held.get("token") == self.info["token"]:
            self.path.unlink(missing_ok=True)


def _stale(held: dict, now: float, stale_after: float) -> str | None:
    """Why the lease `held` may be taken over, or None if its holder looks alive."""
    if not held:
        return "its lease file is unreadable"
    beat = held.get("heartbeat_unix")
    if not isinstance(beat, (int, float)):
        return "its lease has no heartbeat"
    if held.get("host") == socket.gethostname() and isinstance(held.get("pid"), int) and not _pid_alive(held["pid"]):
        return f"its process {held['pid']} on this host no longer exists"
    if now - beat > stale_after:
        return f"its heartbeat stopped {now - beat:.0f} s ago"
    return None


def _held_message(run_id: str, held: dict, now: float) -> str:
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(held.get("since_unix", now)))
    beat = now - held.get("heartbeat_unix", now)
    return (f"run {run_id} is being trained by attempt {held.get('attempt', '?')} on host {held.get('host', '?')} "
            f"(pid {held.get('pid', '?')}) since {since}, last heartbeat {beat:.0f} s ago; wait for it to finish, "
            "or stop it (a dead holder's lease is taken over once its heartbeat is stale)")
