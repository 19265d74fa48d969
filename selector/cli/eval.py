"""`select eval`: evaluate a model on benchmarks with the paper's protocol, record every sample.

    selector eval --bench toy                                     # the embedded toy model on the toy benchmark
    selector eval --model Qwen/Qwen2.5-Math-1.5B --bench math6    # the paper's six, its protocol
    selector eval --model RLVR-STORE/checkpoints/RUN/checkpoint-80 --bench math500 --limit 50
    selector eval --model M --bench aime24 --temperature 0.6 --samples 32 --backend vllm

Benchmarks are declared one per file in selector/benchmarks/ (data file under the data
directory, or the hub for users who have it; fields; the paper's sampling). `--protocol paper`
(the default) is greedy for MATH500 / Minerva / OlympiadBench and temperature 0.6 with 8
samples for AIME24 / AIME25 / AMC23, 3,072 new tokens; `greedy` and `sampled` (T=0.6, 8
samples) apply one setting to all; flags override single values. Every sample is graded with
the one grader and recorded in `eval_samples` (a run of kind `eval`); the table shows each
benchmark's accuracy (mean over samples, avg@k), unbiased pass@k at k = samples, and the
average of the paper's six when all six were evaluated. Running the same command again
evaluates only the benchmarks not yet recorded.
"""

import hashlib
import json
import os
import sys
from dataclasses import dataclass

from selector.cli.arguments import OutputOptions, add_command
from selector.config import StoreOptions, option
from selector.errors import UserError

HELP = "evaluate a model on benchmarks (MATH500, AIME, ..., toy) with the paper's protocol; record every sample"

BACKENDS = ("hf", "vllm")


@dataclass
class EvalConfig(StoreOptions, OutputOptions):
    model: str | None = option(None, "model directory, checkpoint or hub id (default: the embedded toy model)",
                               metavar="PATH_OR_HUB_ID")
    bench: str | None = option(None, "benchmarks, comma list (math6 = the paper's six); default: toy for the toy model, "
                                     "else math6", metavar="LIST")
    protocol: str = option("paper", "sampling protocol: paper (each benchmark's own), greedy, sampled")
    temperature: float | None = option(None, "override the sampling temperature (0 = greedy)", metavar="T")
    samples: int | None = option(None, "override the samples per problem", metavar="N")
    max_new_tokens: int | None = option(None, "override the max new tokens", metavar="N")
    top_p: float | None = option(None, "override top-p", metavar="P")
    limit: int | None = option(None, "the first N problems of each benchmark only", metavar="N")
    backend: str = option("hf", "generation backend: hf (transformers generate, CPU or GPU) or vllm (the gpu extra)")
    batch_size: int = option(32, "prompts per generate call (hf backend)", metavar="N")
    seed: int = option(0, "sampling seed")
    run_id: str | None = option(None, "name of the evaluation run (default: derived from model and settings)")


def make_parser(subparsers):
    return add_command(subparsers, "eval", HELP, __doc__, EvalConfig)


def main(cfg: EvalConfig) -> list[dict]:
    from selector.benchmarks import MATH6
    from selector.errors import require_extra
    from selector.grader import GRADER_VERSION
    from selector.paths import store_dir
    from selector.store import RunLog, Store

    if cfg.backend not in BACKENDS:
        raise UserError(f"unknown backend {cfg.backend!r}; valid backends: {', '.join(BACKENDS)}")
    if cfg.limit is not None and cfg.limit < 1:
        raise UserError("--limit must be >= 1")
    if "WORLD_SIZE" in os.environ:
        raise UserError("`selector eval` runs in one process; start it without a launcher (--backend vllm spreads a big "
                        "model over GPUs)")
    jobs = _jobs(cfg)
    require_extra("`selector eval`", modules=("torch", "transformers"))
    from trainer.model import model_path

    path = model_path(cfg.model)
    run_id, key = _run_key(cfg, path, jobs)

    store = Store.open(store_dir(cfg.store), create=True)
    existing = store.run(run_id)
    done = {r["benchmark"] for r in store.run_eval_scores(run_id)} if existing else set()
    todo = [j for j in jobs if j[0] not in done]
    if done:
        print(f"run {run_id}: {', '.join(sorted(done))} already evaluated" + ("" if todo else "; nothing to do"), file=sys.stderr)
    if todo:
        log = RunLog(store, run_id)
        create = None if existing else dict(kind="eval", pool=None, model=cfg.model or path, grader_version=GRADER_VERSION,
                                            config={**json.loads(key), "model_path": path, "protocol": cfg.protocol})
        _evaluate(cfg, log, path, todo, create, GRADER_VERSION)
    return _print(store, run_id, jobs, cfg, MATH6)


