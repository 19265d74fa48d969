"""`select sweep` and `select results`: the plan, its storage, the launchers, resuming a sweep.

    python -m pytest tests/test_sweep.py -q

Planning needs no torch; the local-launcher test trains a tiny model on the real TRL path,
interrupts the sweep in its second run, and checks that re-running it finishes the rest without
redoing the finished run or counting a step twice.
"""

import json
import os
import shlex
import shutil
import subprocess

import pytest

from selector.cli import build_parser
from selector.cli.arguments import from_args
from selector.errors import UserError
from selector.cli.rank import RankConfig
from selector.cli.rank import main as rank
from selector.store import Store
from selector.cli.sweep import SweepConfig
from selector.cli.sweep import main as sweep

# The tiny model's settings: 4 prompts x 4 rollouts of <= 12 tokens, 2 steps, eval on 2 problems.
TINY = "prompts_per_step=4,num_generations=4,max_completion_length=12"


@pytest.fixture
def ranked(tmp_path, pool12):
    """A store holding a variance ranking of the 12-example pool (from a made-up history)."""
    hist = tmp_path / "hist.json"
    ids = [json.loads(line)["id"] for line in open(pool12.removeprefix("file:"))]
    # The i-th example: accuracies alternating around 0.5, spread growing with i (a clear order).
    hist.write_text(json.dumps({x: [0.5 + (k % 2 - 0.5) * i / 12 for k in range(6)] for i, x in enumerate(ids)}))
    rank(RankConfig(pool=pool12, history=str(hist), store=str(tmp_path / "store"), bootstrap=0, json=True))
    store = Store.open(tmp_path / "store")
    ranking = store.ranking(store.latest_ranking_id(pool12, "variance"))
    return pool12, store, [r["example_id"] for r in ranking]


def _cfg(tmp_path, pool, **kw):
    return SweepConfig(pool=pool, store=str(tmp_path / "store"), **{"preset": "toy", "set": TINY, **kw})


FULL = dict(top=3, few_shot="2", sets="pi1+pi3", baselines="random:2,bottom:1,full-pool,format-reward", seeds="1,2")


def test_plan_is_stored_once_and_every_command_is_the_planned_run(tmp_path, ranked, capsys):
    pool, store, order = ranked
    name = sweep(_cfg(tmp_path, pool, launcher="print", **FULL))
    plan = store.sweep_plan(name)
    labels = [r["label"] for r in plan if r["seed"] == 1]
    assert labels[:5] == ["pi1", "pi2", "pi3", "{pi1..pi2}", "{pi1,pi3}"]
    assert labels[7:] == ["pi12", "full pool", "format reward"]
    assert [r["grp"] for r in plan if r["seed"] == 1] == ["1-shot"] * 3 + ["few-shot"] * 2 + ["random"] * 2 + ["bottom", "full-pool", "format-reward"]
    assert [r["seed"] for r in plan] == [1] * 10 + [2] * 10  # seed-major
    examples = [json.loads(r["examples"]) for r in plan[:10]]
    assert examples[:5] == [[order[0]], [order[1]], [order[2]], order[:2], [order[0], order[2]]]
    randoms = {e[0] for e in examples[5:7]}
    assert len(randoms) == 2 and not randoms & set(order[:3])  # drawn outside pi1..pi3
    assert examples[7] == [order[-1]] and examples[8] is None and examples[9] is None
    configs = [json.loads(r["config"]) for r in plan[:10]]
    # the toy preset's 1-shot length, evaluation schedule and rate (not a history run's)
    assert (configs[8]["max_steps"], configs[8]["eval_steps"], configs[8]["reward"]) == (80, 20, "outcome")
    assert configs[8]["learning_rate"] == 3e-5
    assert configs[9]["reward"] == "format"
    assert len({r["run_id"] for r in plan}) == 20

    # `print`: one command per run; each parses as `select train` and names exactly the planned run.
    from selector.runs import prepare

    commands = capsys.readouterr().out.strip().splitlines()
    assert len(commands) == 20
    parser = build_parser()
    for cmd, row in zip(commands, plan):
        argv = shlex.split(cmd)
        assert argv[:2] == ["selector", "train"] and argv[-3:] == ["--run-id", row["run_id"], "--resume"]
        tc = from_args(__import__("selector.runs", fromlist=["TrainConfig"]).TrainConfig, parser.parse_args(argv[1:]))
        tc.run_id = None  # derive it from the settings, as a plain `select train` would
        assert prepare(tc).run_id == row["run_id"], cmd

    # The same command again finds the same sweep and stores nothing new.
    assert sweep(_cfg(tmp_path, pool, launcher="print", **FULL)) == name
    assert len(store.sweep_plan(name)) == 20
    assert store.rows("SELECT count(*) AS n FROM sweeps")[0]["n"] == 20
    with pytest.raises(UserError, match=f"sweep '{name}' exists with other options"):
        sweep(_cfg(tmp_path, pool, launcher="print", name=name, **{**FULL, "seeds": "1"}))


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, ranked, capsys):
    pool, store, _ = ranked
    before = sorted(p for p in (tmp_path / "store").rglob("*") if p.is_file())
    sweep(_cfg(tmp_path, pool, dry_run=True, **FULL))
    out = capsys.readouterr().out
    assert "20 runs, 0 finished" in out and "format reward" in out and "planned" in out
    assert sorted(p for p in (tmp_path / "store").rglob("*") if p.is_file()) == before


