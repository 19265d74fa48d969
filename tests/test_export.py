"""`select export`: the authors' verl layout (checked against their pi1_r128.parquet), TRL's layout
as jsonl and a `datasets` dataset, copies, and the round trip: an exported file loads back as the
same pool.

    python -m pytest tests/test_export.py -q
"""

import hashlib
import json

import pyarrow.parquet as pq
import pytest

from selector.cli.export import ExportConfig
from selector.cli.export import main as export
from selector.cli.rank import RankConfig
from selector.cli.rank import main as rank
from selector.errors import UserError
from selector.pools import load_pool

# sha256 of json.dumps(rows, sort_keys=True) of the authors' files (One-Shot-RLVR at 21ed529,
# data/train/one_shot_rlvr/): 128 copies of pi1 (id 124); 64 of pi1, then 64 of pi13 (id 682).
AUTHORS = {"pi1_r128.parquet": "b8e16a2dd41ede78bc9f57debfd28ae1dab6deb94f58203ce216ba7dc0c5cc9b",
           "merge_pi1_pi13_r128.parquet": "8782a96e5a3a5e6074761ad517ac4910d52e295059464f63ba645356adf632d7"}


def _digest(path):
    return hashlib.sha256(json.dumps(pq.read_table(path).to_pylist(), sort_keys=True).encode()).hexdigest()


@pytest.fixture(scope="module")
def dsr_ranked(shared_data, tmp_path_factory):
    """A store holding the variance ranking of DSR-sub from the authors' history."""
    store = str(tmp_path_factory.mktemp("dsr") / "store")
    rank(RankConfig(pool="dsr-sub", history=str(shared_data / "histories" / "dsr_sub_acc_step_500.json"), store=store,
                    data_dir=str(shared_data), bootstrap=0, json=True))
    return store, shared_data


@pytest.mark.parametrize("examples,name", [("pi1", "pi1_r128.parquet"), ("pi1,pi13", "merge_pi1_pi13_r128.parquet")])
def test_verl_export_is_the_authors_file(dsr_ranked, tmp_path, capsys, examples, name):
    store, data = dsr_ranked
    out = export(ExportConfig(store=store, data_dir=str(data), examples=examples, copies=128, out=str(tmp_path / name)))
    assert _digest(out) == AUTHORS[name]
    # Every column and type of the pool file, in its order (data_source, prompt, ability, reward_model, extra_info).
    assert pq.read_schema(out).remove_metadata() == pq.read_schema(data / "pools" / "dsr_sub.parquet").remove_metadata()


def test_the_default_file_name_is_the_authors(dsr_ranked, tmp_path, monkeypatch, capsys):
    store, data = dsr_ranked
    monkeypatch.chdir(tmp_path)
    assert export(ExportConfig(store=store, data_dir=str(data), examples="pi1,pi13", copies=128)) == "exports/merge_pi1_pi13_r128.parquet"
    assert export(ExportConfig(store=store, data_dir=str(data), top=16, format="jsonl")) == "exports/pi1-16_r16.jsonl"


@pytest.fixture
def ranked12(tmp_path, pool12):
    """The 12-example toy file pool ranked from a made-up history (example i: spread i/12)."""
    ids = [json.loads(line)["id"] for line in open(pool12.removeprefix("file:"))]
    hist = tmp_path / "hist.json"
    hist.write_text(json.dumps({x: [0.5 + (k % 2 - 0.5) * i / 12 for k in range(4)] for i, x in enumerate(ids)}))
    store = str(tmp_path / "store")
    rank(RankConfig(pool=pool12, history=str(hist), store=store, bootstrap=0, json=True))
    return pool12, store, ids[::-1]  # best first: the widest spread


@pytest.mark.parametrize("fmt", ["verl", "jsonl"])
def test_an_exported_file_loads_back_as_the_same_examples(ranked12, tmp_path, fmt, capsys):
    pool, store, best_first = ranked12
    out = export(ExportConfig(pool=pool, store=store, top=3, copies=12, format=fmt,
                              out=str(tmp_path / ("top3.parquet" if fmt == "verl" else "top3.jsonl"))))
    if fmt == "verl":
        rows = pq.read_table(out).to_pylist()
        assert [r["extra_info"]["index"] for r in rows] == [x for x in best_first[:3] for _ in range(4)]  # 4 copies each, in blocks
        assert {r["data_source"] for r in rows} == {pool} and rows[0]["reward_model"]["style"] == "rule"
    else:
        rows = [json.loads(line) for line in open(out)]
        assert [r["pi"] for r in rows] == ["pi1"] * 4 + ["pi2"] * 4 + ["pi3"] * 4
    back, original = load_pool(f"file:{out}"), load_pool(pool)
    assert back.examples == [original.get(x) for x in best_first[:3]]  # the copies load as one example each


def test_hf_export_is_a_dataset_on_disk_and_pushing_offline_is_one_line(ranked12, tmp_path, capsys):
    datasets = pytest.importorskip("datasets", reason="--format hf needs the hub extra: pip install -e '.[hub]'")
    pool, store, best_first = ranked12
    out = export(ExportConfig(pool=pool, store=store, examples="pi2", copies=3, format="hf", out=str(tmp_path / "ds")))
    ds = datasets.load_from_disk(out)
    assert ds.num_rows == 3 and ds.column_names == ["prompt", "answer", "id", "pi"]
    assert ds[0]["id"] == best_first[1] and ds[0]["prompt"][0]["role"] == "user"
    with pytest.raises(UserError) as e:  # the tests run with HF_HUB_OFFLINE=1 (conftest): no hub
        export(ExportConfig(pool=pool, store=store, examples="pi2", format="hf", out=str(tmp_path / "ds2"), push_to_hub="me/pi2"))
    assert "pushing to the hub as 'me/pi2' failed" in str(e.value) and "\n" not in str(e.value)
    assert datasets.load_from_disk(str(tmp_path / "ds2")).num_rows == 1  # saved before the push was tried


@pytest.mark.parametrize("kw,message", [
    ({"examples": "pi1,pi2", "copies": 5}, "--copies 5: the rows of the file, split evenly over 2 example(s)"),
    ({"examples": "pi1", "top": 2}, "give --examples LIST"),
    ({}, "give --examples LIST"),
    ({"top": 13}, "pi13: the variance ranking of"),
    ({"examples": "pi1", "format": "csv"}, "unknown format 'csv'; valid formats: verl, jsonl, hf"),
    ({"examples": "pi1", "push_to_hub": "me/x"}, "--push-to-hub needs --format hf"),
    ({"examples": "pi1", "format": "jsonl", "data_source": "x"}, "--data-source is a column of the verl layout only"),
    ({"examples": "nope"}, "example id 'nope' is not in pool"),
    ({"examples": "pi1", "format": "jsonl"}, "a jsonl file ends in .jsonl"),  # --out x
])
def test_bad_export_options_fail_in_one_line(ranked12, tmp_path, kw, message):
    pool, store, _ = ranked12
    with pytest.raises(UserError) as e:
        export(ExportConfig(pool=pool, store=store, out=str(tmp_path / "x"), **kw))
    assert message in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "x").exists()


def test_a_pi_name_without_a_ranking_names_the_command_that_makes_one(tmp_path, pool12):
    with pytest.raises(UserError, match=r"no variance ranking of pool .* run `selector rank --pool file:"):
        export(ExportConfig(pool=pool12, store=str(tmp_path / "none"), examples="pi1"))
