"""Several processes, as every GPU user runs them, on CPU: `accelerate launch` of 2 processes
talking over gloo (its torchrun path; its `--cpu` path would start one process).

    python -m pytest tests/test_multiprocess.py -q

The rows a 2-process run records must have a 1-process run's shape: every rollout once per
(step, prompt copy, generation), every eval sample once, one running and one ending event per
attempt, one ranking. Also here: a failing process ends the launch in seconds, kill -9 and
--resume lose and duplicate nothing, the paper's batch geometry, chunked generation, the checks
that keep a run from going wrong (the keys --set may not touch, overlong prompts, several GPUs
and no launcher).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("trl", reason="training needs the train extra: pip install -e '.[train]'")

from selector.errors import UserError  # noqa: E402
from selector.launcher import accelerate_command  # noqa: E402
from selector.runs import OWNED, TrainConfig, resolve_settings  # noqa: E402
from selector.store import Store  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TINY = ["--preset", "toy", "--prompts-per-step", "4", "--num-generations", "4", "--max-completion-length", "12"]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _launch(args: list, processes: int = 2, entry: list | None = None, timeout: int = 600, **kw):
    """`accelerate launch` of `processes` processes running `selector <args>` (or `entry`)."""
    cmd = accelerate_command(processes) + (entry or ["-m", "selector"]) + [str(a) for a in args]
    return subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout, cwd=REPO, **kw)


def _selector(args: list, **kw):
    """`python -m selector <args>` in a child process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "selector", *[str(a) for a in args]], env=_env(), capture_output=True,
                          text=True, timeout=600, cwd=REPO, **kw)