def _jobs(cfg: EvalConfig):
    from selector.benchmarks import eval_jobs, parse_names

    names = parse_names(cfg.bench or ("toy" if cfg.model is None else "math6"))
    return eval_jobs(names, cfg.data_dir, cfg.limit, cfg.protocol, temperature=cfg.temperature, samples=cfg.samples,
                     max_new_tokens=cfg.max_new_tokens, top_p=cfg.top_p)


def _run_key(cfg: EvalConfig, path: str, jobs) -> tuple[str, str]:
    """(the run id, the JSON it hashes): same model, problems, sampling, seed, backend and grader,
    same run."""
    from selector.grader import GRADER_VERSION
    from selector.paths import slug

    key = json.dumps({"model": cfg.model or path, "jobs": [(n, len(r), s.__dict__) for n, r, s in jobs], "limit": cfg.limit,
                      "seed": cfg.seed, "backend": cfg.backend, "grader": GRADER_VERSION}, sort_keys=True)
    return cfg.run_id or f"eval-{slug(cfg.model or 'toy', 32)}-{hashlib.sha256(key.encode()).hexdigest()[:10]}", key


def eval_run_id(cfg: EvalConfig, path: str) -> str:
    """The id `select eval` gives these options (`path`: the model's directory, as resolved)."""
    return _run_key(cfg, path, _jobs(cfg))[0]


def _evaluate(cfg, log, path, todo, create, grader_version) -> None:
    from selector.grader import Grader
    from selector.store.lease import Lease
    from trainer.evaluate import evaluate_model

    attempt = log.next_attempt()
    lease = Lease.acquire(log.store.root, log.run_id, attempt)  # one writer per run, as for training
    try:
        log.start(attempt, create=create)
        _generate(cfg, log, path, todo, attempt, grader_version, evaluate_model, Grader)
    finally:
        lease.release()


def _generate(cfg, log, path, todo, attempt, grader_version, evaluate_model, Grader) -> None:
    def record(name, acc, samples):  # one benchmark at a time, so an interrupted eval keeps what it finished
        log.writer.append("eval_samples", [{**s, "run_id": log.run_id, "attempt": attempt, "step": 0,
                                            "grader_version": grader_version} for s in samples])
        log.writer.flush()
        print(f"{name}: accuracy {100 * acc:.1f}% over {len(samples)} samples", file=sys.stderr)

    grader = Grader(timeout_s=5.0).start()  # workers load sympy while the model loads
    try:
        evaluate_model(path, todo, cfg.backend, cfg.seed, grader, record, cfg.batch_size)
    except BaseException as e:
        log.fail(e)
        raise
    finally:
        grader.close()
    log.finish(f"{len(todo)} benchmarks")


def _print(store, run_id, jobs, cfg, math6) -> list[dict]:
    from selector.cli.output import emit

    scores = {r["benchmark"]: r for r in store.run_eval_scores(run_id)}
    paper = {r["benchmark"]: r for r in store.set_grading_mode("paper").run_eval_scores(run_id)}
    store.set_grading_mode("strict")
    rows = [{"benchmark": n, "problems": scores[n]["problems"], "sampling": s.describe(), "accuracy": scores[n]["accuracy"],
             "accuracy_paper": paper[n]["accuracy"] if n in paper else None, "pass@k": scores[n]["pass_at_n"],
             "k": scores[n]["samples"]} for n, _, s in jobs if n in scores]
    if all(n in scores for n in math6):
        rows.append({"benchmark": "average of the six", "problems": sum(scores[n]["problems"] for n in math6), "sampling": "",
                     "accuracy": sum(scores[n]["accuracy"] for n in math6) / len(math6),
                     "accuracy_paper": (sum(paper[n]["accuracy"] for n in math6) / len(math6)
                                        if all(n in paper for n in math6) else None), "pass@k": None, "k": None})
    if cfg.json or cfg.csv or cfg.out:
        emit([{**r, "run_id": run_id} for r in rows], json_out=cfg.json, csv_out=cfg.csv, out=cfg.out)
        if cfg.json or cfg.csv:
            return rows

    def pct(v):
        return "" if v is None else f"{100 * v:.1f}"

    table = [{**r, "accuracy (%)": pct(r["accuracy"]), "paper (%)": pct(r["accuracy_paper"]), "pass@k (%)": pct(r["pass@k"])}
             for r in rows]
    emit(table, ["benchmark", "problems", "sampling", "accuracy (%)", "paper (%)", "k", "pass@k (%)"],
         title=f"{cfg.model or 'toy model'} ({run_id})",
         caption="accuracy = mean over samples (avg@k), our grader; paper = the authors' evaluation (the number to set "
                 "beside the paper's tables); pass@k unbiased, k = samples per problem")
    return rows
