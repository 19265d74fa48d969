"""Config files: `--config FILE.yaml` for train, rank, sweep and eval, and a run's stored config
back as such a file (`select show RUN --config`).

A config file is a YAML mapping whose keys are the command's options (its config dataclass's
field names, with dashes or underscores); flags given on the command line override it, as in
TRL's `--config`. List values become comma lists (`seeds: [1, 2]` is `--seeds 1,2`) and a mapping
under `set` becomes KEY=VALUE pairs (`set: {top_k: 50}`). An unknown key, or a value of the wrong
type, is one line naming the valid keys or the type.

    # pi1.yaml                                # selector train --config pi1.yaml --seed 2
    pool: toy
    examples: pi1
    learning_rate: 3.0e-5

`select show RUN --config` prints what reproduces a recorded run: for a run a sweep planned, the
planned `select train` options; for any other training run, its resolved settings as stored with
the run (a preset and what differs from it). Options that leave no trace in the run's record
(--eval-limit, --use-vllm outside a sweep) cannot be recovered and are named in a comment.
"""

import dataclasses
import typing
from pathlib import Path

from selector.errors import UserError

VERBS = ("train", "rank", "sweep", "eval")
FLAG = "--config"
DEST = "config_file"  # not `config`: `select show --config` is a field of its own


def add_flag(parser) -> None:
    parser.add_argument(FLAG, dest=DEST, metavar="FILE.yaml", default=None,
                        help="read options from a YAML file (keys: the options below, dashes or underscores); "
                             "flags given here override it")


def read(path: str, cls, command: str) -> dict:
    """The file's options as {field: value}, checked against `cls`'s fields and types."""
    import yaml

    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"{FLAG} {path}: cannot read it ({e.strerror or e})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise UserError(f"{FLAG} {path} is not valid YAML ({where}{getattr(e, 'problem', None) or e})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{FLAG} {path} must be a YAML mapping of options (key: value), found {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("positional")}
    hints = typing.get_type_hints(cls)
    out = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in fields:
            raise UserError(f"{FLAG} {path}: unknown key {key!r} for `selector {command}`; valid keys: {', '.join(fields)}")
        out[name] = _typed(value, hints[name], fields[name], f"{FLAG} {path}: {key}")
    return out


