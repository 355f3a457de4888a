"""Colour only for a person at a terminal, and never with NO_COLOR."""

from __future__ import annotations

import io

import pytest

from kubectl_war.render import Cell, Table, use_colour


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert use_colour(_Tty()) is True
    assert use_colour(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_colour(_Tty()) is False
    monkeypatch.setenv("NO_COLOR", "")
    monkeypatch.setenv("TERM", "dumb")
    assert use_colour(_Tty()) is False


def test_coloured_cells_keep_the_plain_alignment() -> None:
    rows = [["a", Cell("True", "good")], ["bbbb", Cell("False", "bad")]]
    plain = Table(["name", "agent connected"]).render(rows)
    painted = Table(["name", "agent connected"], colour=True).render(rows)
    assert plain == "NAME   AGENT CONNECTED\na      True\nbbbb   False\n"
    assert painted == (
        "\x1b[1mNAME\x1b[0m   \x1b[1mAGENT CONNECTED\x1b[0m\n"
        "a      \x1b[32mTrue\x1b[0m\n"
        "bbbb   \x1b[31mFalse\x1b[0m\n"
    )


class _Writes(io.StringIO):
    """A stream that notes the size of each write."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, text: str) -> int:
        self.sizes.append(len(text))
        return super().write(text)


@pytest.mark.parametrize("count", [0, 1, 999, 1000, 1001, 2500])
@pytest.mark.parametrize("headers", [True, False])
@pytest.mark.parametrize("lead", ["", "\n"])
def test_a_table_written_in_blocks_is_the_rendered_table(
    count: int, headers: bool, lead: str
) -> None:
    rows = [
        [f"war-{i}", Cell("True" if i % 3 else "False", "good"), "x" * (i % 7)]
        for i in range(count)
    ]
    expected = lead + Table(["name", "agent", "note"]).render(rows, headers=headers)
    out = _Writes()
    Table(["name", "agent", "note"]).write(rows, out, headers=headers, lead=lead)
    assert out.getvalue() == expected
    # A block of at most 1,000 lines at a time: never the whole table at once.
    blocks = -(-(count + headers) // 1000)
    assert len(out.sizes) == (max(blocks, 1) if expected else 0)
