"""How a run's settings resolve by kind (selector/runs.py:prepare), and what its id depends on.

    python -m pytest tests/test_runs.py -q

No torch: preparing a run loads the pool and opens a store, nothing else. The toy preset's
history run has a batch and a length of its own (every example of the 240-example pool exactly
20 times in 160 steps); 1-shot runs and whole-pool baselines keep the 1-shot batch (32 prompts).
"""

import pytest

from selector import runs
from selector.errors import UserError
from selector.runs import TrainConfig, prepare
from selector.sweep import Item, run_config


def _prepare(tmp_path, **kw):
    return prepare(TrainConfig(**{"pool": "toy", "store": str(tmp_path / "store"), **kw}))


# (options, kind, prompts per step, steps per epoch, max steps, learning rate)
CASES = [
    ({}, "history", 30, 8, 160, 1e-5),  # the toy history: 240 // 30 = 8 steps, 20 epochs
    ({"prompts_per_step": 32}, "history", 32, 7, 140, 1e-5),  # a flag wins over the history batch
    ({"epochs": 2}, "history", 30, 8, 16, 1e-5),
    ({"max_steps": 5}, "history", 30, 8, 5, 1e-5),
    ({"examples": "toy-0001"}, "one_shot", 32, 1, 80, 3e-5),
    ({"examples": "toy-0001,toy-0002"}, "few_shot", 32, 1, 80, 3e-5),
    ({"learning_rate": 2e-5}, "history", 30, 8, 160, 2e-5),
    # --set counts as given too, and the history's own key still wins when it is given as well
    ({"set": "prompts_per_step=16"}, "history", 16, 15, 300, 1e-5),
    ({"set": "learning_rate=2e-5"}, "history", 30, 8, 160, 2e-5),
    ({"set": "prompts_per_step=16,history_prompts_per_step=24"}, "history", 24, 10, 200, 1e-5),
    ({"set": "history_learning_rate=4e-5"}, "history", 30, 8, 160, 4e-5),
    ({"set": "history_learning_rate=4e-5", "examples": "toy-0001"}, "one_shot", 32, 1, 80, 3e-5),
]


@pytest.mark.parametrize("options, kind, prompts, per_epoch, steps, lr", CASES)
def test_toy_settings_by_kind(tmp_path, options, kind, prompts, per_epoch, steps, lr):
    p = _prepare(tmp_path, **options)
    assert (p.kind, p.values["prompts_per_step"], p.steps_per_epoch, p.values["max_steps"]) == (kind, prompts, per_epoch, steps)
    assert p.values["learning_rate"] == lr
    assert len(p.rows) == (240 if kind == "history" else 32)


def test_the_toy_history_shows_every_example_the_same_number_of_times(tmp_path):
    p = _prepare(tmp_path)
    # No example sits an epoch out: the pool splits into whole steps.
    assert len(p.rows) % p.values["prompts_per_step"] == 0
    assert p.values["max_steps"] // p.steps_per_epoch == 20


def test_a_whole_pool_baseline_trains_at_the_one_shot_batch_rate_and_length(tmp_path):
    template = TrainConfig(pool="toy", preset="toy", store=str(tmp_path / "store"))
    p = prepare(run_config(template, Item("full pool", "full-pool", None), seed=1))
    assert (p.kind, p.values["prompts_per_step"], p.values["max_steps"], p.values["learning_rate"]) == ("history", 32, 80, 3e-5)


def test_a_paper_preset_history_keeps_its_batch(tmp_path, pool12):
    p = prepare(TrainConfig(pool=pool12, preset="paper-qwen2.5-math-1.5b", store=str(tmp_path / "store"),
                            set="prompts_per_step=4"))
    assert (p.values["prompts_per_step"], p.steps_per_epoch) == (4, 3)


def test_one_shot_ids_do_not_depend_on_the_history_recipe(tmp_path, monkeypatch):
    before = {k: _prepare(tmp_path, **kw).run_id for k, kw in
              (("one", {"examples": "toy-0001"}), ("history", {}), ("history32", {"prompts_per_step": 32}))}
    changed = dict(runs.PRESETS["toy"], history_epochs=21, history_learning_rate=2e-5, history_prompts_per_step=24)
    monkeypatch.setitem(runs.PRESETS, "toy", changed)
    after = {k: _prepare(tmp_path, **kw).run_id for k, kw in
             (("one", {"examples": "toy-0001"}), ("history", {}), ("history32", {"prompts_per_step": 32}))}
    assert after["one"] == before["one"]
    # A history run's own settings changed (steps, rate, batch), and so did its id.
    assert after["history"] != before["history"] and after["history32"] != before["history32"]


def test_ids_still_follow_every_setting_a_run_uses(tmp_path):
    base = _prepare(tmp_path, examples="toy-0001").run_id
    for kw in ({"learning_rate": 1e-5}, {"max_steps": 81}, {"prompts_per_step": 16}, {"seed": 1}, {"temperature": 0.7}):
        assert _prepare(tmp_path, examples="toy-0001", **kw).run_id != base, kw


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "abc"])
def test_a_bad_history_batch_fails_in_one_line(tmp_path, value):
    with pytest.raises(UserError, match="history-prompts-per-step must be a positive integer"):
        _prepare(tmp_path, set=f"history_prompts_per_step={value}")


def test_a_history_batch_that_splits_nothing_is_refused(tmp_path):
    with pytest.raises(UserError, match="fewer than 300 prompts per step"):
        _prepare(tmp_path, set="history_prompts_per_step=300")


def test_prepare_leaves_the_config_as_given(tmp_path):
    cfg = TrainConfig(pool="toy", store=str(tmp_path / "store"))
    prepare(cfg)
    assert cfg.prompts_per_step is None and cfg.max_steps is None  # resolved into values, not into the config
