"""How many torch threads a run asks for (trainer/threads.py): the preset's torch_threads and
$RLVR_TORCH_THREADS, read the same way; a value that is none of them fails in one line.

    python -m pytest tests/test_threads.py -q
"""

import pytest

from selector.errors import UserError
from selector.runs import THREADS_ENV, TrainConfig, resolve_settings, threads_setting
from trainer import threads

GOOD = [  # (value, read as)
    (None, None), ("", None), (0, None), ("0", None),  # torch's default
    ("auto", "auto"), (1, 1), ("1", 1), (4, 4), (" 2 ", 2), ("16", 16),
]
BAD = ["abc", "-1", -1, "2.5", 2.5, "auto2", "1e3", True]


@pytest.mark.parametrize("value,want", GOOD)
def test_threads_setting_reads(value, want):
    assert threads_setting(value) == want


@pytest.mark.parametrize("value", BAD)
def test_threads_setting_refuses_in_one_line(value):
    with pytest.raises(UserError) as e:
        threads_setting(value, "torch_threads")
    assert "torch_threads=" in str(e.value) and "auto" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("env,setting,want", [
    ("3", "auto", 3),  # the variable wins over the preset
    ("0", 2, None),  # 0: leave torch's default
    ("", 2, 2), ("", None, None), ("", "0", None),
])
def test_choose_without_the_idle_probe(monkeypatch, env, setting, want):
    monkeypatch.setenv(THREADS_ENV, env)
    assert threads.choose(setting) == want


@pytest.mark.parametrize("idle,want", [(2.0, 2), (1.6, 2), (1.4, 1), (0.1, 1), (None, 1)])
def test_auto_takes_every_core_only_when_all_are_idle(monkeypatch, idle, want):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(threads, "idle_cpus", lambda window=0.3: idle)
    assert threads.choose("auto") == want
    monkeypatch.setenv(THREADS_ENV, "auto")  # the variable may ask for auto too
    assert threads.choose(1) == want


def test_a_bad_variable_fails_in_one_line(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "abc")
    with pytest.raises(UserError, match=f"{THREADS_ENV}='abc'"):
        threads.choose("auto")


def test_set_torch_threads_is_checked_before_a_run_is_recorded():
    with pytest.raises(UserError, match="--set torch_threads='many'"):
        resolve_settings(TrainConfig(pool="toy", set="torch_threads=many"))
    assert resolve_settings(TrainConfig(pool="toy", set="torch_threads=1"))["torch_threads"] == 1


def test_a_bad_variable_is_refused_before_a_run_is_recorded(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "two")
    with pytest.raises(UserError, match=f"{THREADS_ENV}='two'"):
        resolve_settings(TrainConfig(pool="toy"))


def test_applied_sets_the_threads_inside_and_puts_them_back(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.delenv(THREADS_ENV, raising=False)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with threads.applied(1) as n:
            assert n == 1 == torch.get_num_threads()
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), threads.applied(1):
            raise RuntimeError("the block failed")
        assert torch.get_num_threads() == 2  # put back on the way out of a failure too
    finally:
        torch.set_num_threads(before)
