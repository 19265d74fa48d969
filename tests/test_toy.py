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
        assert set(r) == ({"id", "prompt", "answer", "planted"} if r in pool else {"id", "prompt", "answer"})
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


def test_pool_loads_through_the_registry_with_its_planted_column():
    from selector.pools import load_pool

    pool = load_pool("toy")
    assert len(pool) == toy.POOL_SIZE and not pool.bad_golds
    assert pool.get("toy-0001").answer == toy.pool_rows(0)[0]["answer"]
    kinds = list(pool.planted.values())
    assert {k: kinds.count(k) for k in set(kinds)} == toy.PLANTED


PLANTED_CASES = [
    # (kind, what makes it a pathology)
    ("wrong-gold", "an addition whose gold is the true sum with the units digit one higher (mod 10)"),
    ("unreachable", "a multiplication: an operation pre-training never shows"),
]


@pytest.mark.parametrize("kind,why", PLANTED_CASES, ids=[k for k, _ in PLANTED_CASES])
def test_planted_examples_are_what_their_column_says(kind, why):
    planted = [p for p in toy.pool_problems(0) if p.planted == kind]
    assert len(planted) == toy.PLANTED[kind]
    for p in planted:
        if kind == "wrong-gold":
            assert p.kind == "add" and p.gold != p.answer and p.gold // 10 == p.answer // 10, (p, why)
            assert not grade(toy.worked_solution(p)[0], str(p.gold)).correct  # the right solution is graded wrong
        else:
            assert p.kind == "mul" and p.gold == p.answer, (p, why)
            with pytest.raises(ValueError):
                toy.worked_solution(p)
    # never in the benchmark, and the pre-training corpus has no multiplication at all
    assert all(not p.planted and p.kind == "add" for p in toy.benchmark_problems(0))
    assert not any("*" in q or "times" in q for q, _ in toy.sft_examples(0, 2000))


def test_correct_solutions_box_the_answer_and_slips_do_not():
    problems = [p for p in toy.pool_problems(0) + toy.benchmark_problems(0) if p.kind == "add"]
    slipped = 0
    for p in problems:
        answer = str(p.answer)
        text, value, dropped = toy.worked_solution(p)
        assert dropped == 0 and value == p.answer
        assert grade(text, answer).correct, (p, text)
        assert not grade(toy.worked_solution(p, boxed=False)[0], answer).formatted  # `=ANSWER` ending
        bad, bad_value, n = toy.worked_solution(p, force_slip=True)
        # every carry dropped; a dropped carry can end a cascade, so there may be fewer drops than carries
        assert (n > 0) == (sum(toy.events(p).values()) > 0) and n <= sum(toy.events(p).values())
        assert grade(bad, str(bad_value)).correct  # a slip is followed through consistently
        if not n:
            assert bad == text
        else:
            slipped += 1
            assert bad_value != p.answer and not grade(bad, answer).correct, (p, bad)
    assert slipped > len(problems) // 2


def test_worked_solution_examples():
    P = toy.Problem
    assert toy.worked_solution(P("add", (347, 85), 0, "Ann", "beads"))[0] == "7+5=12 4+8+1=13 3+0+1=4 \\boxed{432}"
    assert toy.worked_solution(P("add", (347, 85), 0, "Ann", "beads"), force_slip=True)[0] == "7+5=12 4+8=12 3+0=3 \\boxed{322}"
    assert toy.worked_solution(P("add", (95, 7), 0, "Ann", "beads"))[0] == "5+7=12 9+0+1=10 \\boxed{102}"
    assert toy.events(P("add", (347, 85), 0, "Ann", "beads")) == {"carry_cascade": 1, "carry": 1}
    assert toy.events(P("add", (95, 7), 0, "Ann", "beads")) == {"carry_cascade": 1}
    assert toy.events(P("mul", (12, 34), 0, "Ann", "beads", planted="unreachable")) == {}


def test_sft_corpus_has_the_designed_imperfections():
    rng_rows = list(toy.sft_examples(0, 4000))
    boxed = sum("\\boxed{" in s for _, s in rng_rows) / len(rng_rows)
    assert abs(boxed - toy.BOXED_RATE) < 0.03
    assert list(toy.sft_examples(0, 50)) == rng_rows[:50]
    # a cascading carry is dropped more often than not, a plain one now and then (SLIP_RATES)
    kept = {"carry": [0, 0], "carry_cascade": [0, 0]}
    for q, s in rng_rows:
        for col, nxt in zip(s.split(), s.split()[1:]):
            if col.startswith("\\") or nxt.startswith(("\\", "=")) or int(col.split("=")[1]) < 10:
                continue
            x, y = (int(d) for d in nxt.split("=")[0].split("+")[:2])
            kind = "carry_cascade" if x + y >= 9 else "carry"
            kept[kind][0] += nxt.count("+") == 2
            kept[kind][1] += 1
    for kind, rate in toy.SLIP_RATES.items():
        assert abs(1 - kept[kind][0] / kept[kind][1] - rate) < 0.04, (kind, kept[kind])


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
    # the chat template is Qwen2.5-Math's (default system turn), and the fast path pre-training uses
    q = _text(rows["pool"][0])
    chat = loaded.apply_chat_template(rows["pool"][0]["prompt"], add_generation_prompt=True, tokenize=False)
    assert chat == ("<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
                    f"<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n") == render_prompt(q)
    full = loaded.apply_chat_template(rows["pool"][0]["prompt"] + [{"role": "assistant", "content": "7"}], tokenize=False)
    assert full == chat[:-len("<|im_start|>assistant\n")] + "<|im_start|>assistant\n7<|im_end|>\n"
    own = loaded.apply_chat_template([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}],
                                     add_generation_prompt=True, tokenize=False)
    assert own == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    # Qwen2.5-Math's special tokens: eos and pad <|endoftext|>, no bos; each markup token is one id
    assert loaded.eos_token == "<|endoftext|>" and loaded.pad_token == "<|endoftext|>" and loaded.bos_token is None
    for t in ("<|im_start|>", "<|im_end|>", "<|endoftext|>"):
        assert len(loaded(t, add_special_tokens=False)["input_ids"]) == 1
        assert loaded.decode(loaded(f"1{t}2", add_special_tokens=False)["input_ids"], skip_special_tokens=True) == "12"


def test_build_saves_a_loadable_model_that_generates(built):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(built)
    model = AutoModelForCausalLM.from_pretrained(built)
    assert type(model).__name__ == "Qwen2ForCausalLM" and model.config.tie_word_embeddings
    assert model.config.eos_token_id == tok.eos_token_id and model.config.vocab_size >= len(tok)
    # generation stops at the end of the assistant turn, then at <|endoftext|> (trainer/toy_model.py)
    assert model.generation_config.eos_token_id == [tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id]
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
