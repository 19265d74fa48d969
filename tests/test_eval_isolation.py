"""Evaluation leaves the training random state alone: the same run with an evaluation at every step
and without any evaluation samples the very same rollouts (trainer/evaluate.py runs generation
under `torch.random.fork_rng` with its own seed; without it the eval's seeding would reset the
training RNG and every later rollout would differ).

    python -m pytest tests/test_eval_isolation.py -q

Two 1-step 1-shot runs of the tiny model on the real TRL path (the evaluation before step 1 is
what could move that step's rollouts), sampled at the toy preset's temperature, in two stores.
"""

import pytest

pytest.importorskip("trl", reason="the trainer tests need the train extra: pip install -e '.[train]'")

from selector.runs import TrainConfig  # noqa: E402
from selector.store import Store  # noqa: E402
from trainer.grpo import train  # noqa: E402

TINY = dict(preset="toy", prompts_per_step=4, num_generations=4, max_completion_length=12, max_steps=1, seed=3)


def _rollouts(tmp_path, pool, model, name, eval_steps):
    store = tmp_path / name
    run_id = train(TrainConfig(pool=pool, model=model, store=str(store), examples="toy-0002", eval_steps=eval_steps,
                               eval_limit=2, **TINY))
    s = Store.open(store)
    rows = s.rows("SELECT step, batch_index, sample_index, completion FROM rollouts WHERE run_id = ? "
                  "ORDER BY step, batch_index, sample_index", [run_id])
    evals = s.rows("SELECT DISTINCT step FROM eval_samples WHERE run_id = ? ORDER BY step", [run_id])
    return rows, [e["step"] for e in evals]


@pytest.mark.slow
def test_evaluating_at_every_step_leaves_the_training_rollouts_unchanged(tmp_path, pool12, tiny_model):
    plain, no_evals = _rollouts(tmp_path, pool12, tiny_model, "plain", eval_steps=0)
    evaluated, eval_steps = _rollouts(tmp_path, pool12, tiny_model, "evaluated", eval_steps=1)
    assert no_evals == [] and eval_steps == [0, 1]  # the second run did evaluate, before and after its step
    assert len(plain) == 16 and len({r["completion"] for r in plain}) > 1  # sampled, not one greedy text
    changed = [(a["step"], a["batch_index"], a["sample_index"]) for a, b in zip(plain, evaluated) if a != b]
    assert len(evaluated) == len(plain) and not changed, f"rollouts that differ with evaluation on: {changed[:8]}"
