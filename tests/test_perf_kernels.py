"""The speed scripts that explain where the time goes (perf/toy_step_kernels.py,
perf/grader_parse.py) run and print figures that add up. No speed is asserted.

    python -m pytest tests/test_perf_kernels.py -q
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(script: str, *args: str) -> str:
    got = subprocess.run([sys.executable, str(REPO / "perf" / script), *args], capture_output=True, text=True,
                         timeout=900, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert got.returncode == 0, got.stderr[-2000:]
    return got.stdout


def test_toy_step_kernels_times_every_kernel():
    pytest.importorskip("torch")
    out = _run("toy_step_kernels.py", "--quick", "--threads", "1")
    assert len(re.findall(r"\d+\.\d+ GFLOPS", out)) == 3
    assert re.search(r"SDPA\s+forward\s+[\d.]+ ms\s+forward\+backward\s+[\d.]+ ms", out)
    assert re.search(r"eager\s+forward\s+[\d.]+ ms\s+forward\+backward\s+[\d.]+ ms", out)
    assert [int(n) for n in re.findall(r"(\d+) cached tokens", out)] == [45, 70, 89]


@pytest.mark.slow
def test_grader_parse_splits_the_workers_time(shared_data):
    out = _run("grader_parse.py", "--quick")
    total = float(re.search(r"answered in one fresh process: ([\d.]+) CPU-s", out).group(1))
    parts = {m.group(1): float(m.group(2)) for m in re.finditer(r"(parse_gold|parse_pred|verify)\s+([\d.]+) s", out)}
    assert set(parts) == {"parse_gold", "parse_pred", "verify"}
    assert sum(parts.values()) == pytest.approx(total, abs=0.02)
    shares = [int(x) for x in re.findall(r"\((\d+)%\)", out)]
    assert len(shares) == 3 and 98 <= sum(shares) <= 102
    assert re.search(r"ANTLR's prediction cache: (\d+) texts parse in [\d.]+ CPU-s", out)
    assert re.search(r"every distinct text \((\d+)\): [\d.]+ CPU-s cold, [\d.]+ s after", out)