def test_slurm_dry_run_writes_one_array_task_per_run(tmp_path, ranked):
    pool, store, _ = ranked
    name = sweep(_cfg(tmp_path, pool, launcher="slurm", dry_run=True, slurm_args="--gres=gpu:1 --time=24:00:00", max_parallel=4, **FULL))
    script = tmp_path / "store" / "launch" / name / "array.sbatch"
    text = script.read_text()
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert "#SBATCH --array=0-19%4\n" in text and "#SBATCH --gres=gpu:1\n" in text and "#SBATCH --time=24:00:00\n" in text
    plan = store.sweep_plan(name)  # the plan is stored: the tasks' runs belong to the sweep
    # Run the script's own task selection with `eval` swapped for `echo`: task i runs plan[i].
    shown = []
    for task in (0, 7, 19):
        env = {**os.environ, "SLURM_ARRAY_TASK_ID": str(task)}
        got = subprocess.run(["bash", "-c", text.replace('eval "$CMD"', 'echo "$CMD"')], env=env, capture_output=True, text=True, check=True)
        shown.append(got.stdout.strip().splitlines()[-1])
    for line, task in zip(shown, (0, 7, 19)):
        assert shlex.split(line)[-3:] == ["--run-id", plan[task]["run_id"], "--resume"]
        assert f"--seed {plan[task]['seed']}" in line


def test_a_dry_run_plan_is_not_the_default_sweep_until_one_of_its_runs_starts(tmp_path, ranked, capsys):
    from selector.cli.results import ResultsConfig
    from selector.cli.results import main as results
    from selector.store import RunLog

    pool, store, _ = ranked
    name = sweep(_cfg(tmp_path, pool, launcher="slurm", dry_run=True, top=2, baselines=""))
    assert store.sweep_plan(name) and store.latest_sweep() is None and store.dry_run_sweeps() == [name]
    capsys.readouterr()
    rows = results(ResultsConfig(store=str(tmp_path / "store"), json=True))  # before any sweep: every run
    assert [r["kind"] for r in rows] == ["imported"]
    assert name in capsys.readouterr().err  # the dry-run plan is named, with how to see it
    # A real run of the same command (here: a planned run starting, as an array task would) makes it the default.
    RunLog(store, store.sweep_plan(name)[0]["run_id"]).start(0, create=dict(kind="one_shot", pool=pool, model=None, config={},
                                                                          grader_version="g"))
    assert store.latest_sweep() == name and store.dry_run_sweeps() == []


