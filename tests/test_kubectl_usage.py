"""`kubectl war` against the pinned kubectl where both do the same thing: usage errors,
unknown commands, `-o kyaml`, `-L` values and the space form of a boolean flag.

Each case runs the pinned kubectl (`kubectl get war ...`) and the plugin through it
(`kubectl war list ...`) against one fake API server and compares stdout byte for byte,
the exit code, and stderr where the words are kubectl's (with the command's own name in
place of kubectl's: `kubectl get` for `kubectl war list`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sysconfig
from collections.abc import Iterator
from typing import Any, Callable

import pytest

from tests.conftest import FIXED_NOW
from tests.factories import ns, war
from tests.fakekube import Clock, FakeKube

Run = Callable[..., "subprocess.CompletedProcess[str]"]
NS = "kyaml"


def _odd_wars() -> list[dict[str, Any]]:
    """WARs with what KYAML must quote, escape or fold, and labels for `-L`."""
    first = war(
        "odd-1",
        NS,
        labels={"app": "ratings", "tier": "a", "example.com/team": "mesh", 'a"b': "q"},
    )
    first["metadata"]["annotations"] = {
        "note": "two lines\nand a tab\there\n",
        "quote": 'say "hi" \\ back',
        "unicode": "héllo ☃ \u2028 \x1b",
        "leading": "  indented\n\tand tabbed",
        "empty": "",
    }
    first["spec"]["extra"] = {
        "numbers": [0, -1, 2.5, 1e21, 1e-7, 1.0, 123456789012345678],
        "flags": [True, False, None],
        "nested": [[1, 2], [], [{"k": "v"}], {}],
        "true": "key that reads as a boolean",
        "y": "short boolean",
        "1.5": "key that reads as a number",
        "2024-01-01": "key that reads as a time",
        "-dash": "key that starts with a dash",
        "a b": "key with a space",
        "ok_key.with-dots/and-slash": "plain key",
    }
    second = war("odd-2", NS, connected=None, ip=None, labels={"app": "reviews,v2", "tier": "b"})
    return [ns(NS), first, second]


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory, kubectl_bin: str) -> Iterator[Run]:
    """`kubectl ARGS` against one fake cluster for the module (kubectl is the slow part)."""
    fake = FakeKube(clock=Clock(FIXED_NOW)).start()
    try:
        fake.seed_fleet()
        fake.add_all(_odd_wars())
        home = tmp_path_factory.mktemp("home")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env.pop("NO_COLOR", None)
        env["HOME"] = str(home)
        env["KUBECONFIG"] = fake.write_kubeconfig(home / "kubeconfig", context="fake")
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["KUBECTL_WAR_NOW"] = FIXED_NOW
        env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), env.get("PATH", "")])

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [kubectl_bin, *args], capture_output=True, text=True, env=env, timeout=60
            )

        yield run
    finally:
        fake.stop()


def _same(
    theirs: subprocess.CompletedProcess[str],
    ours: subprocess.CompletedProcess[str],
    *,
    renamed: tuple[str, str] | None = None,
) -> None:
    """Same stdout bytes and exit code; same stderr once kubectl's command name is ours."""
    assert ours.stdout == theirs.stdout
    assert ours.returncode == theirs.returncode
    expected = theirs.stderr
    if renamed is not None:
        expected = expected.replace(*renamed)
    assert ours.stderr == expected


# ---- usage errors ---------------------------------------------------------------------------

FLAG_MISTAKES = [
    ["--bogus"],
    ["--bogus=1"],
    ["-x"],
    ["-n"],
    ["--namespace"],
    ["--chunk-size", "x"],
    ["--sort-by"],
    ["-L", '"x'],
    ["-L", 'a"b'],
    ["-L", 'x,"a"b'],
    ["-L", 'x, "a"'],
    ["-L", 'é"'],
]


@pytest.mark.parametrize("args", FLAG_MISTAKES, ids=" ".join)
def test_flag_mistakes_are_kubectls_usage_errors(kubectl: Run, args: list[str]) -> None:
    theirs = kubectl("get", "war", "-n", NS, *args)
    ours = kubectl("war", "list", "-n", NS, *args)
    assert theirs.returncode == 1, theirs.stderr
    assert ours.stderr.endswith("See 'kubectl war list --help' for usage.\n")
    _same(theirs, ours, renamed=("'kubectl get --help'", "'kubectl war list --help'"))


@pytest.mark.parametrize(
    ("command", "kubectl_command"),
    [("describe", "describe"), ("delete", "delete"), ("status", "get")],
)
def test_each_command_points_at_its_own_help(
    kubectl: Run, command: str, kubectl_command: str
) -> None:
    theirs = kubectl(kubectl_command, "war", "--bogus")
    ours = kubectl("war", command, "--bogus")
    _same(
        theirs,
        ours,
        renamed=(f"'kubectl {kubectl_command} --help'", f"'kubectl war {command} --help'"),
    )


def test_an_unknown_output_format_is_kubectls_error_without_a_help_pointer(kubectl: Run) -> None:
    theirs = kubectl("get", "war", "-n", NS, "-o", "bogus")
    ours = kubectl("war", "list", "-n", NS, "-o", "bogus")
    assert (ours.stdout, ours.returncode) == (theirs.stdout, theirs.returncode) == ("", 1)
    # The formats each offers differ (Go templates are refused: see the README), the rest
    # is kubectl's line.
    words = 'error: unable to match a printer suitable for the output format "bogus", allowed '
    assert theirs.stderr.startswith(words) and ours.stderr.startswith(words)
    assert ours.stderr.count("\n") == theirs.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "typo",
    ["deelte", "describ", "versoin", "completoin", "optoins", "rollotu", "zzzzzz"],
)
def test_unknown_commands_are_cobras_with_did_you_mean(kubectl: Run, typo: str) -> None:
    # kubectl's commands and ours share these names, so the suggestions are the same.
    theirs = kubectl(typo)
    ours = kubectl("war", typo)
    _same(theirs, ours, renamed=('for "kubectl"', 'for "kubectl war"'))


