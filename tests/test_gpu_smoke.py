"""perf/gpu_smoke.py on machines without a GPU (CI never has one).

    python -m pytest tests/test_gpu_smoke.py -q

Checked:
- without CUDA, the script prints one line and exits 0, measuring nothing;
- the padded tokenizer is as large as Qwen2.5-Math-1.5B's vocabulary, decodes every id, and encodes
  prompts exactly as the toy tokenizer does;
- the hidden `--cpu-dry-run` runs the GPU code path on a tiny model for one step: both trainers run
  in their own child processes, every rollout of the wrapper's run lands in its store, and the
  JSON and the table carry step times, rollout tokens and the planner's phase totals.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "perf" / "gpu_smoke.py"


def _run(*args, hide_gpus=False, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    if hide_gpus:
        env["CUDA_VISIBLE_DEVICES"] = ""
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def _module():
    spec = importlib.util.spec_from_file_location("gpu_smoke", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_cuda_prints_one_line_and_exits_zero():
    out = _run(hide_gpus=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1 and "needs" in lines[0] and "GPU" in lines[0], out.stdout
    assert "Traceback" not in out.stderr


def test_padded_tokenizer_decodes_every_id_and_encodes_like_the_toy_one():
    pytest.importorskip("transformers", reason="needs the train extra: pip install -e '.[train]'")
    from trainer.toy_model import make_tokenizer as toy_tokenizer

    smoke = _module()
    vocab = smoke.QWEN_MATH_1_5B["vocab_size"]
    tok = smoke.make_tokenizer(vocab)
    assert len(tok) == vocab == 151936
    tok.decode(list(range(vocab)))  # vLLM and TRL decode whatever id a random model samples
    toy = toy_tokenizer()
    chat = [{"role": "user", "content": "What is 6716 minus 459? Put the final answer within \\boxed{}."}]
    ours = tok.apply_chat_template(chat, add_generation_prompt=True, tokenize=True, return_dict=False)
    theirs = toy.apply_chat_template(chat, add_generation_prompt=True, tokenize=True, return_dict=False)
    assert ours == theirs
    assert (tok.eos_token_id, tok.pad_token_id) == (toy.eos_token_id, toy.pad_token_id)


@pytest.mark.slow
def test_cpu_dry_run_trains_both_trainers_and_reports_them(tmp_path):
    pytest.importorskip("trl", reason="needs the train extra: pip install -e '.[train]'")
    report = tmp_path / "smoke.json"
    out = _run("--cpu-dry-run", "--out", str(report), hide_gpus=True)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    data = json.loads(report.read_text())
    runs = {r["variant"]: r for r in data["runs"]}
    assert set(runs) == {"wrapper", "plain"} and not any("error" in r for r in runs.values()), data["runs"]
    g = data["geometry"]
    completions = g["prompts_per_step"] * g["num_generations"]
    for r in runs.values():
        assert len(r["step_s"]) == 1 and r["step_s"][0] > 0
        assert [x["completions"] for x in r["rollouts"]] == [completions]
        assert 0 < r["rollouts"][0]["tokens"] <= completions * g["max_completion_length"]
        assert r["peak_training"] is None  # no CUDA: no peaks, and none made up
    assert runs["wrapper"]["recorded_rollouts"] == completions  # every rollout of the step is in the store
    assert runs["plain"]["recorded_rollouts"] is None
    assert [(s["backend"], s["trainer"]) for s in data["summary"]] == [("hf", "plain"), ("hf", "wrapper")]
    assert {(m["backend"], m["phase"]) for m in data["memory"]} == {("hf", "generation"), ("hf", "training")}
    assert all(m["planned"] > 0 and m["measured"] is None for m in data["memory"])
    assert data["plans"]["hf"]["params"] > 0
    table = [line.split() for line in out.stdout.splitlines()]
    assert any(t[:3] == ["hf", "plain", "1"] for t in table), out.stdout
    assert any(t[:2] == ["hf", "wrapper"] and t[-1] == f"{completions}/{completions}" for t in table), out.stdout