def _kill_tree(pid: int) -> None:
    """SIGKILL `pid` and every process below it, as a node failure or SLURM's cgroup kill does:
    torchrun starts its workers in sessions of their own, so killing the launcher's process group
    alone would leave them training."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += children.get(p, [])
    for p in tree:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _one(store: Store, sql: str, params=None):
    return next(iter(store.rows(sql, params)[0].values()))


def _shape(store: Store, run_id: str) -> dict:
    """What a run recorded, in the terms a 1-process run must match."""
    rows = store.rows("SELECT step, list(DISTINCT example_id ORDER BY example_id) AS ex, count(*) AS n FROM rollouts "
                      "WHERE run_id = ? GROUP BY step ORDER BY step", [run_id])
    # `rollouts` keeps each step's latest attempt (a step an attempt recorded before it was killed
    # is recorded again by the resumed one): what every view and user reads.
    dup = _one(store, "SELECT count(*) FROM (SELECT step, batch_index, sample_index FROM rollouts WHERE run_id = ? "
                      "GROUP BY ALL HAVING count(*) > 1)", [run_id])
    split = _one(store, "SELECT count(*) FROM (SELECT step, batch_index FROM rollouts WHERE run_id = ? GROUP BY ALL "
                        "HAVING count(DISTINCT example_id) > 1)", [run_id])  # a GRPO group is one prompt's rollouts
    events = [e["status"] for e in store.rows("SELECT status FROM run_events WHERE run_id = ? ORDER BY event_time, status",
                                              [run_id])]
    return {"steps": [(r["step"], r["ex"], r["n"]) for r in rows], "duplicates": dup, "split_groups": split,
            "events": events}


def test_two_processes_record_a_history_run_as_one_process_does(tmp_path, pool12, tiny_model):
    from trainer.grpo import train

    args = ["train", "--pool", pool12, "--model", tiny_model, *TINY, "--max-steps", 6, "--eval-steps", 0]
    got = _launch(args + ["--store", tmp_path / "two"])
    assert got.returncode == 0, got.stderr[-3000:]
    run_id = got.stdout.strip().splitlines()[-1]  # printed once, by the main process
    one = train(TrainConfig(pool=pool12, model=tiny_model, store=str(tmp_path / "one"), preset="toy", prompts_per_step=4,
                            num_generations=4, max_completion_length=12, max_steps=6, eval_steps=0))
    two, single = Store.open(tmp_path / "two"), Store.open(tmp_path / "one")
    assert one == run_id  # the same settings are the same run, on any number of processes
    shape = _shape(two, run_id)
    assert shape == _shape(single, one)  # the same examples at the same steps: the sampler does not care
    assert shape["duplicates"] == shape["split_groups"] == 0 and shape["events"] == ["running", "finished"]
    assert [n for _, _, n in shape["steps"]] == [16] * 6
    per_epoch = two.rows("SELECT epoch, count(DISTINCT example_id) AS ex, count(*) AS n FROM rollouts GROUP BY epoch ORDER BY epoch")
    assert [(r["ex"], r["n"]) for r in per_epoch] == [(12, 48), (12, 48)]  # an epoch is one pass over the pool
    config = json.loads(two.run(run_id)["config"])
    geometry = config["geometry"]
    assert (geometry["processes"], geometry["micro_batch_size"], geometry["gradient_accumulation_steps"]) == (2, 8, 1)


def test_two_processes_evaluate_each_problem_once(tmp_path, pool12, tiny_model):
    """Evaluation is sharded (5 problems over 2 processes: 3 + 2, the second padded), gathered and
    written once: every (step, problem, sample) once, every problem evaluated."""
    example = json.loads(Path(pool12.removeprefix("file:")).read_text().splitlines()[0])["id"]
    got = _launch(["train", "--pool", pool12, "--model", tiny_model, *TINY, "--examples", example, "--max-steps", 2,
                   "--eval-steps", 1, "--eval-limit", 5, "--store", tmp_path / "s"])
    assert got.returncode == 0, got.stderr[-3000:]
    store = Store.open(tmp_path / "s")
    per_step = store.rows("SELECT step, count(*) AS n, count(DISTINCT problem_id) AS p FROM eval_samples GROUP BY step ORDER BY step")
    assert [(r["step"], r["n"], r["p"]) for r in per_step] == [(0, 20, 5), (1, 20, 5), (2, 20, 5)]  # 4 samples each
    assert _one(store, "SELECT count(*) FROM (SELECT step, problem_id, sample_index FROM eval_samples GROUP BY ALL "
                       "HAVING count(*) > 1)") == 0
    from selector.benchmarks import BENCHMARKS

    assert {r["problem_id"] for r in store.rows("SELECT DISTINCT problem_id FROM eval_samples")} == \
        {r["id"] for r in BENCHMARKS["toy"].generated(0)[:5]}
    assert [r["name"] for r in store.rows("SELECT DISTINCT name FROM metrics WHERE name LIKE 'eval/%' ORDER BY name")] == \
        ["eval/seconds", "eval/toy/accuracy"]


@pytest.mark.slow
def test_rank_and_sweep_with_processes_2(tmp_path, pool12, tiny_model):
    """`--processes 2` on rank and sweep trains each run on 2 processes and records one ranking;
    `accelerate launch -m selector rank` records one ranking too (its main process ranks)."""
    store = tmp_path / "s"
    common = ["--pool", pool12, "--model", tiny_model, *TINY, "--store", store, "--bootstrap", 0]
    got = _selector(["rank", *common, "--max-steps", 3, "--processes", 2, "--json"])
    assert got.returncode == 0, got.stderr[-3000:]
    s = Store.open(store)
    (history,) = [r["run_id"] for r in s.rows("SELECT run_id FROM runs WHERE kind = 'history'")]
    assert json.loads(s.run(history)["config"])["geometry"]["processes"] == 2
    assert _one(s, "SELECT count(DISTINCT ranking_id) FROM rankings") == 1
    got = _launch(["rank", *common, "--max-steps", 3, "--seed", 1])  # a second history run, under the launcher
    assert got.returncode == 0, got.stderr[-3000:]
    assert _one(s, "SELECT count(DISTINCT ranking_id) FROM rankings") == 2  # one more, not two more
    got = _selector(["sweep", "--pool", pool12, "--model", tiny_model, "--store", store, "--preset", "toy",
                     "--set", "prompts_per_step=4,num_generations=4,max_completion_length=12", "--top", 1, "--baselines", "",
                     "--seeds", 1, "--max-steps", 2, "--eval-steps", 0, "--processes", 2])
    assert got.returncode == 0, got.stderr[-3000:]
    (run,) = s.rows("SELECT run_id, config, status FROM run_status WHERE kind = 'one_shot'")
    assert run["status"] == "finished" and json.loads(run["config"])["geometry"]["processes"] == 2
    assert _shape(s, run["run_id"])["duplicates"] == 0


@pytest.mark.slow
def test_a_failing_process_ends_the_launch_in_seconds_and_resume_finishes_the_run(tmp_path, pool12, tiny_model):
    """Process 1 raises at step 2: the launcher stops process 0 at once (not at the 30-minute
    collective timeout), the attempt gets one `failed` event naming process 1, and --resume
    finishes the run with every step recorded once."""
    args = ["--pool", pool12, "--model", tiny_model, *TINY, "--max-steps", 4, "--eval-steps", 0, "--set", "save_steps=1",
            "--store", tmp_path / "s", "--run-id", "crash"]
    env = {"CRASH_STEP": "2", "CRASH_PROCESS": "1"}
    os.environ.update(env)
    try:
        start = time.monotonic()
        got = _launch(args, entry=[str(REPO / "tests" / "entry" / "crash_on_process.py")])
        took = time.monotonic() - start
    finally:
        for k in env:
            os.environ.pop(k)
    assert got.returncode != 0 and "simulated crash at step 2" in got.stderr
    assert took < 120, took  # two model loads and two steps; a collective timeout would be 1,800 s
    store = Store.open(tmp_path / "s")
    events = store.rows("SELECT status, detail FROM run_events WHERE run_id = 'crash' ORDER BY event_time, status")
    assert [e["status"] for e in events] == ["running", "failed"]
    assert events[1]["detail"] == "process 1: RuntimeError: simulated crash at step 2"
    got = _launch(["train", *args, "--resume"])
    assert got.returncode == 0, got.stderr[-3000:]
    shape = _shape(store, "crash")
    assert [n for _, _, n in shape["steps"]] == [16] * 4 and shape["duplicates"] == 0
    assert shape["events"] == ["running", "failed", "running", "finished"]


@pytest.mark.slow
def test_kill_9_of_a_two_process_launch_then_resume_matches_an_uninterrupted_run(tmp_path, pool12, tiny_model):
    """SIGKILL of the whole launch mid-epoch (no process can write a word), then --resume on 2
    processes: 0 rollouts lost, 0 duplicated, and every epoch accuracy equal to an uninterrupted
    2-process run's with the same seed (the resumed run replays the same batches and samples)."""
    base = ["train", "--pool", pool12, "--model", tiny_model, *TINY, "--max-steps", 15, "--eval-steps", 0,
            "--set", "save_steps=1", "--seed", 3]
    got = _launch(base + ["--store", tmp_path / "whole"])
    assert got.returncode == 0, got.stderr[-3000:]
    cmd = accelerate_command(2) + ["-m", "selector", *[str(a) for a in base], "--store", str(tmp_path / "cut")]
    proc = subprocess.Popen(cmd, env=_env(), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        parts = tmp_path / "cut" / "rollouts"
        while time.monotonic() < deadline:  # one part per step (a checkpoint every step): kill after the 4th
            time.sleep(0.05)
            if len([p for p in parts.glob("*/*.parquet") if p.parent.name != "_schema"]) >= 4:
                break
    finally:
        _kill_tree(proc.pid)
        proc.wait()
    cut = Store.open(tmp_path / "cut")
    (run_id,) = [r["run_id"] for r in cut.rows("SELECT run_id FROM runs")]
    assert cut.run(run_id)["status"] == "running"  # killed: nothing could be written
    steps_before = _one(cut, "SELECT count(DISTINCT step) FROM rollouts")
    assert 4 <= steps_before < 15
    got = _launch(base + ["--store", tmp_path / "cut", "--resume"])
    assert got.returncode == 0, got.stderr[-3000:]
    assert "took over the lease" in got.stderr  # the killed attempt's lease, held by a dead process
    whole = Store.open(tmp_path / "whole")
    assert _shape(cut, run_id)["steps"] == _shape(whole, run_id)["steps"]
    assert _shape(cut, run_id)["duplicates"] == 0
    acc = "SELECT example_id, epoch, n_correct, n FROM epoch_accuracy WHERE run_id = ? ORDER BY example_id, epoch"
    assert cut.rows(acc, [run_id]) == whole.rows(acc, [run_id])


@pytest.mark.slow
def test_a_second_writer_of_a_live_run_is_refused(tmp_path, pool12, tiny_model):
    """A run started, then `--resume`d while it is still alive (a requeued SLURM job, a second
    terminal): the second attempt stops in one line naming the live one, before writing a row."""
    base = [sys.executable, "-m", "selector", "train", "--pool", pool12, "--model", tiny_model, *TINY, "--max-steps", 400,
            "--eval-steps", 0, "--store", tmp_path / "s", "--run-id", "live"]  # long enough to be alive throughout
    first = subprocess.Popen([str(a) for a in base], env={**_env(), "RLVR_LEASE_INTERVAL": "1"}, cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "s" / "leases" / "live.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        second = subprocess.run([str(a) for a in base + ["--resume"]], env=_env(), capture_output=True, text=True,
                                timeout=300, cwd=REPO)
        assert first.poll() is None  # still training
    finally:
        _kill_tree(first.pid)
        first.wait()
    assert second.returncode == 2
    err = second.stderr.strip().splitlines()
    assert len(err) == 1 and "run live is being trained by attempt 0 on host" in err[0] and f"(pid {first.pid})" in err[0]
    store = Store.open(tmp_path / "s")
    assert [e["status"] for e in store.rows("SELECT status FROM run_events ORDER BY event_time")] == ["running"]


def test_steps_per_generation_chunks_are_recorded_once(tmp_path, pool12, tiny_model):
    """16 completions per step in micro-batches of 4, generated 8 at a time (steps_per_generation
    2): two reward calls per step, recorded as one step's 16 rollouts, each group intact."""
    from trainer.grpo import train

    cfg = TrainConfig(pool=pool12, model=tiny_model, store=str(tmp_path / "s"), preset="toy", prompts_per_step=4,
                      num_generations=4, max_completion_length=12, micro_batch_size=4, max_steps=2, eval_steps=0,
                      set="steps_per_generation=2")
    run_id = train(cfg)
    shape = _shape(Store.open(tmp_path / "s"), run_id)
    assert [n for _, _, n in shape["steps"]] == [16, 16] and shape["duplicates"] == shape["split_groups"] == 0
    bad = TrainConfig(**{**cfg.__dict__, "set": "steps_per_generation=3", "run_id": "bad"})
    with pytest.raises(UserError, match="must split the step's 4 micro-batches"):
        train(bad)
    assert Store.open(tmp_path / "s").run("bad") is None  # refused before anything was recorded


@pytest.mark.slow
def test_the_papers_batch_geometry_on_two_processes(tmp_path, tiny_model):
    """128 prompts x 8 rollouts in micro-batches of 16 on 2 processes: gradient accumulation 32,
    one optimizer step per step, 1,024 rollouts recorded per step."""
    from selector.toy import pool_rows

    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in pool_rows()[:256]))
    got = _launch(["train", "--pool", f"file:{pool}", "--model", tiny_model, "--preset", "toy", "--prompts-per-step", 128,
                   "--num-generations", 8, "--micro-batch-size", 16, "--max-completion-length", 4, "--max-steps", 2,
                   "--eval-steps", 0, "--store", tmp_path / "s"], timeout=900)
    assert got.returncode == 0, got.stderr[-3000:]
    store = Store.open(tmp_path / "s")
    (run,) = store.rows("SELECT run_id, config FROM runs")
    config = json.loads(run["config"])
    geometry = config["geometry"]
    assert (geometry["processes"], geometry["micro_batch_size"], geometry["gradient_accumulation_steps"]) == (2, 16, 32)
    shape = _shape(store, run["run_id"])
    assert [(s, len(ex), n) for s, ex, n in shape["steps"]] == [(1, 128, 1024), (2, 128, 1024)]
    assert shape["duplicates"] == shape["split_groups"] == 0
    steps = store.rows("SELECT DISTINCT step FROM metrics WHERE run_id = ? AND name = 'loss' ORDER BY step", [run["run_id"]])
    assert [r["step"] for r in steps] == [1, 2]  # one optimizer step (one logged loss) per 1,024 rollouts


