"""`kubectl war --help` and plain `decode` lines are answered without click
(kubectl_war/cli/quick.py): they must read and print exactly what click would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import click
import pytest

from kubectl_war.cli import quick
from kubectl_war.cli.decode import decode_cmd
from kubectl_war.cli.group import GroupContext, war
from kubectl_war.cli.help import WarContext
from kubectl_war.cli.helptext import cleandoc, group_help, short_help
from tests.factories import EC2, ECS, JWT

AMBIGUOUS = "ratings-jwt-x-jwt-corp--vm1"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`kubectl-war ARGS` in a fresh interpreter, as the program (main() with no argv)."""
    code = "import sys; sys.argv[0] = 'kubectl-war'; from kubectl_war.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def _modules_after(*args: str) -> list[str]:
    """The modules of interest a run of `args` imported."""
    code = (
        "import sys, os\n"
        "sys.argv[0] = 'kubectl-war'\n"
        "from kubectl_war.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = ('click', 'typing', 'inspect', 'dataclasses', 'shutil', 'kubernetes')\n"
        "sys.stderr.write('LOADED ' + ' '.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )
    return done.stderr.rpartition("LOADED ")[2].split()


@pytest.mark.parametrize(
    "args",
    [("--help",), ("-h",), ("decode", EC2), ("decode", "-o", "json", "--group", "ratings", JWT)],
    ids=" ".join,
)
def test_the_quick_paths_import_neither_click_nor_typing(args: tuple[str, ...]) -> None:
    assert _modules_after(*args) == []


def test_a_line_click_must_read_imports_click() -> None:
    assert "click" in _modules_after("decode", "--help")


# ---- `kubectl war --help` ---------------------------------------------------------------


def _click_layout(width: int, prog: str) -> str:
    """The group's help as click's own formatter lays it out (WarContext's generic
    rendering, with click's command list), at `width`."""
    ctx = war.make_context(
        prog, [], resilient_parsing=True, terminal_width=width, max_content_width=width
    )
    assert isinstance(ctx, GroupContext)
    return WarContext.get_help(ctx)


@pytest.mark.parametrize("width", [50, 58, 64, 70, 78])
@pytest.mark.parametrize("prog", ["kubectl war", "kubectl-war", "python -m kubectl_war"])
def test_group_help_is_laid_out_as_click_lays_it_out(width: int, prog: str) -> None:
    assert group_help(prog, width) == _click_layout(width, prog)


def test_the_groups_click_help_is_the_quick_text() -> None:
    ctx = war.make_context(
        "kubectl war", [], resilient_parsing=True, terminal_width=78, max_content_width=78
    )
    assert ctx.get_help() == group_help("kubectl war", 78)


@pytest.mark.parametrize(
    ("columns", "width"), [("", 78), ("200", 78), ("80", 78), ("64", 62), ("20", 50), ("x", 78)]
)
def test_help_is_as_wide_as_click_would_make_it(columns: str, width: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = columns
    done = _run("--help", env=env)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == group_help("kubectl war", width) + "\n"
    # And click, asked for the same help through a command it must parse, agrees.
    via_click = _run("--help", "--help", env=env)
    assert via_click.returncode == 0, via_click.stderr
    assert via_click.stdout == done.stdout


def test_kubectl_war_alone_prints_its_help_and_succeeds(
    run_kubectl: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    done = run_kubectl("war")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == group_help("kubectl war", 78) + "\n"


def test_short_help_is_clicks() -> None:
    texts = [
        "One sentence that is long enough to be cut somewhere in its middle part.",
        "Short. And a second sentence.",
        "Exactly twenty chars and then more words.",
        "word " * 30,
    ]
    for text in texts:
        for limit in range(8, 80):
            expected = click.Command("x", help=text).get_short_help_str(limit)
            assert short_help(text, limit) == expected, (text, limit)


def test_cleandoc_is_inspects() -> None:
    import inspect

    cmds = [war.get_command(click.Context(war), name) for name in war.list_commands(None)]  # type: ignore[arg-type]
    docs = [cmd.help for cmd in cmds if cmd is not None and cmd.help]
    docs += ["\n\n  a\n    b\n\n  c\n\n", "first\n\tsecond\n    third", "", "x"]
    for doc in docs:
        assert cleandoc(doc) == inspect.cleandoc(doc)


# ---- `decode` ---------------------------------------------------------------------------

# Lines the quick path reads, and what it reads from them.
PLAIN = [
    ([EC2], ([EC2], None, "text")),
    ([EC2, ECS, JWT], ([EC2, ECS, JWT], None, "text")),
    (["-o", "json", EC2], ([EC2], None, "json")),
    (["-ojson", EC2], ([EC2], None, "json")),
    (["-o=json", EC2], ([EC2], None, "json")),
    (["--output=json", EC2], ([EC2], None, "json")),
    (["--output", "text", EC2], ([EC2], None, "text")),
    ([EC2, "-o", "json", "-o", "text"], ([EC2], None, "text")),
    (["--group", "ratings", AMBIGUOUS], ([AMBIGUOUS], "ratings", "text")),
    ([AMBIGUOUS, "--group=ratings-jwt-x"], ([AMBIGUOUS], "ratings-jwt-x", "text")),
    (["--group=", EC2], ([EC2], "", "text")),
    (["-", EC2], (["-", EC2], None, "text")),
    (["", EC2], (["", EC2], None, "text")),
]

# Lines left to click: help, mistakes, and what the quick parser does not know.
LEFT = [
    [],
    ["--help"],
    ["-h", EC2],
    [EC2, "--help"],
    ["--", EC2],
    ["-o"],
    ["-o", "yaml", EC2],
    ["-o", "-x", EC2],
    ["--group"],
    ["--group", "--output=json", EC2],
    ["--output"],
    ["--outputs=json", EC2],
    ["--grou", "ratings", EC2],
    ["-x", EC2],
    ["-o", "json"],
    ["--debug", EC2],
]


@pytest.mark.parametrize(("args", "expected"), PLAIN, ids=lambda v: repr(v)[:60])
def test_decode_lines_read_as_click_reads_them(
    args: list[str], expected: tuple[list[str], str | None, str]
) -> None:
    assert quick.decode_args(args) == expected
    # As `kubectl war decode ...` reaches it: under the group's context, whose settings
    # (`-h`) the command inherits.
    parent = war.make_context("kubectl war", [], resilient_parsing=True)
    ctx = decode_cmd.make_context("decode", list(args), parent=parent)
    names, group, output = expected
    assert ctx.params == {"names": tuple(names), "group": group, "output": output}


@pytest.mark.parametrize("args", LEFT, ids=lambda v: repr(v)[:60])
def test_other_decode_lines_are_left_to_click(args: list[str]) -> None:
    assert quick.decode_args(args) is None


@pytest.mark.parametrize(
    "args",
    [
        [EC2],
        ["-o", "json", EC2, JWT],
        ["-o", "json", AMBIGUOUS],
        ["--group", "ratings", AMBIGUOUS],
        [AMBIGUOUS],
        ["not-a-war-name"],
        [EC2, "bad-1", "bad-2"],
        ["-o", "json", "bad-1", EC2],
    ],
    ids=lambda v: repr(v)[:60],
)
def test_decode_prints_what_click_prints(args: list[str]) -> None:
    quick_run = _run("decode", *args)
    # `--` ends the options, so click parses this line: the same names, the same flags.
    flags = [a for a in args if a.startswith("-") or a in ("json", "ratings")]
    names = [a for a in args if a not in flags]
    click_run = _run("decode", *flags, "--", *names)
    assert (quick_run.returncode, quick_run.stdout, quick_run.stderr) == (
        click_run.returncode,
        click_run.stdout,
        click_run.stderr,
    )
    assert quick_run.stdout or quick_run.returncode


def test_decode_json_through_kubectl(
    run_kubectl: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    done = run_kubectl("war", "decode", "-o", "json", EC2)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == {
        "name": EC2,
        "readings": [
            {
                "group": "ratings",
                "platform": "ec2",
                "partition": "aws",
                "account": "123456789012",
                "region": "us-east-2",
                "zone": "us-east-2b",
                "instanceId": "i-1234567890abcdef0",
            }
        ],
    }


def test_decode_errors_exit_as_click_would() -> None:
    done = _run("decode", EC2, "not-a-war-name")
    assert done.returncode == 1
    assert done.stdout.startswith(f"Name:            {EC2}\n")
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