def test_a_typo_of_list_suggests_list(kubectl: Run) -> None:
    ours = kubectl("war", "lsit")
    assert (ours.returncode, ours.stdout) == (1, "")
    assert (
        ours.stderr
        == 'error: unknown command "lsit" for "kubectl war"\n\nDid you mean this?\n\tlist\n'
    )


# ---- --allow-missing-template-keys false ----------------------------------------------------


def test_a_boolean_flag_takes_its_value_only_after_an_equals_sign(kubectl: Run) -> None:
    # pflag reads `--allow-missing-template-keys false` as the flag (true) and a name.
    args = ("-n", NS, "--allow-missing-template-keys", "false", "-o", "jsonpath={.metadata.name}")
    theirs = kubectl("get", "war", *args)
    ours = kubectl("war", "describe", *args)
    assert theirs.returncode == 1
    assert theirs.stderr == (
        "Error from server (NotFound): workloadautoregistrations.runtime.onboarding.tetrate.io "
        '"false" not found\n'
    )
    _same(theirs, ours)


def test_the_equals_form_sets_it_false(kubectl: Run) -> None:
    args = ("-n", NS, "--allow-missing-template-keys=false", "-o", "jsonpath={.metadata.nope}")
    theirs = kubectl("get", "war", "odd-1", *args)
    ours = kubectl("war", "describe", "odd-1", *args)
    assert (ours.stdout, ours.returncode) == (theirs.stdout, theirs.returncode) == ("", 1)
    assert ours.stderr.splitlines()[0] == theirs.stderr.splitlines()[0]


# ---- -o kyaml -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where", [("-n", NS), ("-A",), ("-n", "nowhere")], ids=lambda w: " ".join(w)
)
def test_list_kyaml_is_kubectls(kubectl: Run, where: tuple[str, ...]) -> None:
    theirs = kubectl("get", "war", *where, "-o", "kyaml")
    assert theirs.returncode == 0 and theirs.stdout.startswith("---\n{\n"), theirs.stderr
    _same(theirs, kubectl("war", "list", *where, "-o", "kyaml"))


def test_kyaml_of_odd_values_is_kubectls(kubectl: Run) -> None:
    theirs = kubectl("get", "war", "-n", NS, "odd-1", "-o", "kyaml")
    assert '"true": "key that reads as a boolean"' in theirs.stdout
    # The plugin's encoder on the object kubectl printed, byte for byte.
    from kubectl_war.kyaml import to_kyaml
    from kubectl_war.render import as_printed

    got = kubectl("get", "war", "-n", NS, "odd-1", "-o", "json")
    assert to_kyaml(as_printed(json.loads(got.stdout))) == theirs.stdout


@pytest.mark.parametrize(
    "command", [["list"], ["describe", "odd-1"], ["status"], ["proxy-status"], ["version"]]
)
def test_every_command_with_yaml_takes_kyaml(kubectl: Run, command: list[str]) -> None:
    from kubectl_war.kyaml import to_kyaml
    from kubectl_war.render import as_printed

    args = [] if command == ["version"] else ["-n", NS, "--proxy-status", "none"]
    if command == ["proxy-status"]:
        args = ["-n", NS, "--proxy-status", "file:/dev/null"]
    as_json = kubectl("war", *command, *args, "-o", "json")
    as_kyaml = kubectl("war", *command, *args, "-o", "kyaml")
    assert as_json.returncode == as_kyaml.returncode, as_kyaml.stderr
    assert as_json.stderr == as_kyaml.stderr
    document = json.loads(as_json.stdout)
    if command == ["list"]:
        # As kubectl prints a List: no resourceVersion, no managed fields.
        document["metadata"]["resourceVersion"] = ""
        document["items"] = [as_printed(item) for item in document["items"]]
    assert as_kyaml.stdout == to_kyaml(document)


# ---- -L -------------------------------------------------------------------------------------


def _label_part(out: str, first_header: str) -> list[str]:
    """Each line of a table from the column headed `first_header` on."""
    lines = out.splitlines()
    at = lines[0].index("   " + first_header) + 3
    return [line[at:] for line in lines]


@pytest.mark.parametrize(
    ("value", "first"),
    [
        ("app", "APP"),
        ("app,tier", "APP"),
        ("app, tier", "APP"),
        ('"app",tier', "APP"),
        ('"a""b",app', 'A"B'),
        ('"app,tier",example.com/team', "APP,TIER"),
        ("example.com/team,app", "TEAM"),
    ],
)
def test_label_columns_read_their_keys_as_kubectl(kubectl: Run, value: str, first: str) -> None:
    theirs = kubectl("get", "war", "-n", NS, "-L", value)
    ours = kubectl("war", "list", "-n", NS, "-L", value)
    assert theirs.returncode == ours.returncode == 0, (theirs.stderr, ours.stderr)
    assert _label_part(ours.stdout, first) == _label_part(theirs.stdout, first)


# ---- the README says what these tests show --------------------------------------------------


def test_the_readmes_exit_codes_are_the_ones_the_plugin_uses() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Exit codes") :]
    section = section[: section.index("\n## ", 1)]
    codes = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    assert codes[1:] == ["0", "1", "130"]  # after the header row
    assert "usage errors too" in section and "1.37.1" in section
    assert "kubectl dies with a Go stack dump and exit 255" in section
