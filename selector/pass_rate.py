"""A base pass-rate run, with no torch: what it is, its id, and its rows in the store.

A ranking without a history run (`select rank --score base-pass-rate`): the base model answers
every pool example k times in one generation pass (trainer/pass_rate.py), each answer graded by
the one grader. The run is recorded like a training run: a `runs` row of kind `base_pass`, its
lifecycle events, and one `rollouts` row per sample at step 1, epoch 1, so that `epoch_accuracy`
gives every example one entry (its pass rate p over the k samples) and the ranking machinery
works on it unchanged: `base-pass-rate` scores it as p(1-p), `mean_acc` as p.

Why it may be enough: the variance score needs a GRPO history run over the whole pool; p(1-p)
needs one generation pass, and with k much larger than a history's 8 rollouts per appearance it
also sees successes that are merely rare (issue 17: an example never solved in its 160 history
rollouts ranked last by variance, yet 1-shot on it taught the most). `select validate` measures
whether it ranks as well on a given pool.
"""

import hashlib
import json
from dataclasses import asdict, dataclass

KIND = "base_pass"


@dataclass(frozen=True)
class PassRateSpec:
    """One base pass-rate run: the pool, the model and how it samples."""

    pool: str
    model: str | None  # None: the embedded toy model
    samples: int  # k
    temperature: float
    max_new_tokens: int
    seed: int = 0
    top_p: float = 1.0

    @property
    def run_id(self) -> str:
        """The same spec, the same id: measuring again finds the run and does nothing."""
        from selector.paths import slug

        key = json.dumps(asdict(self), sort_keys=True, default=str)
        return f"{KIND}-{slug(self.pool, 24)}-k{self.samples}-s{self.seed}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def spec_for(pool: str, values: dict, samples: int, seed: int) -> PassRateSpec:
    """The spec that samples as the run's training preset does (`values`: resolved settings)."""
    return PassRateSpec(pool=pool, model=values.get("model"), samples=samples, temperature=values["temperature"],
                        max_new_tokens=values["max_completion_length"], seed=seed, top_p=values.get("top_p") or 1.0)


def rollout_rows(run_id: str, example_ids: list[str], outs: list[list[tuple[str, int]]], grades, grader_version: str) -> list[dict]:
    """One `rollouts` row per sample: step 1, epoch 1, batch_index = the example's position in
    the pass (the order the run met the examples: the ranking's tie-break)."""
    rows, k = [], 0
    for b, (ex_id, block) in enumerate(zip(example_ids, outs)):
        for s, (text, n) in enumerate(block):
            g = grades[k]
            k += 1
            rows.append({"run_id": run_id, "attempt": 0, "step": 1, "epoch": 1, "example_id": ex_id, "batch_index": b,
                         "sample_index": s, "completion": text, "extracted": g.extracted, "reward": float(g.correct),
                         "correct": g.correct, "formatted": g.formatted, "completion_tokens": n,
                         "grader_version": grader_version})
    return rows