@pytest.mark.parametrize("key", sorted(OWNED))
def test_set_refuses_the_keys_the_wrapper_owns(key):
    with pytest.raises(UserError, match=f"the wrapper sets {key} itself"):
        resolve_settings(TrainConfig(set=f"{key}=1"))


def test_every_field_the_wrapper_sets_is_refused_by_set():
    from types import SimpleNamespace

    from trainer.grpo import owned_args

    fake = SimpleNamespace(values={"max_steps": 3, "use_vllm": False}, cfg=TrainConfig())
    assert set(owned_args(fake, "/tmp/x", 4, 2)) <= set(OWNED)


def test_overlong_prompts_are_dropped_by_their_token_count(tiny_model, capsys):
    from transformers import AutoTokenizer

    from trainer.grpo import _drop_long_prompts

    tok = AutoTokenizer.from_pretrained(tiny_model)
    short = {"prompt": [{"role": "user", "content": "Compute 1+2."}]}
    long = {"prompt": [{"role": "user", "content": "Compute 1+2. " * 40}]}
    n_short = len(tok.apply_chat_template(short["prompt"], add_generation_prompt=True, return_dict=True)["input_ids"])
    assert n_short > 2  # the count is of tokens, not of the mapping's keys
    assert _drop_long_prompts([short, long], tok, limit=n_short + 5) == [short]
    assert "dropped 1 of 2 prompts longer than" in capsys.readouterr().err
    with pytest.raises(UserError, match="every prompt is longer"):
        _drop_long_prompts([long], tok, limit=n_short)


