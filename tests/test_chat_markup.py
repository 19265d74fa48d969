"""Generation stops where Qwen2.5-Math's does: at `<|im_end|>`, the end of the assistant turn (or
`<|endoftext|>`), in HF generation (trainer/evaluate.py) and in TRL's rollouts, and the stop token
is not in the recorded completion text.

    python -m pytest tests/test_chat_markup.py -q

The model: the toy architecture after 3 pre-training steps (tests/conftest.py `tiny_model`),
then taught in a few seconds to answer every prompt with one fixed solution followed by
`<|im_end|>` (what it does after the stop token is never trained, so a missed stop shows as a
longer completion).
"""

import pytest

pytest.importorskip("trl", reason="needs the train extra: pip install -e '.[train]'")

SOLUTION = "7+5=12 \\boxed{12}"
MAX_NEW = 24


@pytest.fixture(scope="module")
def answering_model(tiny_model, tmp_path_factory):
    """The tiny model, fine-tuned to answer every toy prompt with SOLUTION<|im_end|>."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from selector.toy import pool_rows
    from trainer.toy_model import IM_END

    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    prompts = [tok.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=False) for r in pool_rows()[:12]]
    answer = tok(SOLUTION + IM_END, add_special_tokens=False)["input_ids"]
    seqs = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    width = max(len(s) for s in seqs) + len(answer)
    ids = torch.full((len(seqs), width), tok.pad_token_id)
    labels = torch.full((len(seqs), width), -100)
    for i, s in enumerate(seqs):
        ids[i, :len(s) + len(answer)] = torch.tensor(s + answer)
        labels[i, len(s):len(s) + len(answer)] = torch.tensor(answer)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    with torch.random.fork_rng():
        torch.manual_seed(0)
        for _ in range(60):
            loss = model(input_ids=ids, labels=labels).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert loss.item() < 0.05, loss.item()
    out = tmp_path_factory.mktemp("answering") / "model"
    model.eval()
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return str(out), len(answer)


def test_hf_generation_stops_at_im_end_and_leaves_it_out_of_the_text(answering_model):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from selector.benchmark import Sampling
    from selector.toy import pool_rows
    from trainer.evaluate import generate, stop_ids

    path, n_answer = answering_model
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path)
    assert stop_ids(model, tok) == [tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>")]
    with torch.random.fork_rng():
        torch.manual_seed(0)
        outs = generate(model, tok, [r["prompt"] for r in pool_rows()[:6]], Sampling(0.0, 1, MAX_NEW), batch_size=3)
    for (text, n), in outs:
        # stopped right after <|im_end|> (not at MAX_NEW), which counts as a token but is not in the text
        assert (text, n) == (SOLUTION, n_answer), (text, n)
    # without the stop the model keeps writing (it never learnt what follows <|im_end|>)
    enc = tok(tok.apply_chat_template(pool_rows()[0]["prompt"], add_generation_prompt=True, tokenize=False),
              return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        free = model.generate(**enc, max_new_tokens=MAX_NEW, do_sample=False, eos_token_id=None, pad_token_id=tok.pad_token_id)
    assert free.shape[1] - enc["input_ids"].shape[1] == MAX_NEW


def test_trl_rollouts_stop_at_im_end_and_record_no_stop_token(answering_model, pool12, tmp_path):
    from selector.runs import TrainConfig
    from selector.store import Store
    from trainer.grpo import train

    path, n_answer = answering_model
    run = train(TrainConfig(pool=pool12, preset="toy", model=path, store=str(tmp_path / "s"), max_steps=1, eval_steps=0,
                            set=f"prompts_per_step=4,num_generations=4,max_completion_length={MAX_NEW}"))
    rows = Store.open(tmp_path / "s").rows("SELECT completion, completion_tokens FROM rollouts WHERE run_id = ?", [run])
    assert len(rows) == 16
    assert not any("<|im_end|>" in r["completion"] or "<|endoftext|>" in r["completion"] for r in rows)
    stopped = [r for r in rows if r["completion"] == SOLUTION]
    assert len(stopped) >= 8, rows  # sampled at T=0.6, most rollouts are the learnt answer...
    assert all(r["completion_tokens"] == n_answer for r in stopped)  # ...and end at <|im_end|>, not at MAX_NEW
