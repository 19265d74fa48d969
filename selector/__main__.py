"""`python -m selector ...`: the same CLI as the `select` and `selector` commands."""

from selector.cli import run

if __name__ == "__main__":
    run()
