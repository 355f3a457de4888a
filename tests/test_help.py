"""Every command's --help: one line of purpose first, examples last, in the right name;
README's command reference is exactly the --help texts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kubectl_war import docs
from kubectl_war.cli.commands import COMMANDS
from kubectl_war.cli.group import war
from kubectl_war.cli.helptext import localise, prog_name, purpose, split_examples

ROOT = Path(__file__).resolve().parent.parent


def _all_commands() -> list[tuple[str, ...]]:
    """The path below `war` of every registered command, including ones added later."""
    paths: list[tuple[str, ...]] = []

    def walk(cmd: click.Command, path: tuple[str, ...]) -> None:
        paths.append(path)
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                if not sub.hidden:
                    walk(sub, (*path, name))

    walk(war, ())
    return paths


def _help(path: tuple[str, ...], prog: str) -> str:
    result = CliRunner().invoke(
        war, [*path, "--help"], prog_name=prog, terminal_width=docs.WIDTH, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", _all_commands(), ids=lambda p: " ".join(p) or "war")
@pytest.mark.parametrize("prog", ["kubectl war", "kubectl-war.pyz"])
def test_help_opens_with_one_line_of_purpose_and_ends_with_examples(
    path: tuple[str, ...], prog: str
) -> None:
    lines = _help(path, prog).rstrip("\n").split("\n")
    command = " ".join([prog, *path])
    assert lines[0].startswith(f"Usage: {command} ")
    # Usage, a blank line, the purpose on exactly one line, then a blank line.
    assert lines[1] == ""
    assert lines[2].startswith("  ") and lines[2].strip().endswith(".")
    assert lines[3] == ""
    heading = max(i for i, line in enumerate(lines) if line == "Examples:")
    # kubectl's last lines: where the global flags are (and, for the group, the help).
    footer = [
        f'Use "{prog} options" for a list of global command-line options (applies to all commands).'
    ]
    if not path:
        footer.insert(
            0, f'Use "{prog} <command> --help" for more information about a given command.'
        )
    assert lines[-len(footer) - 1 :] == ["", *footer]
    examples = lines[heading + 1 : -len(footer) - 1]
    assert examples, "an Examples: block with at least one example"
    for line in examples:
        assert line.startswith("  ") and line.strip(), f"{line!r}: examples are indented, unbroken"
        if not line.strip().startswith("#"):
            assert f"{prog} " in line, f"{line!r} should run {prog!r}"
    assert any(f"{command} " in line or line.endswith(command) for line in examples), (
        f"at least one example runs {command!r}"
    )
    if prog != "kubectl war":
        assert not any("kubectl war" in line for line in examples)


def test_help_examples_come_after_the_options() -> None:
    text = _help(("version",), "kubectl war")
    assert text.endswith(
        "Options:\n"
        "  -o, --output [text|json|yaml|kyaml]\n"
        "                                  Output format.  [default: text]\n"
        "  -h, --help                      Show this message and exit.\n"
        "\n"
        "Examples:\n"
        "  kubectl war version\n"
        "  kubectl war version -o json\n"
        "\n"
        'Use "kubectl war options" for a list of global command-line options (applies to all '
        "commands).\n"
    )


def test_examples_are_split_from_the_docstring_with_their_no_rewrap_mark() -> None:
    body, examples = split_examples(
        "Do a thing.\n\nMore about it.\n\n\b\nExamples:\n  kubectl war x\n\n  # note\n"
    )
    assert body == "Do a thing.\n\nMore about it."
    assert examples == ["kubectl war x", "", "# note"]
    assert purpose("Do a thing.\n\nMore.\n\nExamples:\n  kubectl war x") == "Do a thing."
    assert split_examples("No examples here.") == ("No examples here.", [])


def test_examples_name_the_program_wherever_kubectl_war_appears() -> None:
    line = "source <(kubectl war completion bash)"
    assert localise(line, "kubectl war") == line
    assert (
        localise(line, "python -m kubectl_war") == "source <(python -m kubectl_war completion bash)"
    )
    assert localise("kubectl warden kubectl war", "w") == "kubectl warden w"


@pytest.mark.parametrize(
    ("argv0", "caller", "expected"),
    [
        ("/usr/local/bin/kubectl-war", False, "kubectl war"),
        ("/home/me/.krew/bin/kubectl-war", False, "kubectl war"),
        ("/opt/war/bin/war", True, "kubectl war"),
        ("/opt/war/bin/war", False, "war"),
        ("/src/kubectl_war/__main__.py", False, "python -m kubectl_war"),
    ],
)
def test_prog_name_is_kubectl_war_when_run_as_a_plugin(
    monkeypatch: pytest.MonkeyPatch, argv0: str, caller: bool, expected: str
) -> None:
    monkeypatch.setattr(sys, "argv", [argv0])
    monkeypatch.delenv("KUBECTL_PLUGINS_CALLER", raising=False)
    if caller:
        monkeypatch.setenv("KUBECTL_PLUGINS_CALLER", "/usr/bin/kubectl")
    assert prog_name() == expected


def test_help_through_kubectl_shows_kubectl_war_examples(
    run_kubectl: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    done = run_kubectl("war", "version", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: kubectl war version [OPTIONS]\n")
    assert done.stdout.endswith(
        "Examples:\n  kubectl war version\n  kubectl war version -o json\n\n"
        'Use "kubectl war options" for a list of global command-line options (applies to all '
        "commands).\n"
    )


def test_help_of_python_m_shows_python_m_examples() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kubectl_war", "version", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: python -m kubectl_war version [OPTIONS]\n")
    assert done.stdout.endswith(
        "Examples:\n  python -m kubectl_war version\n  python -m kubectl_war version -o json\n\n"
        'Use "python -m kubectl_war options" for a list of global command-line options '
        "(applies to all commands).\n"
    )


def test_the_command_reference_is_the_help_of_every_command() -> None:
    # docs/commands/ and README's list of commands, as `make docs` writes them.
    assert docs.stale(ROOT, write=False) == [], "the command reference is stale: run `make docs`"


def test_the_reference_has_one_page_per_command_and_an_index() -> None:
    pages = docs.pages()
    for path in _all_commands():
        command = " ".join(["kubectl war", *path])
        page = pages[docs.file_name(command)]
        assert page.count(f"\n# `{command}`\n") == 1
        assert _help(path, "kubectl war") in page
        assert f"[`{command}`]({docs.file_name(command)})" in pages["README.md"]
    assert len(pages) == len(_all_commands()) + 1


def test_make_docs_writes_pages_removes_old_ones_and_keeps_the_readme_list(
    tmp_path: Path,
) -> None:
    (tmp_path / "README.md").write_text("# x\n\nIntro.\n")
    (tmp_path / docs.REFERENCE_DIR).mkdir(parents=True)
    old = tmp_path / docs.REFERENCE_DIR / "kubectl_war_gone.md"
    old.write_text("a command that is no more\n")
    changed = docs.stale(tmp_path, write=True)
    assert "README.md" in changed and str(docs.REFERENCE_DIR / "kubectl_war_gone.md") in changed
    assert not old.exists()
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("# x\n\nIntro.\n\n" + docs.BEGIN)
    # Absolute, so that the links work on PyPI too.
    assert f"[`kubectl war list`]({docs.DOCS_BASE}docs/commands/kubectl_war_list.md)" in readme
    assert docs.stale(tmp_path, write=False) == []
    assert docs.main(["--check", str(tmp_path)]) == 0


def test_each_commands_listed_purpose_is_its_own_help() -> None:
    ctx = click.Context(war)
    for name, (_, listed) in COMMANDS.items():
        cmd = war.get_command(ctx, name)
        assert cmd is not None and cmd.name == name
        assert cmd.get_short_help_str(limit=10_000) == listed


def _command_modules_after(*args: str) -> list[str]:
    script = (
        "import sys\n"
        "from kubectl_war.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "from kubectl_war.cli.commands import COMMANDS\n"
        "mods = [where.partition(':')[0] for where, _ in COMMANDS.values()]\n"
        "sys.stderr.write('LOADED ' + ' '.join(sorted(m for m in mods if m in sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.stderr.rpartition("LOADED ")[2].split()


def test_help_and_decode_import_no_other_commands_module() -> None:
    # `--help` and a plain `decode` line are answered without click (cli/quick.py).
    assert _command_modules_after("--help") == []
    decode = _command_modules_after("decode", "ratings-aws-aws-123456789012-us-east-2b-ec2-i-0abc")
    assert decode == []
    # A line click runs loads that command's module only.
    decode_help = _command_modules_after("decode", "--help")
    assert decode_help == ["kubectl_war.cli.decode"]
    listing = _command_modules_after("list", "--help")
    assert listing == ["kubectl_war.cli.list_wars"]


def test_the_readme_pictures_are_what_make_docs_draws(tmp_path: Path) -> None:
    # make docs draws them from the demo fleet at a pinned time: the same bytes each time.
    from tests.fakekube.pictures import write_pictures

    for drawn in write_pictures(tmp_path):
        committed = ROOT / "docs" / "images" / drawn.name
        assert drawn.read_bytes() == committed.read_bytes(), f"{committed}: run `make docs`"
