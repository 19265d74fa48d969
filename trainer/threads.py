"""How many intra-op threads torch uses for a small model on a CPU that may be shared.

A model as small as the toy one (345k parameters) gains from a second thread only when a second
core is free: measured on the 2-core development machine, a forward+backward over 256 x 95 tokens
took 0.64-0.71 s with 2 threads and 1.1-1.4 s with 1 while the machine was otherwise nearly idle,
but a pre-training step took 1.4-1.9 s with 2 threads and 0.15-0.21 s with 1 while other jobs
kept both cores busy (a thread that waits for a busy core stalls every parallel region). So
"auto" looks at how much of the machine is idle right now (/proc/stat over a fraction of a
second) and uses every core only when all of them are free, else one thread.

RLVR_TORCH_THREADS=N (or auto, or 0 for torch's default) overrides any setting (for a shared
machine where load comes and goes).
"""

import os
import time
from contextlib import contextmanager

from selector.runs import THREADS_ENV as ENV
from selector.runs import threads_setting


def idle_cpus(window: float = 0.3) -> float | None:
    """How many CPUs were idle over the last `window` seconds (None where /proc/stat is missing)."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total (in clock ticks)

    try:
        idle0, total0 = sample()
        time.sleep(window)
        idle1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    cores = os.cpu_count() or 1
    return cores * (idle1 - idle0) / max(1, total1 - total0)


def choose(setting) -> int | None:
    """Threads for `setting`: None or 0 = torch's default (leave it), an int = that many,
    "auto" = every core when all are idle now, else 1. RLVR_TORCH_THREADS (the same values) wins
    over all; a value that is none of these fails in one line (selector/runs.py:threads_setting)."""
    env = os.environ.get(ENV, "")
    setting = threads_setting(env, ENV) if env.strip() else threads_setting(setting, "torch_threads")
    if setting != "auto":
        return setting
    cores = os.cpu_count() or 1
    idle = idle_cpus()
    return cores if idle is not None and idle >= cores - 0.5 else 1


def apply(setting) -> int:
    """Set torch's intra-op threads for `setting`; returns the number in use."""
    import torch

    n = choose(setting)
    if n:
        torch.set_num_threads(n)
    return torch.get_num_threads()


@contextmanager
def applied(setting):
    """Torch's intra-op threads for `setting` inside the block (the number in use is yielded), and
    the process's own setting back after it: for work inside a longer process (the toy build, a
    base pass-rate run) that must not change the threads of what follows."""
    import torch

    saved = torch.get_num_threads()
    try:
        yield apply(setting)
    finally:
        torch.set_num_threads(saved)
