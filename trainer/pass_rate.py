"""A base pass-rate run: the base model answers every pool example k times, in one HF generation
pass (trainer/evaluate.py's `generate`, no TRL), graded by the one grader and recorded as a run
(selector/pass_rate.py says what is recorded and why).

    selector rank --pool toy --score base-pass-rate            # measures it first if needed
    selector rank --pool toy --score base-pass-rate --pass-samples 64
"""

import sys

from selector.pass_rate import KIND, PassRateSpec, rollout_rows


def measure(spec: PassRateSpec, pool, store, threads=None, batch_size: int | None = None) -> str:
    """Run (or find) the base pass-rate run of `spec` over `pool`; returns its run id. A finished
    run is reused; an unfinished one (killed mid-pass) is measured again as a new attempt.
    `batch_size`: prompts per generate call (default: about 1,024 sequences per call); `threads`: torch's
    intra-op threads as trainer/threads.py reads them (the preset's torch_threads)."""
    from dataclasses import asdict

    import torch
    from tqdm.auto import tqdm

    from selector.benchmark import Sampling
    from selector.grader import GRADER_VERSION, Grader
    from selector.store import FINISHED, RunLog
    from trainer.evaluate import generate, load_for_generation
    from trainer.model import model_path
    from trainer.threads import applied

    run_id = spec.run_id
    existing = store.run(run_id)
    if existing is not None and existing["status"] == FINISHED:
        return run_id
    path = model_path(spec.model)
    log = RunLog(store, run_id)
    attempt = 0 if existing is None else log.next_attempt()
    create = None if existing is not None else dict(kind=KIND, pool=pool.name, model=str(spec.model or path),
                                                     config={**asdict(spec), "model_path": path}, grader_version=GRADER_VERSION)
    examples = [ex for ex in pool.examples if ex.id not in pool.bad_golds]
    sampling = Sampling(temperature=spec.temperature, samples=spec.samples, max_new_tokens=spec.max_new_tokens, top_p=spec.top_p)
    log.start(attempt, create=create)
    grader = Grader(timeout_s=5.0).start()
    try:
        with applied(threads):
            model, tokenizer = load_for_generation(path)
            cuda = model.device.type == "cuda"
            per_call = batch_size or max(1, 1024 // spec.samples)
            with tqdm(total=len(examples), desc=f"base pass rate ({spec.samples} samples each)", unit="example",
                      file=sys.stderr) as bar, torch.random.fork_rng(devices=[model.device] if cuda else []):
                torch.manual_seed(spec.seed)
                outs = generate(model, tokenizer, [list(ex.prompt) for ex in examples], sampling, batch_size=per_call,
                                progress=bar)
        grades = grader.grade_many([t for block in outs for t, _ in block],
                                   [ex.answer for ex, block in zip(examples, outs) for _ in block])
        rows = rollout_rows(run_id, [ex.id for ex in examples], outs, grades, GRADER_VERSION)
        for r in rows:
            r["attempt"] = attempt
        log.writer.append("rollouts", rows)
        log.writer.flush()
    except BaseException as e:
        log.fail(e)
        raise
    finally:
        grader.close()
    log.finish(f"{len(examples)} examples x {spec.samples} samples")
    return run_id
