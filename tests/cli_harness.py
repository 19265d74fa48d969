"""What CLI tests share: the in-process CLI call, and a ranked store of a made-up history."""

from pathlib import Path

from selector.cli import run


def cli(capsys, *argv):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    try:
        code = run([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def rank_made_up_history(tmp_path: Path, pool: str, epochs: int, bootstrap: int) -> tuple[Path, list[str]]:
    """Rank a made-up history of a file pool into a store under tmp_path: example i of n swings
    by i/n between epochs (so variance orders the examples by position). Returns (store, ids)."""
    import json

    from selector.cli.rank import RankConfig
    from selector.cli.rank import main as rank

    ids = [json.loads(line)["id"] for line in open(pool.removeprefix("file:"))]
    hist = tmp_path / "hist.json"
    hist.write_text(json.dumps({x: [0.5 + (k % 2 - 0.5) * i / len(ids) for k in range(epochs)]
                                for i, x in enumerate(ids)}))
    rank(RankConfig(pool=pool, history=str(hist), store=str(tmp_path / "store"), bootstrap=bootstrap, json=True))
    return tmp_path / "store", ids
