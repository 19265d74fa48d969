"""The GRPO wrapper on the real TRL path (no mocks of TRL), with a tiny model built in-process.

    python -m pytest tests/test_grpo.py -q

Checked: a history run records one row per rollout with the right steps, epochs and ids; a run
that crashes and is resumed counts no step twice; 1-shot duplication fills the batch with one
id; the reward is the grader's verdict; a positive entropy coefficient raises the policy's
entropy (the sign of verl's entropy bonus); presets and overrides resolve as documented.
"""

import json

import pytest

pytest.importorskip("trl", reason="the trainer tests need the train extra: pip install -e '.[train]'")

from transformers import TrainerCallback  # noqa: E402

from selector.errors import UserError  # noqa: E402
from selector.store import Store  # noqa: E402
from selector.runs import TrainConfig, build_rows, resolve_settings  # noqa: E402
from trainer.grpo import grpo_fields, train  # noqa: E402

# Tiny on purpose: 4 prompts x 4 rollouts of <= 12 tokens per step.
SMALL = dict(preset="toy", prompts_per_step=4, num_generations=4, max_completion_length=12, eval_limit=3)


def _cfg(tmp_path, pool, model, **kw):
    return TrainConfig(pool=pool, model=model, store=str(tmp_path / "store"), **{**SMALL, **kw})


def test_history_run_records_every_rollout_with_steps_epochs_and_ids(tmp_path, pool12, tiny_model):
    run_id = train(_cfg(tmp_path, pool12, tiny_model, max_steps=4, eval_steps=2))
    store = Store.open(tmp_path / "store")
    per_step = store.rows("SELECT step, epoch, count(*) AS n, count(DISTINCT example_id) AS ex, max(batch_index) AS b, "
                          "max(sample_index) AS s, bool_and(grader_version IS NOT NULL) AS gv FROM rollouts GROUP BY step, epoch ORDER BY step")
    # 12 examples / 4 prompts per step = 3 steps per epoch: step 4 opens epoch 2.
    assert [(r["step"], r["epoch"], r["n"], r["ex"], r["b"], r["s"], r["gv"]) for r in per_step] == [
        (1, 1, 16, 4, 3, 3, True), (2, 1, 16, 4, 3, 3, True), (3, 1, 16, 4, 3, 3, True), (4, 2, 16, 4, 3, 3, True)]
    seen_epoch1 = store.rows("SELECT count(DISTINCT example_id) AS n FROM rollouts WHERE epoch = 1")[0]["n"]
    assert seen_epoch1 == 12  # one pass over the pool
    run = store.run(run_id)
    assert (run["kind"], run["status"]) == ("history", "finished")
    evals = store.rows("SELECT step, count(*) AS n FROM eval_samples GROUP BY step ORDER BY step")
    assert evals == [{"step": 0, "n": 12}, {"step": 2, "n": 12}, {"step": 4, "n": 12}]  # 3 problems x avg@4
    assert store.rows("SELECT count(*) AS n FROM metrics WHERE name = 'loss'")[0]["n"] == 4
    ids, accs, _ = store.history(run_id)
    assert len(ids) == 12 and all(0.0 <= a <= 1.0 for acc in accs for a in acc)


class _CrashAt(TrainerCallback):
    """Stands in for a killed process: raises after step `n` was recorded (and before its checkpoint)."""

    def __init__(self, n):
        self.n = n

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.n:
            raise RuntimeError("simulated crash")


def test_resume_after_a_crash_counts_no_step_twice(tmp_path, pool12, tiny_model):
    cfg = _cfg(tmp_path, pool12, tiny_model, max_steps=4, eval_steps=0, set="save_steps=2")
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(cfg, callbacks=(_CrashAt(3),))
    store = Store.open(tmp_path / "store")
    run_id = store.rows("SELECT run_id FROM runs")[0]["run_id"]
    assert store.run(run_id)["status"] == "failed"
    assert store.rows("SELECT max(step) AS s FROM rollouts")[0]["s"] == 3  # recorded up to its last flush
    with pytest.raises(UserError, match="--resume"):
        train(cfg)
    cfg.resume = True
    assert train(cfg) == run_id
    got = store.rows("SELECT step, count(*) AS n, min(attempt) AS a FROM rollouts GROUP BY step ORDER BY step")
    assert [(r["step"], r["n"], r["a"]) for r in got] == [(1, 16, 0), (2, 16, 0), (3, 16, 1), (4, 16, 1)]
    dup = store.rows("SELECT count(*) AS n FROM (SELECT step, batch_index, sample_index FROM rollouts GROUP BY ALL HAVING count(*) > 1)")
    assert dup[0]["n"] == 0
    assert store.run(run_id)["status"] == "finished"


