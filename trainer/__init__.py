"""rlvr-select's trainer: the only package that imports torch, transformers and trl.

GRPO through TRL's GRPOTrainer (wrapped, never forked) with every rollout recorded into the
store, the grader as the reward, evaluation during training, presets, and the embedded toy
world (a generated arithmetic pool and a tiny Qwen2 model the project pre-trains itself).
Heavy imports stay inside functions.
"""
