"""The `shared_data` fixture: a plain `pytest` skips the tests that need ../shared/data with a reason
when it is absent; with RLVR_REQUIRE_DATA=1 (what .ci/run sets) the same tests fail instead, so a
CI that lost the data cannot pass with those tests skipped in silence.

    python -m pytest tests/test_shared_data_required.py -q

Each case runs pytest in a subprocess on tests/test_paper_ranking.py (every test there takes the
fixture) with RLVR_DATA_DIR pointing at an empty folder.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CASES = [
    # (RLVR_REQUIRE_DATA, exit code, outcome words in pytest's summary, text the output must hold)
    (None, 0, {"skipped"}, "real data not found in"),  # a user's plain pytest: skip, with the reason
    ("0", 0, {"skipped"}, "real data not found in"),  # 0 is off, as unset
    ("1", 1, {"error"}, "RLVR_REQUIRE_DATA=1: this run expects the data"),  # CI: every such test errors
]


@pytest.mark.parametrize("require,code,outcomes,text", CASES, ids=["unset", "zero", "one"])
def test_missing_shared_data_skips_unless_required(tmp_path, require, code, outcomes, text):
    env = {k: v for k, v in os.environ.items() if k != "RLVR_REQUIRE_DATA"}
    env["RLVR_DATA_DIR"] = str(tmp_path)  # empty: no README.md, so no data
    if require is not None:
        env["RLVR_REQUIRE_DATA"] = require
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/test_paper_ranking.py", "-q", "-ra",
                           "-p", "no:cacheprovider"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    summary = out.strip().splitlines()[-1]
    got = {w.rstrip("s") if w.startswith("error") else w for w in re.findall(r"\d+ (passed|failed|skipped|errors?)", summary)}
    assert (done.returncode, got) == (code, outcomes), f"expected exit {code} with {outcomes}, got {done.returncode}:\n{out[-3000:]}"
    assert text in out, out[-3000:]