def test_a_plan_stored_before_dry_run_was_recorded_is_still_read(tmp_path, ranked):
    # A store made before `sweeps` had its dry_run column: parts and the schema file without it.
    import pyarrow.parquet as pq

    pool, store, _ = ranked
    name = sweep(_cfg(tmp_path, pool, launcher="print", top=2, baselines=""))
    for part in (tmp_path / "store" / "sweeps").rglob("*.parquet"):
        pq.write_table(pq.read_table(part).drop(["dry_run"]), part)
    fresh = Store.open(tmp_path / "store")
    assert "dry_run" not in pq.read_schema(tmp_path / "store" / "sweeps" / "_schema" / "empty.parquet").names
    assert fresh.latest_sweep() == name and len(fresh.sweep_plan(name)) == 2 and fresh.sweep_plan(name)[0]["dry_run"] is None


def test_the_default_seed_of_a_sweep_is_the_default_seed_of_train(tmp_path, ranked):
    # One default seed: the sweep's pi1 run at its default seeds is the run `select train --examples pi1` makes.
    from selector.runs import TrainConfig, prepare

    pool, store, _ = ranked
    name = sweep(_cfg(tmp_path, pool, launcher="print", top=1, baselines=""))
    planned = store.sweep_plan(name)
    train = prepare(TrainConfig(pool=pool, examples="pi1", preset="toy", set=TINY, store=str(tmp_path / "store")))
    assert [r["seed"] for r in planned] == [TrainConfig.seed] and planned[0]["run_id"] == train.run_id


def test_slurm_multi_node_script_starts_one_accelerate_launch_per_node(tmp_path, ranked):
    """--nodes 2 --processes 4: the array task asks SLURM for 2 nodes x 4 GPUs and srun starts
    one `accelerate launch` per node with its machine rank, 8 processes in all, meeting at the
    allocation's first node; each node runs the planned run's own `train` arguments."""
    pool, store, _ = ranked
    name = sweep(_cfg(tmp_path, pool, launcher="slurm", dry_run=True, nodes=2, processes=4, top=2, baselines=""))
    text = (tmp_path / "store" / "launch" / name / "array.sbatch").read_text()
    assert subprocess.run(["bash", "-n", "-c", text]).returncode == 0
    assert "#SBATCH --nodes=2\n" in text and "#SBATCH --gpus-per-node=4\n" in text and "#SBATCH --ntasks-per-node=1\n" in text
    plan = store.sweep_plan(name)
    bin_dir = tmp_path / "bin"  # scontrol answers with the allocation's hosts; srun shows what it would start
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text("#!/bin/bash\nprintf 'gpu07\\ngpu08\\n'\n")
    (bin_dir / "srun").write_text('#!/bin/bash\nwhile [[ "$1" == --* ]]; do shift; done\nprintf "%s\\n" "$@"\n')
    for f in ("scontrol", "srun"):
        (bin_dir / f).chmod(0o755)
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "1", "SLURM_NNODES": "2", "SLURM_JOB_NODELIST": "gpu[07-08]"}
    script = text.replace("export PATH=", f"export PATH={bin_dir}:")  # our stand-ins first
    got = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert got[-2:-1] == ["-c"]
    inner = got[-1]
    assert "--num_machines 2 --num_processes 8 --main_process_ip gpu07 --main_process_port 20001" in inner
    assert inner.endswith("--machine_rank $SLURM_NODEID -m selector " + plan[1]["command"].removeprefix("selector "))
    assert "--processes 4" in plan[1]["command"]  # each node's `selector train` knows it is one of several


def test_slurm_without_sbatch_says_so(tmp_path, ranked, monkeypatch):
    pool, _, _ = ranked
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here
    assert shutil.which("sbatch") is None
    with pytest.raises(UserError, match="needs `sbatch` on PATH.*--dry-run"):
        sweep(_cfg(tmp_path, pool, launcher="slurm", top=2, baselines=""))


