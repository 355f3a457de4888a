"""Asking the user before anything is deleted: kubectl's `-i` prompt, on a terminal only,
and the questions a progressive rollout asks between batches."""

from __future__ import annotations

import sys
from typing import IO

from kubectl_war.errors import WarError

#: kubectl's own question (`kubectl delete -i`).
PROMPT = "Do you want to continue? (y/N): "
#: The same question where "a" answers yes for every question still to come.
PROMPT_ALL = "Do you want to continue? (y/N/a): "
#: What "a" means, said before `PROMPT_ALL`.
ALL_HINT = "(a: yes to this batch and every batch after it)\n"

YES, NO, ALL = "y", "n", "a"


def is_terminal(stream: IO[str]) -> bool:
    """Whether `stream` is a terminal (a closed or replaced stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def can_ask() -> bool:
    """Whether there is someone to ask: stdin and stderr are a terminal."""
    return is_terminal(sys.stdin) and is_terminal(sys.stderr)


def ask(preview: str, *, all_too: bool = False) -> str:
    """Show `preview` on stderr, ask kubectl's question and answer YES, NO or (with
    `all_too`) ALL. Anything but y/yes (or a/all) is NO, as kubectl reads it."""
    sys.stderr.write(preview)
    sys.stderr.write(ALL_HINT + PROMPT_ALL if all_too else PROMPT)
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer in ("y", "yes"):
        return YES
    if all_too and answer in ("a", "all"):
        return ALL
    return NO


def confirm(preview: str, *, refusal: str) -> None:
    """Show `preview` on stderr and ask; return only on yes.

    Without a terminal on stdin and stderr there is nobody to ask: raise `refusal` as
    the error. Any answer but y/yes deletes nothing and exits 1.
    """
    if not can_ask():
        raise WarError(refusal)
    if ask(preview) != YES:
        sys.stderr.write("Nothing was deleted.\n")
        sys.exit(1)
