"""The one exception type for bad user input.

A `UserError` carries a one-line message that names the problem and the fix. The CLI prints it
as `select: error: ...` and exits with code 2, never with a traceback. Anything else that
escapes is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input or environment that the user can fix; the message says how."""
