"""Config files: `--config FILE.yaml` (flags override the file; keys with dashes or underscores;
bad keys and types in one line) and `select show RUN --config`, whose YAML fed back through
`--config` resolves to the same run id.

    python -m pytest tests/test_config_file.py -q

The recorded runs are made as `select train` and `select eval` record them (the runs row with
the run's resolved config), without training: the run id is decided before any training.
"""

import json

import pytest

from cli_harness import cli
from selector.cli import build_parser, config_file
from selector.cli.arguments import from_args
from selector.cli.eval import EvalConfig, eval_run_id
from selector.errors import UserError
from selector.runs import TrainConfig, prepare
from selector.store import RunLog, Store


def _parse(argv, cls):
    parser = build_parser()
    args = parser.parse_args(argv)
    return from_args(cls, config_file.apply(parser, parser.sub, args, argv, cls))


def test_flags_override_the_file_and_keys_take_dashes_lists_and_mappings(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("pool: toy\nexamples: [pi1, pi13]\nlearning-rate: 3.0e-5\nseed: 2\nset: {top_k: 50, bf16: false}\n")
    cfg = _parse(["train", "--config", str(path), "--seed", "5"], TrainConfig)
    assert (cfg.pool, cfg.examples, cfg.learning_rate, cfg.seed, cfg.set) == ("toy", "pi1,pi13", 3e-5, 5, "top_k=50,bf16=false")
    assert _parse(["train", "--config", str(path)], TrainConfig).seed == 2  # the file's, where no flag is given


BAD = [
    # (file content, expected one-line message fragment)
    ("lr: 1e-5\n", "unknown key 'lr' for `selector train`; valid keys: store, data_dir, preset"),
    ("seed: two\n", "seed must be an integer, got 'two'"),
    ("seed: 1.5\n", "seed must be an integer"),
    ("use_vllm: yes please\n", "use_vllm must be true or false"),
    ("pool: null\n", "pool cannot be null"),
    ("- pool\n- toy\n", "must be a YAML mapping of options"),
    ("pool: [toy\n", "is not valid YAML (line 2"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[m.split(";")[0][:30] for _, m in BAD])
def test_a_bad_config_file_is_one_line_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, _, err = cli(capsys, "train", "--config", path)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and message in lines[0], err


def test_a_missing_config_file_is_one_line(tmp_path, capsys):
    code, _, err = cli(capsys, "rank", "--config", tmp_path / "absent.yaml")
    assert code == 2 and "cannot read it" in err and len(err.strip().splitlines()) == 1


def test_rank_runs_from_a_config_file(tmp_path, capsys, pool12):
    ids = [json.loads(line)["id"] for line in open(pool12.removeprefix("file:"))]
    hist = tmp_path / "h.json"
    hist.write_text(json.dumps({x: [0.5 - i / 24, 0.5 + i / 24] for i, x in enumerate(ids)}))  # std i/24: the last first
    path = tmp_path / "rank.yaml"
    path.write_text(f"pool: {pool12}\nhistory: {hist}\nstore: {tmp_path / 'store'}\ntop: 3\nbootstrap: 0\n")
    code, out, err = cli(capsys, "rank", "--config", path, "--json")
    assert code == 0, err
    assert [r["example_id"] for r in json.loads(out)] == ids[::-1][:3]


def _record(store, cfg: TrainConfig) -> str:
    """The runs row `select train` writes for `cfg` (trainer/grpo.py: kind, pool, model, config record)."""
    p = prepare(cfg, store=store)
    RunLog(store, p.run_id).start(0, create=dict(kind=p.kind, pool=p.pool.name, model=str(p.values["model"] or "toy-model"),
                                                 config=p.config_record("/models/toy"), grader_version="g"))
    return p.run_id


RUNS = [
    # (training options, what the case covers)
    (dict(examples="e3"), "1-shot at the defaults (toy preset on a file pool: the preset is named)"),
    (dict(examples="e3,e5", seed=3, learning_rate=1e-4, max_steps=7), "few-shot, a flag and a length"),
    (dict(examples="e3", terms="pg", reward="format", lora_r=4), "ablation terms, another reward, LoRA"),
    (dict(examples="e3", set="top_k=50,prompts_per_step=8"), "a GRPOConfig key and a preset key under --set"),
    (dict(eval_steps=0, max_steps=6), "a history run over the whole pool"),
    (dict(examples="e3", preset="paper-qwen2.5-math-1.5b", model="/models/qwen", set="prompts_per_step=4,micro_batch_size=4"),
     "another preset and model"),
]


@pytest.mark.parametrize("options,why", RUNS, ids=[w.split(" (")[0].split(":")[0] for _, w in RUNS])
def test_show_config_prints_yaml_that_resolves_to_the_same_run(tmp_path, capsys, options, why):
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"id": f"e{i}", "prompt": f"What is {i}+{i}?", "answer": str(2 * i)}) + "\n" for i in range(8)))
    store = Store.open(tmp_path / "store", create=True)
    base = {"preset": "toy", "set": "prompts_per_step=4"}
    options = {**base, **options} if "set" not in options else {"preset": "toy", **options}
    run_id = _record(store, TrainConfig(pool=f"file:{pool}", store=str(store.root), **options))
    code, out, err = cli(capsys, "show", run_id, "--config", "--store", store.root)
    assert code == 0, err
    assert "# checked: these options resolve to this run id" in out, out
    path = tmp_path / "again.yaml"
    path.write_text(out)
    again = config_file.load(TrainConfig, str(path), "train", store=str(store.root))
    assert prepare(again, store=store).run_id == run_id, (why, out)


