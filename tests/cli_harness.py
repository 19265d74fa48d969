"""The in-process CLI call that tests/test_cli.py and tests/test_reliability.py share."""

from selector.cli import run


def cli(capsys, *argv):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    try:
        code = run([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err