def test_one_shot_fills_every_batch_with_the_one_example(tmp_path, pool12, tiny_model):
    from selector.pools import load_pool

    pool = load_pool(pool12)
    assert [r["example_id"] for r in build_rows(pool, ["toy-0003"], 8)] == ["toy-0003"] * 8
    assert sorted({r["example_id"] for r in build_rows(pool, ["toy-0003", "toy-0005"], 8)}) == ["toy-0003", "toy-0005"]
    with pytest.raises(UserError, match="cannot split"):
        build_rows(pool, ["toy-0001", "toy-0002", "toy-0003"], 8)
    run_id = train(_cfg(tmp_path, pool12, tiny_model, examples="toy-0003", max_steps=2, eval_steps=0))
    store = Store.open(tmp_path / "store")
    assert store.run(run_id)["kind"] == "one_shot"
    got = store.rows("SELECT list(DISTINCT example_id) AS ids, count(*) AS n, max(batch_index) AS b FROM rollouts")[0]
    assert (got["ids"], got["n"], got["b"]) == (["toy-0003"], 32, 3)


def test_reward_functions_give_the_graders_verdicts():
    from types import SimpleNamespace

    from selector.grader import Grader, grade
    from selector.rewards import RecordingReward, format_reward, outcome_reward

    completions = [[{"role": "assistant", "content": c}] for c in ("12+5=17 \\boxed{17}", "\\boxed{18}", "17", "\\boxed{\\frac{34}{2}}")]
    answers = ["17"] * 4
    want = [1.0 if grade(c[0]["content"], "17").correct else 0.0 for c in completions]
    assert want == [1.0, 0.0, 0.0, 1.0]
    assert outcome_reward(completions, answer=answers) == want
    assert format_reward(completions, answer=answers) == [1.0, 1.0, 0.0, 1.0]

    class Rec:
        def add(self, step, ids, texts, comp_ids, grades, rewards):
            self.got = (step, ids, [g.correct for g in grades], rewards)

    rec = Rec()
    with Grader(workers=1) as grader:
        reward = RecordingReward("outcome", grader, rec)
        out = reward(prompts=[None] * 4, completions=completions, completion_ids=[[1]] * 4, answer=answers,
                     example_id=["a"] * 4, trainer_state=SimpleNamespace(global_step=7))
    assert out == want and rec.got == (7, ["a"] * 4, [True, False, False, True], want)
    assert reward.__name__ == "outcome_reward"


