"""Recording every rollout of a GRPO run into the run's store shard.

The reward function hands the recorder each generation batch (on every process); a callback
flushes every FLUSH_EVERY optimizer steps, at every checkpoint save and when training stops: the
processes' rows are gathered and the main process appends them as one Parquet part. A crash that
raises flushes too; a SIGKILL loses at most the steps since the last flush, and those all come
after the last checkpoint (a save always flushes first), so `--resume` trains and records them
again. A resumed run records with a higher `attempt`, and the store's views keep the latest
attempt of each step, so steps recorded twice are never counted twice.

Why not one part per step: a reader opens every part file, and at paper scale one per step makes
thousands. perf/rank_scale.py at 20x the paper's history run (9.6M rows): 9,400 parts (one
per step) rank in 10.4 s, 940 (every 10 steps) in 2.3 s, 470 (every 20) in 1.8 s. 20 is also the
presets' save_steps, so a part is one checkpoint interval and nothing is lost that a resume
would not record again.

Step and epoch: TRL's global_step counts finished optimizer steps, so the batch generated while
global_step == s belongs to step s + 1. With num_iterations = 1 every step draws
`prompts_per_step` fresh prompts, and TRL's RepeatSampler drops the last partial batch of each
pass (as the authors' loader does), so an epoch is len(pool) // prompts_per_step steps and
step s is in epoch (s - 1) // steps_per_epoch + 1.
"""

from transformers import TrainerCallback

FLUSH_EVERY = 20  # optimizer steps per Parquet part at most (a checkpoint save flushes too)


class Recorder:
    def __init__(self, writer, run_id: str, attempt: int, steps_per_epoch: int, num_generations: int,
                 grader_version: str, accelerator=None):
        self.writer, self.run_id, self.attempt = writer, run_id, attempt
        self.steps_per_epoch, self.num_generations = max(1, steps_per_epoch), num_generations
        self.grader_version, self.accelerator = grader_version, accelerator
        self.rows: list[dict] = []
        self.last_batch: dict = {}
        self._step, self._chunk, self._reward_sum, self._reward_n = None, 0, 0.0, 0
        self._correct: dict[str, list[int]] = {}  # this step's example id -> [correct, rollouts] (this process)

    def add(self, global_step: int, example_ids, texts, completion_ids, grades, rewards) -> None:
        step = global_step + 1
        epoch = (step - 1) // self.steps_per_epoch + 1
        # A step's rollouts may come in several generation batches (steps_per_generation below the
        # gradient accumulation steps: generation in chunks, to bound its memory); TRL calls the
        # reward once per batch, all with the same global_step. Each batch is split over the
        # processes in equal slices of whole GRPO groups (num_generations consecutive completions
        # of one prompt, TRL's RepeatSampler): chunk c, process p, item j is the step's
        # (c * processes + p) * len(texts) + j-th completion.
        if step != self._step:
            self._step, self._chunk, self._reward_sum, self._reward_n = step, 0, 0.0, 0
            self._correct = {}
        else:
            self._chunk += 1
        processes, process = 1, 0
        if self.accelerator is not None and self.accelerator.num_processes > 1:
            processes, process = self.accelerator.num_processes, self.accelerator.process_index
        offset = (self._chunk * processes + process) * len(texts)
        for j, (ex, text, ids, g, r) in enumerate(zip(example_ids, texts, completion_ids, grades, rewards)):
            k = offset + j
            self.rows.append({
                "run_id": self.run_id, "attempt": self.attempt, "step": step, "epoch": epoch, "example_id": str(ex),
                "batch_index": k // self.num_generations, "sample_index": k % self.num_generations,
                "completion": text, "extracted": g.extracted, "reward": float(r), "correct": g.correct,
                "formatted": g.formatted, "completion_tokens": len(ids), "grader_version": self.grader_version,
            })
        self._reward_sum += sum(rewards)
        self._reward_n += len(rewards)
        for ex, g in zip(example_ids, grades):
            tally = self._correct.setdefault(str(ex), [0, 0])
            tally[0] += int(g.correct)
            tally[1] += 1
        self.last_batch = {"step": step, "epoch": epoch, "reward": self._reward_sum / max(1, self._reward_n)}

    def log_values(self) -> dict[str, float]:
        """The last step's training accuracy for the trainer's log (and so for --report-to trackers):
        over the batch, and per example when a step has at most 16 (1-shot, few-shot). This
        process's share of the rollouts; the store's views (step_accuracy) have every process's."""
        if not self._correct:
            return {}
        right, total = (sum(t[i] for t in self._correct.values()) for i in (0, 1))
        out = {"rlvr/batch_accuracy": right / total}
        if len(self._correct) <= 16:
            out.update({f"rlvr/accuracy/{ex}": c / n for ex, (c, n) in sorted(self._correct.items())})
        return out

    def flush(self, local: bool = False) -> None:
        """Write the rows recorded since the last flush. Under several processes the rows are
        gathered and the main process writes one part (a collective: every process flushes at the
        same point). `local=True` (a process that is failing, when the others are not at the same
        point) writes this process's own rows to its own part instead: their indices are already
        global, so nothing is written twice either way."""
        rows, self.rows = self.rows, []
        if not local and self.accelerator is not None and self.accelerator.num_processes > 1:
            from accelerate.utils import gather_object

            rows = gather_object(rows)
            if not self.accelerator.is_main_process:
                return
        if rows:
            self.writer.append("rollouts", rows)
            self.writer.flush()


class RecorderCallback(TrainerCallback):
    """Flushes the recorder every FLUSH_EVERY steps, before every checkpoint save and when
    training stops; also records TRL's logged metrics (loss, kl, entropy, reward, completion
    length) in `metrics`."""

    def __init__(self, recorder: Recorder, every: int = FLUSH_EVERY):
        self.recorder, self.every = recorder, max(1, every)

    def on_step_end(self, args, state, control, **kwargs):
        # Runs after the Trainer's flow callback has decided this step's save, and before the
        # save itself: so every checkpoint has all rows of its steps on disk. The condition is
        # the same on every process (flush is collective under several processes).
        if state.global_step % self.every == 0 or control.should_save or control.should_training_stop:
            self.recorder.flush()

    def on_train_end(self, args, state, control, **kwargs):
        self.recorder.flush()

    def on_log(self, args, state, control, logs=None, **kwargs):
        rec = self.recorder
        if not logs or (rec.accelerator is not None and not rec.accelerator.is_main_process):
            return
        rows = [{"run_id": rec.run_id, "attempt": rec.attempt, "step": state.global_step, "name": k, "value": float(v)}
                for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if rows:
            rec.writer.append("metrics", rows)