def test_several_gpus_and_no_launcher_stop_before_anything_is_recorded(tmp_path, pool12, monkeypatch):
    import torch

    from trainer.grpo import train

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setattr(sys, "argv", ["selector", "train", "--pool", pool12])
    with pytest.raises(UserError) as e:
        train(TrainConfig(pool=pool12, store=str(tmp_path / "s"), preset="toy"))
    assert f"accelerate launch --num_processes 4 -m selector train --pool {pool12}" in str(e.value)
    assert "CUDA_VISIBLE_DEVICES=0" in str(e.value) and not (tmp_path / "s").exists()


@pytest.mark.parametrize("n, processes, sizes", [(7, 2, [4, 4]), (5, 3, [2, 2, 2]), (4, 2, [2, 2]), (1, 2, [1, 1])],
                         ids=["odd", "three", "even", "fewer-than-processes"])
def test_eval_shards_cover_every_problem_once_with_equal_lengths(n, processes, sizes):
    from trainer.evaluate import shard_rows

    rows = [{"id": f"p{i}", "prompt": [], "answer": str(i)} for i in range(n)]
    shards = [shard_rows(rows, i, processes) for i in range(processes)]
    assert [len(s) for s, _ in shards] == sizes  # the same number of generate calls on every process
    reals = [real for _, real in shards]
    assert sorted(x for r in reals for x in r) == sorted(r["id"] for r in rows)  # each problem in one shard
    assert all(len(set(r["id"] for r in s)) == len(s) for s, _ in shards)  # padding has ids of its own