def _mean_entropy(model, tok, texts):
    import torch

    enc = tok(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        logits = model(**enc).logits.float()
    p = torch.log_softmax(logits, -1)
    ent = -(p.exp() * p).sum(-1)
    return float((ent * enc["attention_mask"]).sum() / enc["attention_mask"].sum())


@pytest.mark.parametrize("coef,direction", [(0.5, +1), (-0.5, -1)], ids=["bonus-raises", "penalty-lowers"])
def test_entropy_coef_sign_matches_verls_bonus(tmp_path, tiny_model, coef, direction):
    """verl's loss is pg_loss - entropy_coeff * entropy with entropy_coeff = 0.001 (the paper's
    -0.001 written as a bonus). With a constant reward the policy gradient is zero, so only the
    entropy term moves the weights: a positive TRL entropy_coef must raise the entropy."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    probe = ["What is 12 plus 7? 12+7=19", "What is 40 minus 3? 40-3=37"]
    before = _mean_entropy(AutoModelForCausalLM.from_pretrained(tiny_model), tok, probe)
    args = GRPOConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=8, num_generations=4, max_completion_length=8,
                      max_steps=3, learning_rate=3e-3, beta=0.0, entropy_coef=coef, report_to=[], save_strategy="no",
                      use_cpu=True, bf16=False, disable_tqdm=True, logging_steps=1, seed=0)
    data = Dataset.from_list([{"prompt": [{"role": "user", "content": f"What is {i} plus {i}?"}]} for i in range(8)])
    trainer = GRPOTrainer(model=tiny_model, reward_funcs=[lambda completions, **kw: [0.0] * len(completions)], args=args,
                          train_dataset=data, processing_class=tok)
    trainer.train()
    after = _mean_entropy(trainer.model, tok, probe)
    assert (after - before) * direction > 0, (coef, before, after)


def test_presets_and_overrides_resolve():
    values = resolve_settings(TrainConfig(preset="paper-qwen2.5-math-1.5b"))
    assert (values["learning_rate"], values["beta"], values["entropy_coef"], values["use_bias_correction_kl"]) == (1e-6, 0.001, 0.001, False)
    assert (values["prompts_per_step"], values["num_generations"], values["temperature"], values["lr_scheduler_type"]) == (128, 8, 0.6, "constant")
    values = resolve_settings(TrainConfig(preset="toy", terms="pg", learning_rate=1e-5, set="top_k=50,log_completions=true"))
    assert (values["beta"], values["entropy_coef"], values["learning_rate"], values["top_k"], values["log_completions"]) == (0.0, 0.0, 1e-5, 50, True)
    assert resolve_settings(TrainConfig(terms="pg,kl"))["entropy_coef"] == 0.0
    for bad, msg in [(dict(preset="nope"), "valid presets"), (dict(set="not_a_field=1"), "GRPOConfig field"),
                     (dict(terms="kl"), "includes pg"), (dict(num_generations=1), ">= 2")]:
        with pytest.raises(UserError, match=msg):
            resolve_settings(TrainConfig(**bad), grpo_fields())


@pytest.mark.slow
def test_select_rank_pool_toy_runs_end_to_end(tmp_path, capsys):
    """The README's main command, shortened to 6 steps: builds the toy model if the cache lacks
    it (the full recipe, minutes; always so on a fresh CI machine), runs the history run, ranks
    it, prints pi1..pi16."""
    from selector.cli import run

    try:
        run(["rank", "--pool", "toy", "--max-steps", "6", "--store", str(tmp_path / "store"), "--json", "--top", "16"])
    except SystemExit as e:
        assert e.code in (0, None), capsys.readouterr().err
    rows = json.loads(capsys.readouterr().out)
    assert [r["pi"] for r in rows] == [f"pi{i}" for i in range(1, 17)]
    store = Store.open(tmp_path / "store")
    got = store.rows("SELECT count(*) AS n, count(DISTINCT step) AS steps FROM rollouts")[0]
    # the toy preset's history: 30 prompts x 8 rollouts per step; 6 steps stay inside the first
    # epoch (240 // 30 = 8 steps), so every prompt is a different example
    assert got == {"n": 6 * 30 * 8, "steps": 6}
    assert store.rows("SELECT count(DISTINCT example_id) AS n FROM scores WHERE score = 'variance'")[0]["n"] == 6 * 30


def test_rollouts_are_flushed_at_every_checkpoint_and_at_the_end(tmp_path, pool12, tiny_model):
    # save_steps=2 over 5 steps: parts after steps 2 and 4 (each before its checkpoint, so a kill
    # loses only steps a resume redoes) and at the end; no part per step (FLUSH_EVERY is 20).
    run_id = train(_cfg(tmp_path, pool12, tiny_model, max_steps=5, eval_steps=0, set="save_steps=2"))
    store = Store.open(tmp_path / "store")
    parts = store.rows("SELECT filename, min(step) AS first, max(step) AS last, count(*) AS n FROM read_parquet(?, filename = true) "
                       "GROUP BY filename ORDER BY first", [str(tmp_path / "store" / "rollouts" / run_id / "*.parquet")])
    assert [(p["first"], p["last"], p["n"]) for p in parts] == [(1, 2, 32), (3, 4, 32), (5, 5, 16)]
