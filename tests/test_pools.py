"""Pools: the registry, file: pools with column mappings, and the checks on load.

    python -m pytest tests/test_pools.py -q

Bad pools are table-driven: each row is a file's content and the one-line error it must give.
"""

import json
import warnings

import pytest

from selector.errors import UserError
from selector.pools import POOLS, BadGoldWarning, load_pool


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


GOOD = [{"id": 1, "prompt": "1+1?", "answer": "2"}, {"id": 2, "prompt": "2+2?", "answer": "4"}]

BAD_POOLS = [
    # (rows or raw text, file name, mapping, expected message fragment)
    ([{"id": 1, "question": "q", "answer": "2"}], "p.jsonl", "", "no prompt column 'prompt'"),  # missing column
    ([{"id": 1, "prompt": "a", "answer": "2"}, {"id": 1, "prompt": "b", "answer": "3"}], "p.jsonl", "", "duplicate example id '1'"),
    # the same id again with the same prompt but another answer: not a copy
    ([{"id": 1, "prompt": "a", "answer": "2"}, {"id": 1, "prompt": "a", "answer": "3"}], "p.jsonl", "", "duplicate example id '1' (rows 0 and 1)"),
    ([{"id": 1, "prompt": "a", "answer": None}], "p.jsonl", "", "answer is missing"),  # null answer
    ([{"id": 1, "prompt": "a", "answer": {"x": 1}}], "p.jsonl", "", "answer must be text or a number"),  # wrong type
    ([{"id": 1.5, "prompt": "a", "answer": "2"}], "p.jsonl", "", "non-integer float"),  # wrong id type
    ([{"id": None, "prompt": "a", "answer": "2"}], "p.jsonl", "", "missing example id"),
    ([{"id": 1, "prompt": 7, "answer": "2"}], "p.jsonl", "", "prompt must be text"),  # wrong prompt type
    ([{"id": 1, "prompt": "   ", "answer": "2"}], "p.jsonl", "", "prompt is empty"),
    ([{"id": 1, "prompt": "x" * 10_000_001, "answer": "2"}], "p.jsonl", "", "10,000,001 characters"),  # 10 MB prompt
    ([{"id": i, "prompt": "a", "answer": ""} for i in range(3)], "p.jsonl", "", "3 of 3 gold answers are unusable"),
    ([], "p.jsonl", "", "is empty"),  # empty pool
    ('{"id": 1, "prompt": "a", "answer": "2"}\n{"id": 2, "prom', "p.jsonl", "", "line 2 is not valid JSON"),  # truncated
    (b"\xff\xfe\x00garbage", "p.jsonl", "", "is not UTF-8"),
    ('{"a": 1}', "p.json", "", "must hold a JSON list"),
    ("x", "p.txt", "", "unsupported type '.txt'"),
    (GOOD, "p.jsonl", "?idx=id", "unknown mapping key"),
    (GOOD, "p.jsonl", "?answer=final", "no answer column 'final'"),
]


@pytest.mark.parametrize("content,name,mapping,message", BAD_POOLS, ids=[m for *_, m in BAD_POOLS])
def test_bad_pool_gives_one_clear_error(tmp_path, content, name, mapping, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        _jsonl(path, content)
    with pytest.raises(UserError) as err:
        load_pool(f"file:{path}{mapping}")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_file_pool_with_mapping_and_dotted_columns(tmp_path):
    rows = [{"uid": "a", "q": {"text": "What is 2+3?"}, "final": 5.0}, {"uid": "b", "q": {"text": "7-1?"}, "final": "6"}]
    pool = load_pool(f"file:{_jsonl(tmp_path / 'p.jsonl', rows)}?id=uid&prompt=q.text&answer=final")
    assert [ex.id for ex in pool.examples] == ["a", "b"]
    assert pool.get("a").answer == "5"  # an integral float means the integer (AMC-style 27.0)
    assert pool.get("b").problem == "7-1?"
    assert pool.get("a").prompt == ({"role": "user", "content": "What is 2+3?"},)


def test_file_pool_in_verl_layout_needs_no_mapping(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"prompt": [{"role": "user", "content": "2+2? Output \\boxed{}."}], "reward_model": {"ground_truth": "4", "style": "rule"},
             "extra_info": {"index": 7, "split": "train"}}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "v.parquet")
    pool = load_pool(f"file:{tmp_path / 'v.parquet'}")
    assert pool.get("7").answer == "4" and pool.get("7").prompt[0]["role"] == "user"


def test_missing_file_and_unknown_pool_name(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_pool(f"file:{tmp_path / 'nope.jsonl'}")
    with pytest.raises(UserError, match="valid pools: dsr-sub, toy, file:PATH"):
        load_pool("dsr_sub")


def test_registry_pool_not_found_names_the_fix(tmp_path):
    with pytest.raises(UserError, match=r"pools/dsr_sub.parquet not found in .*pass --data-dir"):
        load_pool("dsr-sub", data_dir=tmp_path)


def test_registry_pool_falls_back_to_the_hub_loader(tmp_path, monkeypatch):
    """Without a local file and without --data-dir, dsr-sub goes to its hub id (here: a fake
    `datasets` module, since the hub is out of reach)."""
    import sys
    import types

    import selector.pools as pools

    calls = []
    fake = types.ModuleType("datasets")

    def load_dataset(hub_id, split):
        calls.append((hub_id, split))
        rows = [{"prompt": [{"role": "user", "content": "1+1"}], "reward_model": {"ground_truth": "2"}, "extra_info": {"index": 0}}]
        return types.SimpleNamespace(to_list=lambda: rows)

    fake.load_dataset = load_dataset
    monkeypatch.setitem(sys.modules, "datasets", fake)
    monkeypatch.setattr(pools, "find_data_file", lambda rel, explicit=None: (None, [tmp_path]))
    pool = load_pool("dsr-sub")
    assert calls == [(POOLS["dsr-sub"].hub_id, "dsr_sub")] and pool.get("0").answer == "2"


def test_registry_pool_without_datasets_installed_says_how_to_fix(tmp_path, monkeypatch):
    import sys

    import selector.pools as pools

    monkeypatch.setitem(sys.modules, "datasets", None)  # import fails
    monkeypatch.setattr(pools, "find_data_file", lambda rel, explicit=None: (None, [tmp_path]))
    with pytest.raises(UserError, match="pip install datasets"):
        load_pool("dsr-sub")


def test_dsr_sub_loads_and_reports_its_bad_golds(shared_data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pool = load_pool("dsr-sub", data_dir=shared_data)
    assert len(pool) == 1209
    assert pool.bad_golds == {"265": "empty", "1187": "unbalanced braces"}
    msgs = [str(w.message) for w in caught if issubclass(w.category, BadGoldWarning)]
    assert len(msgs) == 1 and "265 (empty)" in msgs[0] and "1187 (unbalanced braces)" in msgs[0]
    pi1 = pool.get("124")
    assert pi1.answer == "12.8" and "wind" in pi1.problem
    assert pi1.problem.endswith("output the final answer within \\boxed{}.")


def test_exact_copies_of_an_example_load_once_as_in_a_pi_file(tmp_path):
    # The authors' pi1_r128.parquet holds one example 128 times; merge_pi1_pi13_r128 two, 64 each.
    rows = [GOOD[0]] * 64 + [GOOD[1]] * 64
    pool = load_pool(f"file:{_jsonl(tmp_path / 'pi.jsonl', rows)}")
    assert [ex.id for ex in pool.examples] == ["1", "2"] and pool.get("2").answer == "4"