@pytest.mark.parametrize("kw, message", [
    ({"launcher": "pbs"}, "unknown launcher 'pbs'; valid launchers: local, slurm, print"),
    ({"baselines": "median:2"}, "unknown baseline 'median'"),
    ({"baselines": "random"}, "give how many, e.g. random:3"),
    ({"baselines": "full-pool:3"}, "takes no count"),
    ({"top": 13}, "the ranking has only 12 examples"),
    ({"few_shot": "2,x"}, "expected a comma list of integers"),
    ({"few_shot": "1"}, "a set size between 2 and 12"),
    ({"sets": "pi1"}, "two or more members"),
    ({"sets": "pi1+pi99"}, "pi99: the ranking has pi1..pi12"),
    ({"sets": "pi1+nope"}, "example id 'nope' is not in pool"),
    ({"seeds": ""}, "--seeds is empty"),
    ({"top": 0, "baselines": ""}, "plans no run"),
    ({"baselines": "random:12"}, "only 9 examples outside pi1..pi3"),
    ({"baselines": "planted:wrong-gold"}, "has planted kinds unreachable; e.g. planted:unreachable"),
    ({"pis": "pi2"}, "--pis pi2: already planned"),
    ({"pis": "pi99"}, "pi99: the ranking has pi1..pi12"),
])
def test_bad_sweep_options_fail_in_one_line(tmp_path, ranked, kw, message):
    pool, store, _ = ranked
    with pytest.raises(UserError) as e:
        sweep(_cfg(tmp_path, pool, dry_run=True, **{"top": 3, **kw}))
    assert message in str(e.value) and "\n" not in str(e.value)
    assert store.rows("SELECT count(*) AS n FROM sweeps")[0]["n"] == 0


def test_more_one_shot_examples_and_a_planted_baseline(tmp_path, ranked):
    """--pis adds 1-shot runs beyond --top (the paper's pi13); planted:KIND trains on the pool's
    best-ranked planted example of that kind (pool12 holds the toy pool's toy-0007, unreachable)."""
    pool, store, order = ranked
    name = sweep(_cfg(tmp_path, pool, launcher="print", top=1, pis="pi5,toy-0003", baselines="planted:unreachable", seeds="1"))
    plan = store.sweep_plan(name)
    assert [(r["label"], r["grp"]) for r in plan] == [("pi1", "1-shot"), ("pi5", "1-shot"),
                                                      (f"pi{order.index('toy-0003') + 1}", "1-shot"),
                                                      (f"unreachable=pi{order.index('toy-0007') + 1}", "planted")]
    assert json.loads(plan[3]["examples"]) == ["toy-0007"]


def test_no_ranking_yet_says_how_to_make_one(tmp_path, pool12):
    with pytest.raises(UserError, match=r"run `selector rank --pool file:.*`.* first"):
        sweep(_cfg(tmp_path, pool12, dry_run=True, top=2))


