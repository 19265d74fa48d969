"""Shared pytest fixtures.

The real public data (DSR-sub pool, the authors' history, the six benchmarks) lives beside
the checkout in ../shared/data (or wherever RLVR_DATA_DIR points); it is never copied into the
repository. Tests that need it take the `shared_data` fixture and skip with a reason when it is
absent. CI has it, so there they run: `.ci/run` sets RLVR_REQUIRE_DATA=1, which turns that skip
into a failure (a CI without the data would otherwise pass with 36 tests skipped in silence).
"""

import os
from pathlib import Path

import pytest

# No test may reach the Hugging Face hub (CI has no network): fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

REPO = Path(__file__).resolve().parents[1]


REQUIRE_DATA_ENV = "RLVR_REQUIRE_DATA"


def _shared_data_dir() -> Path | None:
    # RLVR_DATA_DIR, when set, is the only place looked at (as selector/paths.py does): a wrong
    # value must not be rescued by a ../shared/data that happens to lie beside the checkout.
    env = os.environ.get("RLVR_DATA_DIR")
    for cand in [env] if env else [REPO.parent / "shared" / "data"]:
        if (Path(cand) / "README.md").exists():
            return Path(cand)
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; skips the test when it is not there, or fails it when
    $RLVR_REQUIRE_DATA is 1 (CI: the data is expected there)."""
    path = _shared_data_dir()
    if path is None:
        where = os.environ.get("RLVR_DATA_DIR") or str(REPO.parent / "shared" / "data")
        reason = f"real data not found in {where}: set RLVR_DATA_DIR or put it in ../shared/data"
        if os.environ.get(REQUIRE_DATA_ENV, "") not in ("", "0"):
            pytest.fail(f"{reason} ({REQUIRE_DATA_ENV}=1: this run expects the data)", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """The toy model's architecture and tokenizer after 3 training steps: seconds to build
    (needs the train extra; tests that take it import-skip on trl first)."""
    from trainer.toy_model import build

    return str(build(out_dir=tmp_path_factory.mktemp("tiny") / "model", steps=3, progress=False, force=True))


@pytest.fixture
def pool12(tmp_path):
    """The first 12 toy-pool problems as a file pool."""
    import json

    from selector.toy import pool_rows

    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in pool_rows()[:12]))
    return f"file:{path}"


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory, tiny_model):
    """A small store with everything a report shows, built on the real TRL path in ~1 min:
    a history run over 12 toy problems (6 steps = 2 epochs), its variance ranking, a sweep
    (1-shot on pi1 and on the bottom example, 3 steps each, evaluated at every step on 2 toy
    problems) and a validation (pi1, pi2 and the planted example, the same settings). Returns
    (store path, history run id, sweep name). Shared by the report and notebook tests."""
    pytest.importorskip("trl", reason="building a trained store needs the train extra: pip install -e '.[train]'")
    import json

    from selector.cli.rank import RankConfig
    from selector.cli.rank import main as rank
    from selector.cli.sweep import SweepConfig
    from selector.cli.sweep import main as sweep
    from selector.runs import TrainConfig
    from selector.store import Store
    from selector.toy import pool_rows
    from trainer.grpo import train

    root = tmp_path_factory.mktemp("trained")
    path = root / "pool.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in pool_rows()[:12]))
    pool, store = f"file:{path}", str(root / "store")
    tiny = "prompts_per_step=4,num_generations=4,max_completion_length=12"
    history = train(TrainConfig(pool=pool, preset="toy", model=tiny_model, store=store, max_steps=6, eval_steps=0, set=tiny))
    rank(RankConfig(run=history, store=store, bootstrap=20, json=True))
    name = sweep(SweepConfig(pool=pool, store=store, preset="toy", set=tiny, model=tiny_model, top=1, baselines="bottom:1",
                             seeds="1", max_steps=3, eval_steps=1, eval_limit=2))
    assert Store.open(store).sweep_plan(name)
    # A validation over pi1, pi2 and the planted example, with the sweep's settings (its pi1 run is shared).
    from selector.cli.validate import ValidateConfig
    from selector.cli.validate import main as validate

    validate(ValidateConfig(pool=pool, store=store, preset="toy", set=tiny, model=tiny_model, top=2, spread=0, bottom=0,
                            planted=1, seeds="1", max_steps=3, eval_steps=1, eval_limit=2, n_bootstrap=20, json=True))
    return root / "store", history, name
