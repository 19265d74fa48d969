"""rlvr-select's trainer: the only package that imports torch, transformers, trl and peft.

Runs what the core (selector/) defines: GRPO through TRL's GRPOTrainer (wrapped, never forked,
grpo.py) with every rollout recorded into the store (recorder.py), evaluation during training
and on its own (evaluate.py), the progress bar (progress.py), model resolution (model.py) and
the toy world's tiny model and its pre-training (toy_model.py). Imports only selector/, never
analysis/ or the commands; heavy imports stay inside functions.
"""