def test_local_sweep_interrupted_then_rerun_finishes_the_rest(tmp_path, ranked, tiny_model, monkeypatch, capsys):
    pytest.importorskip("trl", reason="training needs the train extra: pip install -e '.[train]'")
    import trainer.grpo
    from transformers import TrainerCallback

    pool, store, _ = ranked
    opts = dict(top=2, baselines="bottom:1", seeds="1", model=tiny_model, max_steps=2, eval_steps=1, eval_limit=2)

    class Crash(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C during the second run's first step

    real, calls = trainer.grpo.train, []

    def train_then_crash(cfg, callbacks=()):
        calls.append(cfg.run_id)
        return real(cfg, callbacks=(Crash(),) if len(calls) == 2 else callbacks)

    monkeypatch.setattr(trainer.grpo, "train", train_then_crash)
    with pytest.raises(KeyboardInterrupt):
        sweep(_cfg(tmp_path, pool, **opts))
    name = store.latest_sweep()
    plan = store.sweep_plan(name)
    assert [store.run(r["run_id"])["status"] if store.run(r["run_id"]) else None for r in plan] == ["finished", "interrupted", None]
    first_rows = store.rows("SELECT count(*) AS n FROM rollouts_all WHERE run_id = ?", [plan[0]["run_id"]])[0]["n"]

    calls.clear()
    monkeypatch.setattr(trainer.grpo, "train", lambda cfg, callbacks=(): (calls.append(cfg.run_id), real(cfg, callbacks))[1])
    capsys.readouterr()
    assert sweep(_cfg(tmp_path, pool, **opts)) == name
    assert calls == [plan[1]["run_id"], plan[2]["run_id"]]  # the finished run is not trained again
    assert [store.run(r["run_id"])["status"] for r in plan] == ["finished"] * 3
    assert store.rows("SELECT count(*) AS n FROM rollouts_all WHERE run_id = ?", [plan[0]["run_id"]])[0]["n"] == first_rows
    dup = store.rows("SELECT count(*) AS n FROM (SELECT run_id, step, batch_index, sample_index FROM rollouts GROUP BY ALL HAVING count(*) > 1)")
    assert dup[0]["n"] == 0
    per_run = store.rows("SELECT run_id, count(DISTINCT step) AS steps FROM rollouts GROUP BY run_id ORDER BY run_id")
    assert [r["steps"] for r in per_run] == [2, 2, 2]
    # The results table: base, final and best per planned item.
    results = store.sweep_summary(name)
    assert [r["label"] for r in results] == ["pi1", "pi2", "pi12"]
    assert all(r["base"] is not None and r["final"] is not None and r["finished"] == 1 for r in results)
    out = capsys.readouterr().out
    assert f"sweep {name}" in out and "base model" in out and "pi12" in out


def test_results_before_any_sweep_lists_every_run_with_its_evaluations(tmp_path, capsys):
    from selector.cli.results import ResultsConfig
    from selector.cli.results import main as results
    from selector.store import now

    store = Store.open(tmp_path / "store", create=True)
    with store.writer("r1") as w:
        w.append("runs", [{"run_id": "r1", "kind": "one_shot", "pool": "toy", "model": "m", "config": json.dumps({"seed": 3, "examples": ["7"]}),
                           "grader_version": "g", "code_version": "0", "created_at": now(), "host": "h"}])
        w.append("run_events", [{"run_id": "r1", "event_time": now(), "status": "finished", "detail": ""}])
        # 4 problems, 1 sample each: 1 of 4 right before training (step 0), 3 of 4 at step 10.
        w.append("eval_samples", [{"run_id": "r1", "attempt": 0, "step": step, "benchmark": "toy", "problem_id": str(p), "sample_index": 0,
                                   "completion": "", "extracted": "", "correct": p < right, "formatted": True, "completion_tokens": 1,
                                   "grader_version": "g"} for step, right in ((0, 1), (10, 3)) for p in range(4)])
    rows = results(ResultsConfig(store=str(tmp_path / "store"), json=True))
    assert [(r["run_id"], r["seed"], r["examples"], r["base"], r["final"], r["final_step"]) for r in rows] == [("r1", 3, "7", 0.25, 0.75, 10)]
    capsys.readouterr()
    results(ResultsConfig(store=str(tmp_path / "store")))
    out = capsys.readouterr().out
    assert "no sweep yet" in out and "25.0" in out and "75.0" in out and "mean over toy" in out


@pytest.mark.parametrize("verb", ["sweep", "validate"])
def test_sweep_and_validate_check_the_launcher_and_refuse_to_start_under_accelerate(verb, monkeypatch):
    from selector.launcher import check_launcher

    with pytest.raises(UserError) as e:
        check_launcher("pbs", verb)
    assert str(e.value) == "unknown launcher 'pbs'; valid launchers: local, slurm, print"
    monkeypatch.setenv("WORLD_SIZE", "2")  # what accelerate launch / torchrun set in every process
    with pytest.raises(UserError) as e:
        check_launcher("local", verb)
    assert str(e.value) == (f"`selector {verb}` plans and launches runs itself; start it without a launcher and give "
                            "--processes N to train each run on N processes")
    monkeypatch.delenv("WORLD_SIZE")
    check_launcher("slurm", verb)  # known, and not under a launcher: fine
