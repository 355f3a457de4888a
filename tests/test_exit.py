"""Run as the program, the CLI ends its process without the interpreter's teardown;
exit codes, output, atexit handlers and a reader that leaves early are as before."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.factories import EC2

_PROGRAM = textwrap.dedent(
    """
    import atexit, sys
    atexit.register(lambda: sys.stderr.write("atexit ran\\n"))
    from kubectl_war.cli import main
    sys.argv = ["kubectl-war", *sys.argv[1:]]
    main()
    sys.stderr.write("main returned\\n")
    """
)


def _program(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _PROGRAM, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_success_flushes_output_runs_atexit_and_exits_zero() -> None:
    r = _program("decode", EC2)
    assert r.returncode == 0
    assert "i-1234567890abcdef0" in r.stdout
    assert r.stderr == "atexit ran\n"


def test_usage_errors_keep_their_exit_code() -> None:
    r = _program("list", "--no-such-flag")
    assert r.returncode == 1
    assert r.stderr == (
        "error: unknown flag: --no-such-flag\n"
        "See 'kubectl war list --help' for usage.\n"
        "atexit ran\n"
    )


def test_help_exits_zero_with_the_whole_text() -> None:
    r = _program("--help")
    assert r.returncode == 0
    assert r.stdout.endswith(
        '\nUse "kubectl war options" for a list of global command-line options (applies to all '
        "commands).\n"
    )
    assert r.stderr == "atexit ran\n"


def test_a_reader_that_leaves_early_is_not_an_error() -> None:
    script = (
        f"{sys.executable} -c {_quote(_PROGRAM)} --help | head -c 10 >/dev/null; "
        "echo ${PIPESTATUS[0]}"
    )
    r = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert r.stdout.strip() == "0"
    assert "Traceback" not in r.stderr


def test_explicit_argv_returns_to_the_caller() -> None:
    code = f"from kubectl_war.cli import main\nmain(['decode', {EC2!r}])\nprint('still here')\n"
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert r.returncode == 0
    assert r.stdout.endswith("still here\n")


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
