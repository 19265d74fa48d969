"""The paper's recipe on GPUs, proven on CPU: the presets fit the hardware they state, `select
plan` answers, `select train` refuses a run that cannot fit, vLLM is seeded by --seed, a missing
vLLM is one line, LoRA gets its own learning rate, checkpoints at evaluated steps are kept.

    python -m pytest tests/test_gpu_recipes.py -q
"""

import json
from types import SimpleNamespace

import pytest

from cli_harness import cli
from selector.errors import UserError
from selector.memory import GB, parse_memory, plan
from selector.runs import PRESETS, TrainConfig, resolve_settings
from test_memory import QWEN_MATH_15B

PAPER_PRESETS = ["paper-qwen2.5-math-1.5b", "paper-qwen2.5-math-1.5b-1gpu", "paper-qwen2.5-math-1.5b-lora"]


@pytest.fixture
def qwen_config(tmp_path):
    """A directory with Qwen2.5-Math-1.5B's config.json (its public values) and a stand-in
    weights file: what the planner and the model check read, with no download."""
    (tmp_path / "config.json").write_text(json.dumps(QWEN_MATH_15B))
    (tmp_path / "model.safetensors").write_bytes(b"")
    return str(tmp_path)


@pytest.mark.parametrize("name", PAPER_PRESETS)
def test_each_paper_preset_fits_the_hardware_it_states(name):
    values = resolve_settings(TrainConfig(preset=name))
    p = plan(QWEN_MATH_15B, values, values["gpus"], parse_memory(values["gpu_memory"]))
    assert p.fits, (name, p.total / GB)
    assert values["use_vllm"] and values["vllm_mode"] == "colocate"
    assert values["vllm_importance_sampling_correction"] is False  # verl's recipe has no such correction


@pytest.mark.parametrize("gpus, memory, vllm, fits", [
    (1, "80GB", False, False),  # transformers' generate: 1,024 completions' KV cache at once, ~180 GB
    (1, "80GB", True, True),  # vLLM colocated, micro-batch 4: ~69 GB
    (8, "80GB", True, True),  # the paper's own hardware: ~75 GB (DDP's gradient buckets on top)
    (8, "80GB", False, True),  # the KV cache split 8 ways
    (8, "40GB", True, False),  # full fine-tuning needs more than 40 GB: the advice is LoRA
    (1, "40GB", False, False),
], ids=["1x80-hf", "1x80-vllm", "8x80-vllm", "8x80-hf", "8x40-vllm", "1x40-hf"])
def test_the_paper_preset_at_one_and_eight_gpus(gpus, memory, vllm, fits):
    values = resolve_settings(TrainConfig(preset="paper-qwen2.5-math-1.5b", use_vllm=vllm))
    p = plan(QWEN_MATH_15B, values, gpus, parse_memory(memory))
    assert p.fits == fits, p.total / GB
    if not fits:
        assert p.advice  # and each advice was planned again and fits (tests/test_memory.py)


def test_select_plan_prints_json_and_a_table(qwen_config, capsys):
    code, out, err = cli(capsys, "plan", "--model", qwen_config, "--preset", "paper-qwen2.5-math-1.5b", "--gpus", 1,
                         "--gpu-memory", "80GB", "--no-use-vllm", "--json")
    assert code in (0, None), err
    got = json.loads(out)
    assert {"parts", "fits", "advice"} <= set(got) and got["fits"] is False
    assert got["parts"]["weights"] == 1_543_714_304 * 4  # fp32 master weights, exact
    assert any("steps_per_generation" in a for a in got["advice"])
    code, out, err = cli(capsys, "plan", "--model", qwen_config, "--preset", "paper-qwen2.5-math-1.5b-1gpu")
    assert code in (0, None) and "fits: yes" in out and "kv_cache" not in out.split("fits:")[0] or "vllm" in out


def test_train_refuses_a_run_that_cannot_fit_before_loading_it(tmp_path, qwen_config, pool12, monkeypatch):
    pytest.importorskip("trl", reason="needs the train extra")
    import torch

    from trainer.grpo import train

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a lone 80 GB GPU
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: SimpleNamespace(total_memory=80 * 10**9))
    example = json.loads(open(pool12.removeprefix("file:")).readline())["id"]  # 1-shot: 128 copies of it a step
    cfg = TrainConfig(pool=pool12, model=qwen_config, preset="paper-qwen2.5-math-1.5b", use_vllm=False, examples=example,
                      store=str(tmp_path / "s"))
    with pytest.raises(UserError) as e:
        train(cfg)
    msg = str(e.value)
    assert "per GPU" in msg and "GPU has 80 GB" in msg and "--skip-memory-check" in msg and "\n" not in msg
    assert "selector plan" in msg
    from selector.store import Store

    assert Store.open(tmp_path / "s").runs() == []  # nothing recorded


def test_a_missing_vllm_is_one_line_before_anything_loads(tmp_path, pool12):
    pytest.importorskip("trl", reason="needs the train extra")
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    from trainer.grpo import train

    with pytest.raises(UserError, match=r"generates with vLLM .* not installed: pip install -e '\.\[gpu\]'.*--no-use-vllm"):
        train(TrainConfig(pool=pool12, preset="paper-qwen2.5-math-1.5b-1gpu", store=str(tmp_path / "s"),
                          prompts_per_step=12))


