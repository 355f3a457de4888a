"""Running a command (istioctl) with its output capped (`limits`): killed once its stdout
passes the limit or its time is up, both pipes drained as it writes."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from io import BufferedReader
from typing import cast

from kubectl_war.sidecars.limits import CHUNK, too_large

# What is kept of a command's stderr: its last lines say why it failed.
_STDERR_TAIL = 64 * 1024


def run_capped(argv: list[str], limit: int, timeout: float | None) -> tuple[int, bytearray, bytes]:
    """Run argv (no shell, no stdin) and answer (exit code, stdout, the end of stderr).

    stdout may be at most `limit` bytes: past that the command is killed. Both pipes are
    drained as the command writes, so it never blocks on a full pipe.

    Raises:
        TimeoutError: the command did not end within `timeout` seconds (it is killed).
        InputTooLarge: stdout was longer than `limit`.
        OSError: the command could not be started.
    """
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    stdout, stderr = cast(BufferedReader, proc.stdout), cast(BufferedReader, proc.stderr)
    out = bytearray()
    err = bytearray()
    over = threading.Event()

    def drain_out() -> None:
        with contextlib.suppress(OSError, ValueError):  # the pipe closed under it
            while chunk := stdout.read1(CHUNK):
                out.extend(chunk)
                if len(out) > limit:
                    over.set()
                    proc.kill()
                    return

    def drain_err() -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := stderr.read1(CHUNK):
                err.extend(chunk)
                del err[:-_STDERR_TAIL]

    readers = [threading.Thread(target=f, daemon=True) for f in (drain_out, drain_err)]
    for reader in readers:
        reader.start()
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise TimeoutError from None
    finally:
        for reader in readers:
            reader.join(1.0)
        stdout.close()
        stderr.close()
    if over.is_set():
        raise too_large(limit)
    return code, out, bytes(err)