def test_show_config_of_a_sweep_run_is_its_planned_options(tmp_path, capsys, pool12):
    from selector.cli.rank import RankConfig
    from selector.cli.rank import main as rank
    from selector.cli.sweep import SweepConfig
    from selector.cli.sweep import main as sweep

    ids = [json.loads(line)["id"] for line in open(pool12.removeprefix("file:"))]
    hist = tmp_path / "h.json"
    hist.write_text(json.dumps({x: [0.0, i / 12, 1.0] for i, x in enumerate(ids)}))
    store_dir = str(tmp_path / "store")
    rank(RankConfig(pool=pool12, history=str(hist), store=store_dir, bootstrap=0, json=True))
    name = sweep(SweepConfig(pool=pool12, store=store_dir, preset="toy", set="prompts_per_step=4", top=1, baselines="",
                             launcher="print", eval_limit=2, seeds="4"))
    store = Store.open(store_dir)
    planned = store.sweep_plan(name)[0]
    cfg = TrainConfig(**{k: v for k, v in json.loads(planned["config"]).items()}, store=store_dir)
    assert _record(store, cfg) == planned["run_id"]
    capsys.readouterr()
    code, out, err = cli(capsys, "show", planned["run_id"], "--config", "--store", store_dir)
    assert code == 0 and "# checked" in out and "eval_limit: 2" in out and "seed: 4" in out, out + err
    (tmp_path / "p.yaml").write_text(out)
    assert prepare(config_file.load(TrainConfig, str(tmp_path / "p.yaml"), "train", store=store_dir), store=store).run_id == planned["run_id"]


@pytest.mark.parametrize("options", [dict(bench="toy", limit=5), dict(bench="toy", limit=3, temperature=0.3, samples=2, seed=7)],
                         ids=["protocol", "overrides"])
def test_show_config_of_an_eval_run_resolves_to_the_same_run(tmp_path, capsys, options):
    store = Store.open(tmp_path / "store", create=True)
    cfg = EvalConfig(model="/models/m", store=str(store.root), **options)
    run_id = eval_run_id(cfg, "/models/m")
    from selector.cli.eval import _jobs, _run_key

    _, key = _run_key(cfg, "/models/m", _jobs(cfg))
    RunLog(store, run_id).start(0, create=dict(kind="eval", pool=None, model="/models/m", grader_version="g",
                                               config={**json.loads(key), "model_path": "/models/m", "protocol": cfg.protocol}))
    code, out, err = cli(capsys, "show", run_id, "--config", "--store", store.root)
    assert code == 0 and "# checked" in out, out + err
    (tmp_path / "e.yaml").write_text(out)
    assert eval_run_id(config_file.load(EvalConfig, str(tmp_path / "e.yaml"), "eval"), "/models/m") == run_id


def test_show_config_of_an_imported_history_says_it_has_none(tmp_path, capsys, pool12):
    from selector.cli.rank import RankConfig
    from selector.cli.rank import main as rank

    ids = [json.loads(line)["id"] for line in open(pool12.removeprefix("file:"))]
    hist = tmp_path / "h.json"
    hist.write_text(json.dumps({x: [0.5] for x in ids}))
    rank(RankConfig(pool=pool12, history=str(hist), store=str(tmp_path / "s"), bootstrap=0, json=True))
    run_id = Store.open(tmp_path / "s").runs()[0]["run_id"]
    code, _, err = cli(capsys, "show", run_id, "--config", "--store", tmp_path / "s")
    assert code == 2 and "re-imported with `selector rank --history FILE`" in err
    with pytest.raises(UserError, match="no run 'nope'"):
        config_file.run_yaml(Store.open(tmp_path / "s"), "nope")