def _typed(value, hint, field, where: str):
    from selector.cli.arguments import _base_type

    optional = type(None) in typing.get_args(hint)
    tp = _base_type(hint)
    if value is None:
        if optional:
            return None
        raise UserError(f"{where} cannot be null (default: {field.default})")
    if tp is bool:
        if not isinstance(value, bool):
            raise UserError(f"{where} must be true or false, got {value!r}")
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{where} must be an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UserError(f"{where} must be a number, got {value!r}")
        value = float(value)
    elif tp is str:
        if isinstance(value, dict):  # set: {top_k: 50} -> "top_k=50"
            value = ",".join(f"{k}={_scalar(v)}" for k, v in value.items())
        elif isinstance(value, list):  # seeds: [1, 2] -> "1,2"
            value = ",".join(_scalar(v) for v in value)
        elif isinstance(value, (bool, int, float)):
            value = _scalar(value)
        elif not isinstance(value, str):
            raise UserError(f"{where} must be text, got {value!r}")
    choices = field.metadata.get("choices")
    if choices and value not in choices:
        raise UserError(f"{where} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def _scalar(v) -> str:
    return str(v).lower() if isinstance(v, bool) or v is None else str(v)


def apply(parser, sub, args, argv, cls):
    """Parse again with the file's options as the command's defaults, so that flags win."""
    values = read(getattr(args, DEST), cls, args.verb)
    sub.choices[args.verb].set_defaults(**values)
    return parser.parse_args(argv)


def load(cls, path: str, command: str, **overrides):
    """A command's config from a file (for tests and notebooks: `main(load(TrainConfig, "x.yaml", "train"))`)."""
    return cls(**{**read(path, cls, command), **overrides})


# --- a recorded run back as a config file --------------------------------------------------------

# TrainConfig fields that say where a run records or how a command behaves, not what the run is.
_NOT_RUN = ("store", "data_dir", "run_id", "resume", "print_config")
# Keys of a training run's stored record beside its resolved settings (PreparedRun.config_record).
_RECORD_ONLY = ("examples", "seed", "reward", "terms", "lora_r", "model_path", "steps_per_epoch", "pool_source",
                "geometry")


def run_yaml(store, run_id: str, data_dir: str | None = None) -> str:
    """The YAML that reproduces run `run_id` with `--config`, commented: which command, whether it
    was checked to resolve to the same run id, and what could not be recovered."""
    import json

    import yaml

    run = store.run(run_id)
    if run is None:
        known = ", ".join(r["run_id"] for r in store.runs()[-5:]) or "none"
        raise UserError(f"no run {run_id!r} in store {store.root} (latest runs: {known})")
    record = json.loads(run["config"] or "{}")
    if run["kind"] == "eval":
        fields, lost = _eval_fields(run_id, record), []
        got = _eval_run_id(fields, record, data_dir)
        command = "selector eval --config FILE"
    elif run["kind"] in ("history", "one_shot", "few_shot"):
        planned = store.rows("SELECT config FROM sweeps WHERE run_id = ? LIMIT 1", [run_id])
        if planned:
            fields, lost = _planned_fields(json.loads(planned[0]["config"])), []
        else:
            fields, lost = _train_fields(run, record), ["eval_limit", "use_vllm"]
        got = _train_run_id(fields, store, data_dir)
        command = "selector train --config FILE" + (" (or selector rank --config FILE)" if run["kind"] == "history" else "")
    else:
        raise UserError(f"run {run_id} is of kind {run['kind']!r}: no command reproduces it (an imported history is "
                        "re-imported with `selector rank --history FILE`)")
    head = [f"# run {run_id}: {command}"]
    if got == run_id:
        head.append("# checked: these options resolve to this run id")
    else:
        head.append(f"# NOT the same run: these options resolve to {got} (the code or a preset changed since)")
    if lost:
        head.append(f"# not recorded with a run, so not here: {', '.join(lost)}")
    return "\n".join(head) + "\n" + yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _planned_fields(plan: dict) -> dict:
    from selector.runs import TrainConfig

    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    return {k: v for k, v in plan.items() if k not in _NOT_RUN and (v != defaults.get(k) or k in ("pool", "seed"))}


def _train_fields(run: dict, record: dict) -> dict:
    """TrainConfig options from a run's stored record: the preset whose keys the record has (the
    closest one), and every setting that differs from it, as a flag or under `set`."""
    from selector.runs import PRESETS, TrainOptions, default_preset, preset as preset_values

    values = {k: v for k, v in record.items() if k not in _RECORD_ONLY}
    settable = {f.name for f in dataclasses.fields(TrainOptions)} - {"set", "preset", "model"}

    def distance(name):
        preset = PRESETS[name]
        return (len(set(preset) - set(values)), sum(values.get(k) != v for k, v in preset.items()),
                name != default_preset(run["pool"]))

    name = min(PRESETS, key=distance)
    preset = preset_values(name)
    fields = {"pool": run["pool"]}
    if name != default_preset(run["pool"]):
        fields["preset"] = name
    if record.get("examples"):
        fields["examples"] = ",".join(record["examples"])
    fields["seed"] = record.get("seed", 0)
    for key in ("reward", "terms", "lora_r"):
        default = {"reward": "outcome", "terms": "pg,kl,entropy", "lora_r": 0}[key]
        if record.get(key, default) != default:
            fields[key] = record[key]
    extra = []
    for key, value in values.items():
        if key == "max_steps":
            fields["max_steps"] = value  # always: the length decides the run
        elif key in preset and value == preset[key]:
            continue
        elif key == "model":
            fields["model"] = value
        elif key in settable and key in preset:
            fields[key] = value
        else:
            extra.append(f"{key}={_scalar(value)}")
    if extra:
        fields["set"] = ",".join(extra)
    return fields


def _train_run_id(fields: dict, store, data_dir: str | None) -> str | None:
    from selector.runs import TrainConfig, prepare

    try:
        return prepare(TrainConfig(**fields, store=str(store.root), data_dir=data_dir), store=store).run_id
    except UserError as e:
        return f"(none: {e})"


def _eval_fields(run_id: str, record: dict) -> dict:
    """EvalConfig options from an eval run's record: model, benchmarks, protocol, and a sampling
    override where every benchmark was sampled the same way and not as the protocol says."""
    from selector.benchmark import sampling
    from selector.benchmarks import get_benchmark

    fields = {}
    if not run_id.startswith("eval-toy-"):  # the toy model is recorded by its cached path
        fields["model"] = record.get("model")
    jobs = record.get("jobs", [])
    fields["bench"] = ",".join(job[0] for job in jobs)
    for key, default in (("protocol", "paper"), ("limit", None), ("seed", 0), ("backend", "hf")):
        if record.get(key, default) != default:
            fields[key] = record[key]
    try:
        protocol = [sampling(get_benchmark(name), record.get("protocol", "paper")).__dict__ for name, _, _ in jobs]
    except UserError:
        return fields
    for key in ("temperature", "samples", "max_new_tokens", "top_p"):
        used = {job[2].get(key) for job in jobs}
        if len(used) == 1 and any(job[2].get(key) != p[key] for job, p in zip(jobs, protocol)):
            fields[key] = used.pop()
    return fields


def _eval_run_id(fields: dict, record: dict, data_dir: str | None) -> str | None:
    from selector.cli.eval import EvalConfig, eval_run_id

    try:
        return eval_run_id(EvalConfig(**fields, data_dir=data_dir), record.get("model_path"))
    except UserError as e:
        return f"(none: {e})"
