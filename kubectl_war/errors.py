"""The project's own exceptions: every failure a user can meet is one of these.

The CLI turns a `WarError` into `error: <message>` on stderr and its exit code;
anything else is a bug and shows a traceback only with `--debug`.
"""

from __future__ import annotations


class WarError(Exception):
    """A failure with a one-line message meant for the user.

    Attributes:
        message: the line printed after `error: `.
        exit_code: 1, as kubectl exits for a runtime failure and for a usage error alike.
    """

    exit_code: int = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(WarError):
    """The user's input cannot be understood (bad flag value, undecodable name); kubectl
    exits 1 for these too (`kubectl get pods -o bogus`)."""


def quote_input(text: str, limit: int = 80) -> str:
    """Quote user input for a one-line message: shorten it, escape what would break the line."""
    if len(text) > limit:
        text = text[:limit] + "…"
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return '"' + "".join(out) + '"'
