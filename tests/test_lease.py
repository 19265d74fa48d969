"""One writer per run: the lease (selector/store/lease.py), with real processes where it matters.

    python -m pytest tests/test_lease.py -q
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from selector.errors import UserError
from selector.store.lease import Lease, lease_dir, read_lease

REPO = Path(__file__).resolve().parents[1]


def _write(root: Path, run_id: str, **fields) -> Path:
    path = lease_dir(root) / f"{run_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {"run_id": run_id, "attempt": 0, "host": "node-elsewhere", "pid": 12345, "token": "theirs",
            "since_unix": time.time() - 60, "heartbeat_unix": time.time(), "interval": 30.0, **fields}
    path.write_text(json.dumps(info))
    return path


def test_a_held_lease_refuses_a_second_taker_naming_the_live_attempt(tmp_path):
    lease = Lease.acquire(tmp_path, "r", attempt=2, interval=30)
    try:
        with pytest.raises(UserError) as e:
            Lease.acquire(tmp_path, "r", attempt=3, interval=30)
        msg = str(e.value)
        assert f"attempt 2 on host {socket.gethostname()} (pid {os.getpid()})" in msg and "\n" not in msg
        assert "last heartbeat 0 s ago" in msg
    finally:
        lease.release()
    assert not (lease_dir(tmp_path) / "r.json").exists()  # given back
    Lease.acquire(tmp_path, "r", attempt=3, interval=30).release()  # and free again


@pytest.mark.parametrize("fields, taken, why", [
    ({"heartbeat_unix": -1000}, True, "heartbeat stopped"),  # a crashed node (heartbeat: seconds from now)
    ({"heartbeat_unix": -5}, False, None),  # alive on another node
    ({"host": socket.gethostname(), "pid": 2 ** 22 + 17}, True, "no longer exists"),  # a kill -9 here: no wait
    ({"host": socket.gethostname(), "pid": os.getpid()}, False, None),  # alive here
    ({"heartbeat_unix": "soon"}, True, "no heartbeat"),
], ids=["stale-heartbeat", "fresh-elsewhere", "dead-pid-here", "live-pid-here", "garbled"])
def test_a_dead_holders_lease_is_taken_over_with_a_note(tmp_path, fields, taken, why):
    if isinstance(fields.get("heartbeat_unix"), int):
        fields = {**fields, "heartbeat_unix": time.time() + fields["heartbeat_unix"]}
    _write(tmp_path, "r", **fields)
    if not taken:
        with pytest.raises(UserError, match="is being trained by attempt 0"):
            Lease.acquire(tmp_path, "r", attempt=1, interval=30)
        assert read_lease(lease_dir(tmp_path) / "r.json")["token"] == "theirs"
        return
    lease = Lease.acquire(tmp_path, "r", attempt=1, interval=30)
    try:
        assert why in lease.note and "attempt 0" in lease.note
        assert read_lease(lease_dir(tmp_path) / "r.json")["token"] == lease.info["token"]
    finally:
        lease.release()


def test_the_heartbeat_renews_and_a_lease_taken_over_is_not_removed_by_its_old_holder(tmp_path):
    lease = Lease.acquire(tmp_path, "r", attempt=0, interval=0.05)
    path = lease_dir(tmp_path) / "r.json"
    first = read_lease(path)["heartbeat_unix"]
    time.sleep(0.3)
    assert read_lease(path)["heartbeat_unix"] > first
    # Another attempt took it over (we were presumed dead): we notice, stop renewing, and leave it.
    _write(tmp_path, "r", token="new-holder", heartbeat_unix=time.time())
    assert lease.lost.wait(2)
    lease.release()
    assert read_lease(path)["token"] == "new-holder"


HOLD = """
import sys, time
from selector.store.lease import Lease
lease = Lease.acquire(sys.argv[1], "r", attempt=0, interval=0.2)
print("held", flush=True)
time.sleep(120)
"""


def test_two_real_processes_one_writer(tmp_path):
    """A second process cannot take a live process's lease; once that process is killed (no
    chance to give it back), the lease is taken over at once on the same host."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=f"pid {proc.pid}"):
            Lease.acquire(tmp_path, "r", attempt=1, interval=0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    lease = Lease.acquire(tmp_path, "r", attempt=1, interval=0.2)
    assert f"its process {proc.pid} on this host no longer exists" in lease.note
    lease.release()
