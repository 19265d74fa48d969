"""Rewards: the one grader, as TRL reward functions over dataset columns.

A TRL reward function takes the completions plus every dataset column as keyword arguments and
returns one float per completion. Ours read the `answer` column and call `selector.grader`, the
same grader evaluation uses, so a training reward and a test verdict never disagree.

    >>> outcome_reward(["so \\\\boxed{4}", "maybe 4"], answer=["4", "4"])
    [1.0, 0.0]
    >>> format_reward(["so \\\\boxed{5}", "maybe 4"], answer=["4", "4"])
    [1.0, 0.0]
"""

from selector.errors import UserError


def completion_text(completion) -> str:
    """TRL passes a string for text prompts and a list of messages for conversational ones."""
    if isinstance(completion, str):
        return completion
    return "".join(m["content"] for m in completion if m.get("role", "assistant") == "assistant")


def _outcome(grades) -> list[float]:
    return [1.0 if g.correct else 0.0 for g in grades]


def _format(grades) -> list[float]:
    # The paper's format-reward baseline: 1 whenever an answer was extracted (boxed), right or wrong.
    return [1.0 if g.formatted else 0.0 for g in grades]


REWARDS = {"outcome": _outcome, "format": _format}


def get_reward(name: str):
    if name not in REWARDS:
        raise UserError(f"unknown reward {name!r}; valid rewards: {', '.join(REWARDS)}")
    return REWARDS[name]


def outcome_reward(completions, answer, **kwargs) -> list[float]:
    """0/1: the last \\boxed{} of the completion equals the `answer` column (the paper's reward)."""
    from selector.grader import grade

    return _outcome([grade(completion_text(c), a) for c, a in zip(completions, answer)])


def format_reward(completions, answer, **kwargs) -> list[float]:
    """1 when the completion boxes an answer, whatever it is (the paper's format-reward baseline)."""
    from selector.grader import grade

    return _format([grade(completion_text(c), a) for c, a in zip(completions, answer)])


class RecordingReward:
    """The reward our wrapper gives TRL: grades each completion once (worker processes with a hard
    deadline), hands every rollout to the recorder, returns the chosen reward.

    TRL calls it with the dataset columns (`answer`, `example_id`), the completion token ids and
    the trainer state; nothing private of TRL is touched.
    """

    def __init__(self, name: str, grader, recorder=None):
        self.reward = get_reward(name)
        self.__name__ = f"{name}_reward"  # TRL logs rewards under the callable's name
        self.grader, self.recorder = grader, recorder

    def __call__(self, prompts, completions, completion_ids, answer, example_id, trainer_state=None, **kwargs) -> list[float]:
        texts = [completion_text(c) for c in completions]
        grades = self.grader.grade_many(texts, list(answer))
        rewards = self.reward(grades)
        if self.recorder is not None:
            self.recorder.add(trainer_state.global_step, list(example_id), texts, completion_ids, grades, rewards)
        return rewards
