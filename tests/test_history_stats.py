"""History statistics (selector/history_stats.py, `select history-stats`): what makes a learning
curve, the authors' own figures reproduced from their file, and histories side by side.

    python -m pytest tests/test_history_stats.py -q
"""

import json

import numpy as np
import pytest

from selector.history_stats import LEARNING_CORR, LEARNING_RISE, curves, describe
from selector.score import History

# (name, accuracies by appearance, is a learning curve, first appearance at accuracy 1, why)
CURVES = [
    ("rises", [0, 0, .125, .25, .5, .75, 1, 1], True, 7, "0 -> 1: correlation and rise well above the thresholds"),
    ("flat_noise", [.5, .375, .625, .5, .375, .625, .5, .5], False, None, "noise around a constant rate"),
    ("falls", [1, 1, .75, .5, .25, .125, 0, 0], False, 1, "forgetting: negative correlation"),
    ("never", [0.0] * 8, False, None, "never solved: score 0, no correlation"),
    ("always", [1.0] * 8, False, 1, "always solved"),
    ("small_rise", [.5, .5, .5, .625, .625, .625, .75, .75], False, None, "correlated but rises by 0.25 < LEARNING_RISE"),
]


@pytest.mark.parametrize("name,acc,learning,first,why", CURVES, ids=[c[0] for c in CURVES])
def test_learning_curve_definition(name, acc, learning, first, why):
    (c,) = curves(History.from_lists([name], [acc]))
    assert (c.learning, c.first_solved) == (learning, first), (name, c, why)
    if learning:
        assert c.corr >= LEARNING_CORR and c.late - c.early >= LEARNING_RISE


def test_describe_on_a_small_history():
    ids = [c[0] for c in CURVES]
    s = describe(History.from_lists(ids, [c[1] for c in CURVES]), top=2)
    assert (s.examples, s.appearances_min, s.appearances_median, s.appearances_max) == (6, 8, 8, 8)
    assert (s.zero_variance, s.never_solved, s.always_solved) == (2, 1, 1)
    # by variance: "rises" and "falls" are the two most spread (tie: history order keeps "rises" first)
    assert s.pi1.example_id == "rises" and s.top_learning == 1
    early = np.mean([np.mean(c[1][:2]) for c in CURVES])
    late = np.mean([np.mean(c[1][-2:]) for c in CURVES])
    assert s.pool_early == pytest.approx(early) and s.pool_late == pytest.approx(late)
    assert [r["statistic"] for r in s.rows()][0] == "examples"


def test_authors_history_figures(shared_data):
    """The figures issue 17 quotes for the authors' history, from the same code the toy's go through."""
    from selector.history import read_history

    parsed, _ = read_history(shared_data / "histories" / "dsr_sub_acc_step_500.json")
    s = describe(History.from_lists(list(parsed), list(parsed.values())))
    assert (s.examples, s.appearances_min, s.appearances_median, s.appearances_max) == (1209, 44, 53, 57)
    assert (round(s.pool_early, 3), round(s.pool_late, 3)) == (0.365, 0.476)
    assert (round(s.std_median, 3), round(s.std_p90, 3)) == (0.107, 0.199)
    assert (s.zero_variance, s.never_solved, s.always_solved) == (104, 99, 5)
    assert s.top_learning == 16 and (round(s.top_corr[0], 2), round(s.top_corr[1], 2)) == (0.70, 0.91)
    assert (s.pi1.example_id, s.pi1.first_solved, s.pi1.appearances) == ("124", 38, 53)


def test_cli_puts_a_stored_run_beside_a_file(tmp_path, capsys, pool12):
    from selector.cli.history_stats import HistoryStatsConfig, main
    from selector.cli.rank import RankConfig
    from selector.cli.rank import main as rank
    from selector.store import Store

    ids = [json.loads(line)["id"] for line in open(pool12.removeprefix("file:"))]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({x: [min(1.0, k * i / 40) for k in range(8)] for i, x in enumerate(ids)}))
    b.write_text(json.dumps({x: [0.5] * 4 for x in ids}))
    store = str(tmp_path / "store")
    rank(RankConfig(pool=pool12, history=str(a), store=store, bootstrap=0, json=True))
    run = Store.open(store).runs()[0]["run_id"]
    capsys.readouterr()
    table = main(HistoryStatsConfig(store=store, run=run, history=str(b), json=True))
    assert list(table[0]) == ["statistic", run, "b.json"]
    by = {r["statistic"]: r for r in table}
    assert by["examples"][run] == by["examples"]["b.json"] == "12"
    assert by["score 0 (never solved / always solved)"]["b.json"] == "12 (0 / 0)"
    assert by["appearances per example (min / median / max)"][run] == "8 / 8 / 8"
    # with no source: the history behind the store's latest ranking
    assert main(HistoryStatsConfig(store=store, json=True))[0][run] == "12"
