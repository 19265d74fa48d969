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
import sys
from dataclasses import dataclass

from selector.config import OutputOptions, StoreOptions, option
from selector.errors import UserError

HELP = "evaluate a model on benchmarks (MATH500, AIME, ..., toy) with the paper's protocol; record every sample"

BACKENDS = ("hf", "vllm")


@dataclass
class EvalConfig(StoreOptions, OutputOptions):
    model: str | None = option(None, "model directory, checkpoint or hub id (default: the embedded toy model)", metavar="PATH_OR_HUB_ID")
    bench: str | None = option(None, "benchmarks, comma list (math6 = the paper's six); default: toy for the toy model, else math6", metavar="LIST")
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
    import argparse

    from selector.config import add_arguments

    p = subparsers.add_parser("eval", help=HELP, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p, EvalConfig)
    return p


def main(cfg: EvalConfig) -> list[dict]:
    from selector.benchmark import get_benchmark, load_rows, parse_names, sampling
    from selector.benchmarks import MATH6
    from selector.grader import GRADER_VERSION
    from selector.paths import store_dir
    from selector.store import Store, code_version, host, now

    if cfg.backend not in BACKENDS:
        raise UserError(f"unknown backend {cfg.backend!r}; valid backends: {', '.join(BACKENDS)}")
    if cfg.limit is not None and cfg.limit < 1:
        raise UserError("--limit must be >= 1")
    names = parse_names(cfg.bench or ("toy" if cfg.model is None else "math6"))
    jobs = []
    for name in names:  # every benchmark file is found and read before any model is loaded
        bench = get_benchmark(name)
        s = sampling(bench, cfg.protocol, temperature=cfg.temperature, samples=cfg.samples,
                     max_new_tokens=cfg.max_new_tokens, top_p=cfg.top_p)
        jobs.append((name, load_rows(bench, cfg.data_dir, cfg.limit), s))
    try:
        import torch  # noqa: F401  (only to say clearly what is missing)
        import transformers  # noqa: F401
    except ImportError as e:
        raise UserError(f"`selector eval` needs the train extra ({e.name} is missing): pip install -e '.[train]'") from None
    from trainer.model import model_path

    path = model_path(cfg.model)
    key = json.dumps({"model": cfg.model or path, "jobs": [(n, len(r), s.__dict__) for n, r, s in jobs], "limit": cfg.limit,
                      "seed": cfg.seed, "backend": cfg.backend, "grader": GRADER_VERSION}, sort_keys=True)
    slug = "".join(c if c.isalnum() else "-" for c in (cfg.model or "toy").rstrip("/").rsplit("/", 1)[-1])[:32]
    run_id = cfg.run_id or f"eval-{slug}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"

    store = Store.open(store_dir(cfg.store), create=True)
    existing = store.run(run_id)
    done = {r["benchmark"] for r in store.run_eval_scores(run_id)} if existing else set()
    todo = [j for j in jobs if j[0] not in done]
    if done:
        print(f"run {run_id}: {', '.join(sorted(done))} already evaluated" + ("" if todo else "; nothing to do"), file=sys.stderr)
    if todo:
        _evaluate(cfg, store, run_id, path, todo, existing is None, key, GRADER_VERSION, code_version(), host(), now)
    return _print(store, run_id, jobs, cfg, MATH6)


def _evaluate(cfg, store, run_id, path, todo, new, key, grader_version, version, hostname, now) -> None:
    from selector.grader import Grader
    from trainer.evaluate import evaluate_model

    writer = store.run_writer(run_id)
    attempt = 0 if new else store.attempts(run_id)
    if new:
        writer.append("runs", [{"run_id": run_id, "kind": "eval", "pool": None, "model": cfg.model or path,
                                "config": json.dumps({**json.loads(key), "model_path": path, "protocol": cfg.protocol}),
                                "grader_version": grader_version, "code_version": version, "created_at": now(), "host": hostname}])
    writer.append("run_events", [{"run_id": run_id, "event_time": now(), "status": "running", "detail": f"attempt {attempt}"}])
    writer.flush()

    def record(name, acc, samples):  # one benchmark at a time, so an interrupted eval keeps what it finished
        writer.append("eval_samples", [{**s, "run_id": run_id, "attempt": attempt, "step": 0, "grader_version": grader_version}
                                       for s in samples])
        writer.flush()
        print(f"{name}: accuracy {100 * acc:.1f}% over {len(samples)} samples", file=sys.stderr)

    grader = Grader(timeout_s=5.0).start()  # workers load sympy while the model loads
    try:
        evaluate_model(path, todo, cfg.backend, cfg.seed, grader, record, cfg.batch_size)
    except BaseException as e:
        writer.append("run_events", [{"run_id": run_id, "event_time": now(), "status": "failed", "detail": f"{type(e).__name__}: {str(e)[:500]}"}])
        writer.flush()
        raise
    finally:
        grader.close()
    writer.append("run_events", [{"run_id": run_id, "event_time": now(), "status": "finished", "detail": f"{len(todo)} benchmarks"}])
    writer.flush()


def _print(store, run_id, jobs, cfg, math6) -> list[dict]:
    from selector.output import emit

    scores = {r["benchmark"]: r for r in store.run_eval_scores(run_id)}
    rows = [{"benchmark": n, "problems": scores[n]["problems"], "sampling": s.describe(), "accuracy": scores[n]["accuracy"],
             "pass@k": scores[n]["pass_at_n"], "k": scores[n]["samples"]} for n, _, s in jobs if n in scores]
    if all(n in scores for n in math6):
        rows.append({"benchmark": "average of the six", "problems": sum(scores[n]["problems"] for n in math6), "sampling": "",
                     "accuracy": sum(scores[n]["accuracy"] for n in math6) / len(math6), "pass@k": None, "k": None})
    if cfg.json or cfg.csv or cfg.out:
        emit([{**r, "run_id": run_id} for r in rows], json_out=cfg.json, csv_out=cfg.csv, out=cfg.out)
        if cfg.json or cfg.csv:
            return rows
    table = [{**r, "accuracy (%)": f"{100 * r['accuracy']:.1f}", "pass@k (%)": "" if r["pass@k"] is None else f"{100 * r['pass@k']:.1f}"}
             for r in rows]
    emit(table, ["benchmark", "problems", "sampling", "accuracy (%)", "k", "pass@k (%)"], title=f"{cfg.model or 'toy model'} ({run_id})",
         caption="accuracy = mean over samples (avg@k); pass@k unbiased, k = samples per problem")
    return rows
