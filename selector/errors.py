"""The one exception type for bad user input, and the check that an optional extra is installed.

A `UserError` carries a one-line message that names the problem and the fix. The CLI prints it
as `select: error: ...` and exits with code 2, never with a traceback. Anything else that
escapes is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input or environment that the user can fix; the message says how."""


def require_extra(what: str, modules: tuple = ("torch", "trl"), extra: str = "train") -> None:
    """Fail in one line, before any heavy import, when `what` needs an extra that is not installed.

    `find_spec` looks the packages up without importing them, so the check costs nothing on the
    paths (`--help`, planning a sweep on a login node) that never train."""
    import importlib.util

    for name in modules:
        if importlib.util.find_spec(name) is None:
            raise UserError(f"{what} needs the {extra} extra ({name} is missing): pip install -e '.[{extra}]'")