@pytest.mark.parametrize("kw, lr", [
    ({"preset": "paper-qwen2.5-math-1.5b"}, 1e-6),  # full fine-tuning: the paper's
    ({"preset": "paper-qwen2.5-math-1.5b", "lora_r": 16}, 1e-5),  # LoRA: the preset's lora_learning_rate
    ({"preset": "paper-qwen2.5-math-1.5b", "lora_r": 16, "learning_rate": 3e-6}, 3e-6),  # given: kept
    ({"preset": "paper-qwen2.5-math-1.5b", "lora_r": 16, "set": "learning_rate=2e-6"}, 2e-6),
    ({"preset": "paper-qwen2.5-math-1.5b-lora"}, 1e-5),
    ({"preset": "paper-qwen2.5-math-1.5b-lora", "lora_r": 0}, 1e-5),  # the LoRA preset's own rate, rank 0
    ({"preset": "toy", "lora_r": 4}, 3e-4),  # no lora_learning_rate in the preset: 10x
], ids=["full", "lora-flag", "lora-explicit-lr", "lora-set-lr", "lora-preset", "lora-preset-off", "toy-lora"])
def test_lora_gets_a_learning_rate_of_its_own(kw, lr):
    values = resolve_settings(TrainConfig(**kw))
    assert values["learning_rate"] == pytest.approx(lr)


def test_paper_presets_keep_the_papers_algorithm():
    for name in PAPER_PRESETS:
        v = PRESETS[name]
        assert (v["learning_rate"] if name != "paper-qwen2.5-math-1.5b-lora" else 1e-6) == 1e-6
        assert (v["prompts_per_step"], v["num_generations"], v["max_completion_length"], v["temperature"]) == (128, 8, 3072, 0.6)
        assert (v["beta"], v["entropy_coef"], v["use_bias_correction_kl"], v["weight_decay"]) == (0.001, 0.001, False, 0.01)


def test_vllm_is_seeded_by_the_runs_seed(tmp_path, pool12, tiny_model, monkeypatch):
    """vLLM samples from the process's global RNG, which starting vLLM reseeds with the process
    index (TRL 1.16: LLM(seed=process_index)): every --seed drew the same rollouts. A stand-in for
    TRL's vLLM backend does exactly that (reseeds at start, samples from the global RNG); with the
    run's seed put back after vLLM starts, seeds differ and the same seed repeats."""
    pytest.importorskip("trl", reason="needs the train extra")
    import torch
    import trl.trainer.grpo_trainer as grpo_trainer

    import trainer.grpo
    from selector.store import Store
    from trainer.grpo import train

    class FakeVLLM:
        def __init__(self, model, accelerator, processing_class, **kwargs):
            torch.manual_seed(accelerator.process_index)  # what vLLM's LLM(seed=...) does to this process
            self.vocab = len(processing_class)

        def sync_weights(self):
            pass

        def generate(self, prompts, images, num_generations, profiler):
            completions = [torch.randint(10, self.vocab, (6,)).tolist() for _ in prompts]
            return prompts, completions, [[[-1.0]] * len(c) for c in completions], None

    monkeypatch.setattr(grpo_trainer, "VLLMGeneration", FakeVLLM)
    monkeypatch.setattr(trainer.grpo, "_require_vllm", lambda: None)

    def rollouts(seed, store):
        run_id = train(TrainConfig(pool=pool12, model=tiny_model, preset="toy", use_vllm=True, seed=seed, max_steps=2,
                                   prompts_per_step=4, num_generations=4, max_completion_length=8, eval_steps=0,
                                   store=str(tmp_path / store)))
        return [r["completion"] for r in Store.open(tmp_path / store).rows(
            "SELECT completion FROM rollouts WHERE run_id = ? ORDER BY step, batch_index, sample_index", [run_id])]

    one, two, again = rollouts(1, "a"), rollouts(2, "b"), rollouts(1, "c")
    assert len(one) == 32 and one != two and one == again


def test_checkpoints_at_evaluated_steps_keep_their_weights(tmp_path, pool12, tiny_model):
    """--keep-checkpoints eval (the default): the newest two whole (for --resume), the weights of
    every evaluated step (for `select eval`), nothing else; `last`: the newest two."""
    pytest.importorskip("trl", reason="needs the train extra")
    from trainer.checkpoints import last_complete_checkpoint
    from trainer.grpo import train
    from trainer.model import model_path

    example = json.loads(open(pool12.removeprefix("file:")).readline())["id"]
    for keep, expect in (("eval", {2: "weights", 4: "weights", 5: "whole", 6: "whole"}), ("last", {5: "whole", 6: "whole"}),
                         ("every:3", {3: "weights", 5: "whole", 6: "whole"})):
        store = tmp_path / keep.replace(":", "")
        train(TrainConfig(pool=pool12, model=tiny_model, preset="toy", examples=example, max_steps=6, eval_steps=2,
                          eval_limit=1, prompts_per_step=4, num_generations=4, max_completion_length=8,
                          set="save_steps=1", keep_checkpoints=keep, store=str(store)))
        (run_dir,) = (store / "checkpoints").iterdir()
        got = {int(d.name.split("-")[1]): "whole" if (d / "optimizer.pt").exists() else "weights"
               for d in run_dir.glob("checkpoint-*")}
        assert got == expect, keep
        assert last_complete_checkpoint(run_dir).endswith("checkpoint-6")
        for step, kind in got.items():
            assert model_path(str(run_dir / f"checkpoint-{step}"))  # loadable as a model directory
            assert (run_dir / f"checkpoint-{step}" / "trainer_state.json").exists() == (kind == "whole")
