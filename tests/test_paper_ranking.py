"""The paper's own pi numbering, reproduced from the authors' history through the CLI.

    python -m pytest tests/test_paper_ranking.py -q

Needs ../shared/data (skips with a reason when absent; CI has it). The facts checked are the
ones the paper (arXiv 2504.20571) states: pi1 is the wind-pressure problem labelled 12.8, pi13
the circle problem whose answer is 4/3, pi1207 and pi1208 two never-solved examples at the
tail, which a stable sort over the history's key order puts there (104 examples tie at 0).
"""

import json

import numpy as np
import pytest

from selector.cli import run


@pytest.fixture(scope="module")
def ranked(shared_data, tmp_path_factory):
    store = tmp_path_factory.mktemp("paper") / "store"
    hist = shared_data / "histories" / "dsr_sub_acc_step_500.json"
    argv = ["rank", "--pool", "dsr-sub", "--history", str(hist), "--data-dir", str(shared_data), "--store", str(store), "--top", "0", "--json"]
    return {"store": store, "hist": hist, "argv": argv}


def _json_of(capsys, argv):
    try:
        run(argv)
    except SystemExit as e:
        assert e.code in (0, None), capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_whole_ranking_equals_the_authors_stable_numpy_sort(ranked, capsys):
    rows = _json_of(capsys, ranked["argv"])
    history = json.loads(ranked["hist"].read_text())
    keys = list(history)
    authors = [keys[i] for i in sorted(range(len(keys)), key=lambda i: -float(np.std(history[keys[i]])))]
    assert [r["example_id"] for r in rows] == authors
    assert sum(r["score"] == 0.0 for r in rows) == 104


PAPER = [
    # (pi, example id, gold answer, words of the problem)
    (1, "124", "12.8", "pressure"),  # the wind-pressure problem; its exact answer is ~12.7, the label says 12.8
    (2, "267", "24", "divisors"),
    (13, "682", "\\frac{4}{3}", "circle"),
    (1207, "174", "\\frac{4}{5}", "rectangular piece of paper"),  # the paper's mislabelled example
    (1208, "770", "\\dfrac{961}{1280}", "quadratic function"),  # never solved
    (1209, "789", "-\\frac{2023}{2024}", "derivative"),
]


@pytest.mark.parametrize("pi,example_id,answer,words", PAPER, ids=[f"pi{p[0]}" for p in PAPER])
def test_show_prints_the_papers_examples(ranked, capsys, shared_data, pi, example_id, answer, words):
    _json_of(capsys, ranked["argv"])
    info = _json_of(capsys, ["show", f"pi{pi}", "--pool", "dsr-sub", "--data-dir", str(shared_data), "--store", str(ranked["store"]), "--json"])
    assert (info["example_id"], info["rank"], info["answer"]) == (example_id, pi, answer)
    assert words in info["problem"]
    assert info["ci_low"] <= pi <= info["ci_high"]
    assert len(info["history"]) == len(json.loads(ranked["hist"].read_text())[example_id])
