"""How much a proxy-status source may read: a size cap on files, stdin, istiod's answers and
istioctl's output, and a length cap on lines, so a wrong input fails fast instead of
filling memory (`--proxy-status file:/dev/zero`, a disk image, an istiod that never ends).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Callable

from kubectl_war.errors import UsageError
from kubectl_war.sidecars.records import ProxyStatusError

MAX_SIZE_FLAG = "--proxy-status-max-size"
# A mesh of 100,000 sidecars prints about 25 MB of proxy-status table (and a few times that
# as JSON): ten times the largest mesh fits, a wrong file does not.
DEFAULT_MAX_SIZE = 256 * 1024 * 1024
# Go's bufio.Scanner default (MaxScanTokenSize), which kubectl's line readers keep: a
# proxy-status row is a few hundred bytes, a longer line is not a row.
MAX_LINE = 64 * 1024
# What one read asks for: small enough that a capped read never holds much more than its cap.
CHUNK = 1024 * 1024

# Kubernetes quantity suffixes (resource.Quantity), binary and decimal.
_UNITS = {
    "": 1,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "k": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
}
_SIZE = re.compile(r"(\d+)([KMGT]i|[kMGT])?")


def parse_size(text: str, flag: str = MAX_SIZE_FLAG) -> int:
    """Bytes from a size as Kubernetes writes quantities: `256Mi`, `1Gi`, `500M`, `1048576`.

    Raises:
        UsageError: not a whole number with an optional suffix, or zero.
    """
    match = _SIZE.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise UsageError(
            f"invalid {flag} {text!r}: expected a size such as 64Mi, 1Gi or 500M "
            "(suffixes Ki, Mi, Gi, Ti, k, M, G, T)"
        )
    return int(match.group(1)) * _UNITS[match.group(2) or ""]


def format_size(size: int) -> str:
    """A size the way `parse_size` reads it, in the largest unit that divides it."""
    for unit in ("Ti", "Gi", "Mi", "Ki", "T", "G", "M", "k"):
        if size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return str(size)


class InputTooLarge(ProxyStatusError):
    """More input than `--proxy-status-max-size` allows."""


def too_large(limit: int) -> InputTooLarge:
    shown = format_size(limit)
    return InputTooLarge(
        f"larger than {shown}{' bytes' if shown.isdigit() else ''}, the {MAX_SIZE_FLAG} limit "
        f"that keeps a wrong input from filling memory; pass a larger {MAX_SIZE_FLAG} to read it"
    )


def line_too_long(number: int, limit: int = MAX_LINE) -> ProxyStatusError:
    return ProxyStatusError(
        f"line {number}: longer than {limit} bytes: not proxy-status output", number, None
    )


def read_capped(read: Callable[[int], bytes], limit: int, initial: bytes = b"") -> bytearray:
    """`initial`, then everything `read(n)` gives until it gives b"": at most `limit` bytes
    in all, gathered in one buffer (never a list of chunks and their join besides).

    Raises:
        InputTooLarge: there was more.
    """
    data = bytearray(initial)
    while len(data) <= limit:
        chunk = read(min(CHUNK, limit + 1 - len(data)))
        if not chunk:
            return data
        data += chunk
    raise too_large(limit)


def capped_lines(
    stream: IO[bytes], limit: int, first: bytes = b"", max_line: int = MAX_LINE
) -> Iterator[tuple[int, str]]:
    """(number, text) of each line of `first` then the rest of `stream`, decoded as UTF-8.

    Lines end at `\\n`, `\\r\\n` or a lone `\\r` (numbered as `parse_text` numbers
    them); trailing spaces and tabs are dropped. Reads a chunk at a time: a large input is
    never held whole.

    Raises:
        InputTooLarge: more than `limit` bytes in all.
        ProxyStatusError: a line longer than `max_line` bytes, or bytes that are not
            UTF-8, naming the line.
    """
    total = len(first)
    if total > limit:
        raise too_large(limit)
    buffer, start, offset, number = first, 0, 0, 0
    at_end = False
    while True:
        cut = buffer.find(b"\n", start)
        if cut < 0 and not at_end:
            if len(buffer) - start > max_line + 1:  # + 1: the CR of a CRLF
                raise line_too_long(number + 1, max_line)
            chunk = stream.read(CHUNK)
            total += len(chunk)
            if total > limit:
                raise too_large(limit)
            buffer, offset, start = buffer[start:] + chunk, offset + start, 0
            at_end = not chunk
            continue
        end = cut if cut >= 0 else len(buffer)
        if end == start and cut < 0:
            return
        raw = buffer[start:end]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) > max_line:
            raise line_too_long(number + 1, max_line)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProxyStatusError(
                f"line {number + 1}: not UTF-8 text (byte {offset + start + error.start})",
                number + 1,
                None,
            ) from None
        for part in text.split("\r") if "\r" in text else (text,):
            number += 1
            yield number, part.rstrip(" \t")
        if cut < 0:
            return
        start = cut + 1
