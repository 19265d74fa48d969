"""A progress bar for GRPO runs: step, epoch, mean reward of the last batch, eval accuracy, ETA.

Replaces the Trainer's own bar and its printed log dicts (one per step would bury the bar)."""

from transformers import TrainerCallback


class ProgressCallback(TrainerCallback):
    def __init__(self, recorder, description: str):
        self.recorder, self.description = recorder, description
        self.bar = None
        self.evals: dict[str, float] = {}

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=self.description, unit="step", dynamic_ncols=True)

    def eval_done(self, step: int, accuracies: dict[str, float]) -> None:
        self.evals = dict(accuracies)
        self._postfix()

    def _postfix(self) -> None:
        if self.bar is None:
            return
        last = self.recorder.last_batch
        post = {}
        if last:
            post["epoch"] = last["epoch"]
            post["reward"] = f"{last['reward']:.3f}"
        post.update({f"{k}_acc": f"{v:.3f}" for k, v in self.evals.items()})
        self.bar.set_postfix(post, refresh=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)
            self._postfix()

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
