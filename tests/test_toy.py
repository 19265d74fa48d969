"""The embedded toy world: its rows and worked solutions (selector/toy.py), its tokenizer and a tiny
build (trainer/toy_model.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from selector.grader import grade
from selector import toy

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rows():
    return {"pool": toy.pool_rows(0), "bench": toy.benchmark_rows(0)}


def _text(row):
    return row["prompt"][-1]["content"]


def test_rows_are_deterministic_per_seed(rows):
    assert toy.pool_rows(0) == rows["pool"]
    assert toy.benchmark_rows(0) == rows["bench"]
    assert [_text(r) for r in toy.pool_rows(1)] != [_text(r) for r in rows["pool"]]
    assert [_text(r) for r in toy.benchmark_rows(1)] != [_text(r) for r in rows["bench"]]


def test_row_format(rows):
    pool, bench = rows["pool"], rows["bench"]
    assert len(pool) == toy.POOL_SIZE and len(bench) == toy.BENCHMARK_SIZE
    assert pool[0]["id"] == "toy-0001" and bench[0]["id"] == "toybench-0001"
    for r in pool + bench:
        assert set(r) == {"id", "prompt", "answer"}
        assert r["prompt"] == [{"role": "user", "content": _text(r)}]
        assert _text(r).endswith(toy.INSTRUCTION) and "\\boxed{}" in _text(r)
        assert isinstance(r["answer"], str) and int(r["answer"]) >= 0
    ids = [r["id"] for r in pool + bench]
    assert len(set(ids)) == len(ids)


def test_benchmark_is_disjoint_from_pool(rows):
    assert not {_text(r) for r in rows["pool"]} & {_text(r) for r in rows["bench"]}
    pool_keys = {p.key for p in toy.pool_problems(0)}
    assert not pool_keys & {p.key for p in toy.benchmark_problems(0)}
    # problems differ, not just phrasings; and pre-training never shows either set's problems
    sft = [q for q, _ in toy.sft_examples(0, 3000)]
    assert not set(sft) & {_text(r) for r in rows["pool"] + rows["bench"]}


def test_pool_loads_through_the_registry():
    from selector.pools import load_pool

    pool = load_pool("toy")
    assert len(pool) == toy.POOL_SIZE and not pool.bad_golds
    assert pool.get("toy-0001").answer == toy.pool_rows(0)[0]["answer"]


def test_correct_solutions_box_the_answer_and_slips_do_not():
    problems = toy.pool_problems(0) + toy.benchmark_problems(0)
    slipped = 0
    for p in problems:
        answer = str(p.answer)
        text, value, dropped = toy.worked_solution(p)
        assert dropped == 0 and value == p.answer
        assert grade(text, answer).correct, (p, text)
        assert not grade(toy.worked_solution(p, boxed=False)[0], answer).formatted  # `=ANSWER` ending
        bad, bad_value, n = toy.worked_solution(p, force_slip=True)
        # a dropped carry/borrow can end a cascade, so fewer drops than events; a+b-c's second
        # step starts from the slipped sum
        assert (n > 0) == (sum(toy.events(p).values()) > 0) or p.kind == "add_sub"
        assert grade(bad, str(bad_value)).correct  # a slip is followed through consistently
        if not n:
            assert bad == text
        # dropping carries only, or borrows only, always boxes a wrong answer (dropping both can
        # cancel out in a+b-c: a dropped carry then a dropped borrow)
        for only in ("carry", "borrow"):
            rates = {only: 1.0, f"{only}_cascade": 1.0}
            bad, bad_value, n = toy.worked_solution(p, slip_rates=rates)
            if n:
                slipped += 1
                assert bad_value != p.answer and not grade(bad, answer).correct, (p, bad)
    assert slipped > len(problems) // 2


def test_worked_solution_examples():
    P = toy.Problem
    assert toy.worked_solution(P("add", (347, 85), 0, "Ann", "beads"))[0] == "7+5=12 4+8+1=13 3+0+1=4 \\boxed{432}"
    assert toy.worked_solution(P("sub", (832, 57), 0, "Ann", "beads"))[0] == "12-7=5 13-5-1=7 8-0-1=7 \\boxed{775}"
    assert toy.worked_solution(P("add_sub", (41, 16, 54), 0, "Ann", "beads"))[0] == "1+6=7 4+1=5 =57 7-4=3 5-5=0 \\boxed{3}"
    assert toy.worked_solution(P("add", (347, 85), 0, "Ann", "beads"), force_slip=True)[0] == "7+5=12 4+8=12 3+0=3 \\boxed{322}"
    assert toy.events(P("add", (347, 85), 0, "Ann", "beads")) == {"carry_cascade": 1, "carry": 1}
    assert toy.events(P("sub", (832, 57), 0, "Ann", "beads")) == {"borrow_cascade": 1, "borrow": 1}


def test_sft_corpus_has_the_designed_imperfections():
    rng_rows = list(toy.sft_examples(0, 4000))
    boxed = sum("\\boxed{" in s for _, s in rng_rows) / len(rng_rows)
    assert abs(boxed - toy.BOXED_RATE) < 0.03
    assert list(toy.sft_examples(0, 50)) == rng_rows[:50]


def test_cache_paths(monkeypatch, tmp_path):
    from trainer import toy_model

    monkeypatch.setenv("RLVR_CACHE", str(tmp_path / "c"))
    assert toy_model.cache_root() == tmp_path / "c"
    assert toy_model.model_dir(3) == tmp_path / "c" / f"toy-{toy.RECIPE_VERSION}-seed3"
    monkeypatch.delenv("RLVR_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert toy_model.cache_root() == tmp_path / "x" / "rlvr-select"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert toy_model.cache_root() == Path.home() / ".cache" / "rlvr-select"


def test_import_needs_no_torch():
    code = ("import sys, selector.toy as t, trainer.toy_model as m; t.pool_rows(); t.benchmark_rows(); m.model_dir(); "
            "bad = [m for m in ('torch', 'transformers', 'tokenizers') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --------------------------------------------------------------------------- tokenizer and build


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from trainer import toy_model

    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = tmp_path_factory.mktemp("toy") / "model"
    path = toy_model.build(0, out_dir=out, steps=3, progress=False)
    return path


def test_tokenizer_round_trips_and_matches_the_saved_one(built, rows):
    from transformers import AutoTokenizer

    from trainer.toy_model import make_tokenizer, render_prompt

    tok = make_tokenizer()
    loaded = AutoTokenizer.from_pretrained(built)
    assert loaded.get_vocab() == tok.get_vocab()
    texts = [_text(r) for r in rows["bench"][:50]]
    texts += [toy.worked_solution(p)[0] for p in toy.benchmark_problems(0)[:50]]
    texts += ["Let's think step by step and output the final answer within \\boxed{}. 1/2, x^2 ü"]
    for t in texts:
        ids = loaded(t, add_special_tokens=False)["input_ids"]
        assert ids == tok(t, add_special_tokens=False)["input_ids"]
        assert loaded.decode(ids) == t
    assert max(len(loaded(t, add_special_tokens=False)["input_ids"]) for t in texts[50:100]) <= 50
    # digits are single tokens (column arithmetic needs them)
    assert loaded.convert_ids_to_tokens(loaded("1234", add_special_tokens=False)["input_ids"]) == list("1234")
    # the chat template, and the fast path pre-training uses
    chat = loaded.apply_chat_template(rows["pool"][0]["prompt"], add_generation_prompt=True, tokenize=False)
    assert chat == f"<|bos|><|user|>{_text(rows['pool'][0])}<|assistant|>" == render_prompt(loaded, _text(rows["pool"][0]))
    full = loaded.apply_chat_template(rows["pool"][0]["prompt"] + [{"role": "assistant", "content": "7"}], tokenize=False)
    assert full == chat + "7" + loaded.eos_token
    assert loaded.eos_token == "<|end|>" and loaded.pad_token == "<|pad|>" and loaded.bos_token == "<|bos|>"


def test_build_saves_a_loadable_model_that_generates(built):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(built)
    model = AutoModelForCausalLM.from_pretrained(built)
    assert type(model).__name__ == "Qwen2ForCausalLM" and model.config.tie_word_embeddings
    assert model.config.eos_token_id == tok.eos_token_id and model.config.vocab_size >= len(tok)
    prompt = tok.apply_chat_template([{"role": "user", "content": "Compute 3+4. " + toy.INSTRUCTION}],
                                     add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=8, do_sample=True, temperature=0.6)
    assert out.shape[1] > prompt["input_ids"].shape[1]
    assert isinstance(tok.decode(out[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True), str)


def test_build_is_idempotent_and_atomic(built):
    from trainer import toy_model
    from trainer.toy_model import COMPLETE_MARK

    mark = built / COMPLETE_MARK
    before = mark.stat().st_mtime_ns
    assert toy_model.build(0, out_dir=built, steps=3, progress=False) == built  # complete: returns at once
    assert mark.stat().st_mtime_ns == before
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".")]  # no temp folder left
    from trainer.toy_model import is_complete

    assert is_complete(built, 0, 3) and not is_complete(built, 0, 4) and not is_complete(built, 1, 3)


def test_build_is_deterministic(built, tmp_path):
    import torch

    from trainer import toy_model
    from safetensors.torch import load_file

    again = toy_model.build(0, out_dir=tmp_path / "again", steps=3, progress=False)
    a, b = load_file(built / "model.safetensors"), load_file(again / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
