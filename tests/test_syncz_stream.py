"""istiod's `/debug/syncz` read as it arrives (`syncz.read_syncz`): the same records, and
the same error in the same words, as reading the whole answer at once, wherever the
chunks happen to break; and the answer is never held whole."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_war.sidecars.limits import too_large
from kubectl_war.sidecars.records import ProxyStatusError
from kubectl_war.sidecars.syncz import parse_syncz, read_syncz

PS = Path(__file__).parent / "fixtures" / "proxystatus"
ISTIOD = "istiod-7d4f8b9c6-x2x9k"
Outcome = tuple[str, object]


def whole(body: bytes, limit: int) -> Outcome:
    """What reading the whole answer at once gives: size, UTF-8, JSON, then shape."""
    if len(body) > limit:
        return ("error", (too_large(limit).message, None, None))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ("error", (f"not UTF-8 text (byte {exc.start})", None, None))
    if text.strip() in ("", "null"):
        return ("records", [])
    try:
        data = json.loads(text)
    except ValueError as exc:
        lineno = getattr(exc, "lineno", 1)
        line = text.split("\n")[lineno - 1].strip()
        shown = line if len(line) <= 60 else line[:57] + "..."
        return ("error", (f"line {lineno}: not JSON: {shown!r}", lineno, line))
    except RecursionError:
        return ("error", ("JSON nested too deeply", None, None))
    try:
        return ("records", parse_syncz(data, ISTIOD))
    except ProxyStatusError as exc:
        return ("error", (exc.message, exc.line_number, exc.line))


def streamed(body: bytes, size: int, limit: int) -> Outcome:
    chunks = (body[i : i + size] for i in range(0, len(body), size))
    try:
        return ("records", read_syncz(chunks, ISTIOD, limit))
    except ProxyStatusError as exc:
        return ("error", (exc.message, exc.line_number, exc.line))


def entry(proxy: str, **more: object) -> dict[str, object]:
    nonce = "2024-05-16T11:51:00Z/1f2eff8219"
    return {
        "cluster_id": "Kubernetes",
        "proxy": proxy,
        "istio_version": "1.20.8",
        "cluster_sent": nonce,
        "cluster_acked": nonce,
        "listener_sent": nonce,
        "listener_acked": nonce,
        **more,
    }


ENTRIES = [
    entry("vm-a.bookinfo"),
    entry("vm-b.bookinfo", route_sent="n1", route_acked="n0"),
    # Known to report ECDS from this entry on: the records before it gain NOT SENT.
    entry("vm-c.bookinfo", proxy_type="sidecar", extensionconfig_sent="e"),
    entry("vm-\u00e9t\u00e9.bookinfo"),  # two-byte characters, split by some chunkings
]
INDENTED = json.dumps(ENTRIES, indent=2, ensure_ascii=False).encode()
GOOD = [
    INDENTED,
    json.dumps(ENTRIES, ensure_ascii=False).encode(),  # one line
    json.dumps(ENTRIES, indent="\t").replace("\n", "\r\n").encode(),
    b"\n\n  " + INDENTED + b"\n\n",
    b"[]",
    b" [ \n ] ",
    b"null",
    b"",
    b" \n",
    (PS / "syncz-1.24.json").read_bytes(),
    (PS / "syncz-1.9.json").read_bytes(),
]
BAD = [
    b"[",
    b"[\n",
    b"[\n  ",
    INDENTED[:-1],  # no closing bracket
    INDENTED[:-30],  # cut inside the last entry
    INDENTED[: INDENTED.index(b"},") + 2],  # cut after a comma
    INDENTED[: INDENTED.index(b"},") + 5],  # ... and a line break
    INDENTED + b"x",
    INDENTED + b"\n]\n",
    INDENTED.replace(b"},", b"}", 1),  # a comma missing
    INDENTED.replace(b"},", b"} ,,", 1),
    INDENTED[:-1] + b",\n]",  # a trailing comma
    INDENTED.replace(b'"vm-b.bookinfo"', b'"vm-b.bookinfo', 1),
    INDENTED.replace(b'"vm-b.bookinfo"', b"7", 1),  # the wrong shape
    INDENTED.replace(b'"vm-b.bookinfo"', b"7", 1).replace(b"},", b"}", 2),  # and not JSON
    json.dumps([*ENTRIES, 7]).encode(),
    json.dumps([7, *ENTRIES]).encode(),
    b"[1, 23]",
    b"[true, fals]",
    b"[{}]",
    b'{"proxy": "vm-a.bookinfo"}',
    b"<html>\n<body>upstream connect error</body>",
    INDENTED.replace(b"vm-a", b"vm-\xff", 1),  # not UTF-8
    INDENTED.replace(b"vm-a", b"vm-\xff", 1)[:-30],  # and not JSON
    INDENTED.replace(b"vm-\xc3\xa9", b"vm-\xc3", 1),  # a character cut short
    INDENTED[:-1] + b"\xe2\x82",  # at the very end
    b"[" * 5000 + b"]" * 5000,
]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("body", GOOD + BAD)
def test_read_as_it_arrives_is_read_whole(body: bytes, size: int) -> None:
    if size < 7 and len(body) > 20_000:
        pytest.skip("a character at a time: the small answers are enough")
    assert streamed(body, size, 1 << 30) == whole(body, 1 << 30)


def test_the_answers_give_records_and_errors() -> None:
    """The cases above are what they are meant to be."""
    outcomes = [whole(body, 1 << 30) for body in GOOD]
    assert all(kind == "records" for kind, _ in outcomes)
    records = outcomes[0][1]
    assert isinstance(records, list)
    assert [r.proxy for r in records] == [e["proxy"] for e in ENTRIES]
    assert [str(r.types["ECDS"]) for r in records] == [
        "NOT SENT",
        "NOT SENT",
        "STALE (Never Acknowledged)",
        "NOT SENT",
    ]
    assert [kind for kind, _ in (whole(body, 1 << 30) for body in BAD)] == ["error"] * len(BAD)


@pytest.mark.parametrize("size", [1, 5, 1 << 20])
@pytest.mark.parametrize(
    "body",
    [
        INDENTED,
        INDENTED.replace(b"vm-a", b"vm-\xff", 1),  # the size is said first
        INDENTED[:100],
    ],
)
def test_an_answer_over_the_limit_is_too_large(body: bytes, size: int) -> None:
    for limit in (0, 50, len(body) - 1, len(body)):
        assert streamed(body, size, limit) == whole(body, limit)


def test_a_broken_connection_is_said_before_anything_read() -> None:
    class Broken(Exception):
        pass

    def chunks(body: bytes) -> Iterator[bytes]:
        yield body
        raise Broken

    for body in (INDENTED, INDENTED + b"x", INDENTED.replace(b"vm-a", b"vm-\xff", 1)):
        with pytest.raises(Broken):
            read_syncz(chunks(body), ISTIOD, 1 << 30)


def test_a_large_answer_is_never_held_whole() -> None:
    """X is read holding, besides the records made of
    it, less than a tenth of it at any time; read whole, it was held twice over (as
    bytes and as text) beside them."""
    proxies = 20_000

    def chunks() -> Iterator[bytes]:
        # Made as they are read, as a connection gives them: never the whole answer.
        yield b"[\n"
        block: list[str] = []
        for i in range(proxies):
            text = json.dumps(entry(f"vm-{i:06d}.bookinfo", proxy_type="sidecar"), indent=2)
            block.append(text.replace("\n", "\n  ") + (",\n" if i < proxies - 1 else "\n"))
            if len(block) == 100:
                yield "  ".join(["", *block]).encode()
                block = []
        yield ("  ".join(["", *block]) + "]\n").encode()

    size = sum(len(chunk) for chunk in chunks())
    tracemalloc.start()
    try:
        records = read_syncz(chunks(), ISTIOD, 1 << 30)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.proxy for r in records[:2]] == ["vm-000000.bookinfo", "vm-000001.bookinfo"]
    assert len(records) == proxies
    assert size > 7_000_000
    assert peak - held < size / 10
