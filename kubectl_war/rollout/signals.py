"""SIGINT and SIGTERM during a rollout: stop at once, send nothing more, exit 130 or 143."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType
    from typing import Any, Callable, Union

    from kubectl_war.rollout.executor import Executor

    # What signal.signal answers: a handler, SIG_DFL/SIG_IGN (ints) or None.
    _Handler = Union[Callable[[int, Union[FrameType, None]], Any], int, None]


class Signals:
    """While entered, SIGINT and SIGTERM raise KeyboardInterrupt in the main thread.

    With an `executor` set, it is told first (`interrupt`), so that nothing more is
    sent even where the exception is not felt at once; if it is in the middle of a
    journal write (`shielded`), the write ends first and the executor raises then. A
    second signal while the first is being handled changes nothing.
    """

    def __init__(self) -> None:
        self.executor: Executor | None = None
        self.signum: int | None = None
        self._previous: dict[int, _Handler] = {}

    @property
    def word(self) -> str:
        return "terminated" if self.signum == signal.SIGTERM else "interrupted"

    @property
    def exit_code(self) -> int:
        """The shell's code for death by that signal: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + (self.signum or signal.SIGINT)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        again = self.signum is not None
        if not again:
            self.signum = signum
        ex = self.executor
        if ex is not None:
            if again:
                return
            ex.interrupt(self.word)
            if ex.shielded:
                return
        raise KeyboardInterrupt

    def __enter__(self) -> Signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)


@contextlib.contextmanager
def stopping_on_signals() -> Iterator[Signals]:
    """Run a rollout under `Signals`; a signal before its executor ran (while reading
    the cluster, planning or asking) ends the command: nothing was deleted."""
    with Signals() as signals:
        try:
            yield signals
        except KeyboardInterrupt:
            if signals.executor is None:
                sys.stdout.flush()
                sys.stderr.write(f"{signals.word.capitalize()}: nothing was deleted.\n")
            sys.exit(signals.exit_code)
