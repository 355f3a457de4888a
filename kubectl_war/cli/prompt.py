"""Asking the user before anything is deleted: kubectl's `-i` prompt, on a terminal only."""

from __future__ import annotations

import sys
from typing import Any

from kubectl_war.errors import WarError

#: kubectl's own question (`kubectl delete -i`).
PROMPT = "Do you want to continue? (y/N): "


def is_terminal(stream: Any) -> bool:
    """Whether `stream` is a terminal (a closed or replaced stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def confirm(preview: str, *, refusal: str) -> None:
    """Show `preview` on stderr and ask; return only on yes.

    Without a terminal on stdin and stderr there is nobody to ask: raise `refusal` as
    the error. Any answer but y/yes deletes nothing and exits 1.
    """
    if not (is_terminal(sys.stdin) and is_terminal(sys.stderr)):
        raise WarError(refusal)
    sys.stderr.write(preview)
    sys.stderr.write(PROMPT)
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        sys.stderr.write("Nothing was deleted.\n")
        sys.exit(1)