def test_recorder_numbers_chunks_and_processes_globally():
    """Process 1 of 2, two generation batches of one step (4 completions each per process):
    indices continue over chunks and processes, so the 2 x 2 x 4 rollouts of the step are 16
    distinct (batch, sample) pairs across the processes."""
    from types import SimpleNamespace

    from selector.grader import Grade
    from trainer.recorder import Recorder

    def keys(process):
        rec = Recorder(writer=None, run_id="r", attempt=0, steps_per_epoch=3, num_generations=4, grader_version="g",
                       accelerator=SimpleNamespace(num_processes=2, process_index=process))
        for _ in range(2):
            rec.add(0, ["e"] * 4, ["x"] * 4, [[1]] * 4, [Grade(False, False, None)] * 4, [0.0] * 4)
        return [(r["step"], r["batch_index"], r["sample_index"]) for r in rec.rows]

    both = keys(0) + keys(1)
    assert len(set(both)) == 16 and {b for _, b, _ in both} == {0, 1, 2, 3}
    assert keys(1)[:4] == [(1, 1, 0), (1, 1, 1), (1, 1, 2), (1, 1, 3)]  # chunk 0, process 1: the second group


def test_chunked_generation_keeps_every_step_inside_one_epoch(tmp_path, tiny_model):
    """10 examples, 4 prompts per step generated 2 at a time: a pass is 2 whole steps (the last 2
    examples sit the epoch out, as the authors' loader drops the last partial batch), never 2.5
    steps with the third closed by the next pass's prompts."""
    from selector.toy import pool_rows
    from trainer.grpo import train

    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in pool_rows()[:10]))
    run_id = train(TrainConfig(pool=f"file:{pool}", model=tiny_model, store=str(tmp_path / "s"), preset="toy",
                               prompts_per_step=4, num_generations=4, max_completion_length=8, micro_batch_size=4,
                               max_steps=6, eval_steps=0, set="steps_per_generation=2"))
    store = Store.open(tmp_path / "s")
    per_epoch = store.rows("SELECT epoch, list(DISTINCT step ORDER BY step) AS steps, count(DISTINCT example_id) AS ex, "
                           "count(*) AS n FROM rollouts WHERE run_id = ? GROUP BY epoch ORDER BY epoch", [run_id])
    assert [(r["steps"], r["ex"], r["n"]) for r in per_epoch] == [([1, 2], 8, 32), ([3, 4], 8, 32), ([5, 6], 8, 32)]
