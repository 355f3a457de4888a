"""`kubectl war <TAB>`: real kubectl's `__complete` requests, answered by kubectl_complete-war
against the fake API server; and the completion logic itself, without a cluster."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from kubectl_war import cli, complete
from kubectl_war.cli.group import war
from tests import factories as f
from tests import inproc
from tests.fakekube import FakeKube

WAR_API = "runtime.onboarding.tetrate.io/v1alpha1"
WG_API = "networking.istio.io/v1beta1"

BOOKINFO_WARS = [
    "ratings-aws-aws-123456789012-us-east-2b-ec2-i-0abc1234567890def",
    "ratings-aws-aws-123456789012-us-east-2c-ec2-i-0fed0987654321cba",
    "reviews-jwt-corp--vm007-datacenter1",
]
PAYMENTS_WARS = ["billing-aws-aws-210987654321-eu-west-1a-ecs-payments-0f1e2d3c"]

Complete = Callable[..., str]


def _seed(fake: FakeKube) -> None:
    for ns in ("bookinfo", "default", "payments"):
        fake.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for ns, name in (("bookinfo", "ratings"), ("bookinfo", "reviews"), ("payments", "billing")):
        fake.add(
            {
                "apiVersion": WG_API,
                "kind": "WorkloadGroup",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"template": {"serviceAccount": name}},
            }
        )
    for ns, names in (("bookinfo", BOOKINFO_WARS), ("payments", PAYMENTS_WARS)):
        for name in names:
            fake.add(
                {
                    "apiVersion": WAR_API,
                    "kind": "WorkloadAutoRegistration",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {},
                }
            )


@pytest.fixture
def cluster(fake_kube: FakeKube) -> FakeKube:
    _seed(fake_kube)
    return fake_kube


@pytest.fixture
def kubectl_complete(
    cluster: FakeKube,
    kubectl_bin: str,
    make_kube_env: Callable[[str], dict[str, str]],
    make_kubeconfig: Callable[..., str],
) -> Complete:
    """``kubectl_complete("describe", "-n", "bookinfo", "")``: stdout of real
    ``kubectl __complete war ...``; the kubeconfig's context ("fake") selects bookinfo."""
    default_env = make_kube_env(make_kubeconfig(cluster, namespace="bookinfo"))

    def run(*words: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [kubectl_bin, "__complete", "war", *words],
            env=env or default_env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


@pytest.fixture
def complete_here(
    cluster: FakeKube,
    make_kube_env: Callable[[str], dict[str, str]],
    make_kubeconfig: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> Complete:
    """As ``kubectl_complete``, for candidates from the cluster: what kubectl_complete-war
    answers for the words kubectl passes on, run in this process (tests/inproc.py) with
    the lookup's 1s budget (complete.BUDGET, also its request timeout) out of the way. The
    budget keeps a shell responsive; a loaded machine may take longer than that to import
    the client and ask, and then rightly offers nothing: what is offered is what these
    tests check, how soon is for make bench."""
    monkeypatch.setattr(complete, "BUDGET", 60.0)
    monkeypatch.setattr(complete.KubeCluster.__init__, "__defaults__", (60.0,))
    default_env = make_kube_env(make_kubeconfig(cluster, namespace="bookinfo"))

    def run(*words: str, env: dict[str, str] | None = None) -> str:
        done = inproc.run(words, env or default_env, main=cli.complete_main)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def _lines(*values: str, directive: int = 4) -> str:
    return "".join(f"{v}\n" for v in values) + f":{directive}\n"


# ---- through real kubectl -------------------------------------------------------------


def test_subcommands_are_every_registered_command_with_its_purpose(
    kubectl_complete: Complete,
) -> None:
    out = kubectl_complete("")
    ctx = click.Context(war)
    expected = [
        f"{name}\t{cmd.get_short_help_str(limit=200)}"
        for name in war.list_commands(ctx)
        if (cmd := war.get_command(ctx, name)) is not None and not cmd.hidden
    ]
    assert out == _lines(*expected)
    names = [line.split("\t")[0] for line in out.splitlines()]
    assert {"list", "describe", "delete", "decode", "version", "completion"} <= set(names)


def test_subcommands_by_prefix(kubectl_complete: Complete) -> None:
    assert kubectl_complete("de") == _lines(
        "describe\tShow one or more onboarded workloads in detail.",
        "delete\tDelete onboarded workloads' WARs so their agents onboard again.",
        "decode\tDecode WAR names into their WorkloadGroup and workload identity, offline.",
    )
    assert kubectl_complete("vers") == _lines(
        "version\tPrint the plugin, Python and kubernetes client versions."
    )
    assert kubectl_complete("nosuch") == _lines()


def test_flags_of_the_command_on_the_line(kubectl_complete: Complete) -> None:
    assert kubectl_complete("list", "--sort") == _lines("--sort-by\tSort the rows.")
    assert kubectl_complete("delete", "--all") == _lines(
        "--all-namespaces\tLook in every namespace (ignores -n).",
        "--all\tEvery WAR in the namespace (or with -A, all).",
    )
    # A flag already given is not offered again; a repeatable one is.
    assert kubectl_complete("describe", "-A", "--all-n") == _lines()
    assert kubectl_complete("list", "--group", "ratings", "--grou") == _lines(
        "--group\tOnly WARs of this WorkloadGroup; repeat for several."
    )


def test_output_formats_come_from_each_commands_choices(kubectl_complete: Complete) -> None:
    assert kubectl_complete("list", "-o", "") == _lines(
        "table",
        "wide",
        "json",
        "yaml",
        "kyaml",
        "name",
        "jsonpath=",
        "jsonpath-file=",
        "jsonpath-as-json=",
        "custom-columns=",
        "custom-columns-file=",
    )
    assert kubectl_complete("describe", "--output", "") == _lines(
        "text", "json", "yaml", "kyaml", *(f"{t}=" for t in TEMPLATES)
    )


TEMPLATES = (
    "jsonpath",
    "jsonpath-file",
    "jsonpath-as-json",
    "custom-columns",
    "custom-columns-file",
)


def test_template_formats_complete_without_a_space(kubectl_complete: Complete) -> None:
    # Only `FORMAT=` candidates: the shell must not add a space before the template.
    assert kubectl_complete("list", "-o", "json") == _lines(
        "json", "jsonpath=", "jsonpath-file=", "jsonpath-as-json="
    )
    assert kubectl_complete("list", "-o", "jsonpath") == _lines(
        "jsonpath=", "jsonpath-file=", "jsonpath-as-json=", directive=6
    )
    assert kubectl_complete("status", "-o", "cus") == _lines(
        "custom-columns=", "custom-columns-file=", directive=6
    )
    # After `=`: a template (nothing to offer) or, for the -file forms, a file name.
    assert kubectl_complete("list", "-o", "jsonpath={.items") == _lines()
    assert kubectl_complete("list", "-o", "custom-columns-file=co") == _lines(directive=0)
    assert kubectl_complete("version", "-o", "") == _lines("text", "json", "yaml", "kyaml")
    assert kubectl_complete("version", "--output=j") == _lines("json")
    assert kubectl_complete("delete", "--dry-run", "") == _lines("none", "client", "server")


def test_war_names_per_namespace(complete_here: Complete) -> None:
    # No -n: the context's namespace (bookinfo), as kubectl would.
    assert complete_here("describe", "") == _lines(*BOOKINFO_WARS)
    assert complete_here("describe", "-n", "payments", "") == _lines(*PAYMENTS_WARS)
    assert complete_here("delete", "--namespace=payments", "") == _lines(*PAYMENTS_WARS)
    assert complete_here("delete", "-n", "default", "") == _lines()
    assert complete_here("decode", "ratings-") == _lines(*BOOKINFO_WARS[:2])
    # decode works offline, so has no -n of its own; the flag still picks the namespace.
    assert complete_here("decode", "-n", "payments", "") == _lines(*PAYMENTS_WARS)
    assert complete_here("delete", "-A", "") == _lines(*PAYMENTS_WARS, *BOOKINFO_WARS)


def test_war_names_already_on_the_line_are_not_offered_again(complete_here: Complete) -> None:
    assert complete_here("delete", BOOKINFO_WARS[1], "") == _lines(
        BOOKINFO_WARS[0], BOOKINFO_WARS[2]
    )


def test_workloadgroup_names_for_group_flags(complete_here: Complete) -> None:
    assert complete_here("list", "--group", "") == _lines("ratings", "reviews")
    assert complete_here("list", "-n", "payments", "--group", "") == _lines("billing")
    assert complete_here("describe", "-A", "--group", "r") == _lines("ratings", "reviews")
    assert complete_here("delete", "--group=rev") == _lines("reviews")


def test_workloadgroup_names_for_rollout_and_rollout_status(complete_here: Complete) -> None:
    subs = (
        "abort\tAbort a WorkloadGroup's rollout, from any terminal.",
        "history\tList a WorkloadGroup's last 10 rollouts.",
        "pause\tPause a WorkloadGroup's running rollout, from any terminal.",
        "resume\tResume a paused rollout of a WorkloadGroup, from any terminal.",
        "status\tShow how far WorkloadGroups' rollouts have come.",
    )
    assert complete_here("rollout", "") == _lines(*subs, "ratings", "reviews")
    assert complete_here("rollout", "-n", "payments", "") == _lines(*subs, "billing")
    assert complete_here("rollout", "ratings", "") == _lines("reviews")
    assert complete_here("rollout", "--dry-run", "rev") == _lines("reviews")
    assert complete_here("rollout", "status", "") == _lines("ratings", "reviews")
    assert complete_here("rollout", "status", "-A", "") == _lines("billing", "ratings", "reviews")
    assert complete_here("rollout", "status", "--context", "fake", "-n", "payments", "") == (
        _lines("billing")
    )


def test_can_onboard_completes_a_workloadgroup_and_like_a_war(complete_here: Complete) -> None:
    assert complete_here("can-onboard", "rev") == _lines("reviews")
    assert complete_here("can-onboard", "-n", "payments", "") == _lines("billing")
    assert complete_here("can-onboard", "ratings", "--like", "") == _lines(*BOOKINFO_WARS)


def test_namespaces(complete_here: Complete) -> None:
    assert complete_here("list", "-n", "") == _lines("bookinfo", "default", "payments")
    assert complete_here("list", "--istio-namespace", "d") == _lines("default")
    assert complete_here("describe", "--namespace", "pay") == _lines("payments")
    assert complete_here("list", "--namespace=b") == _lines("bookinfo")


def test_contexts_from_every_kubeconfig_and_the_chosen_context_is_used(
    cluster: FakeKube,
    complete_here: Complete,
    make_kubeconfig: Callable[..., str],
    make_kube_env: Callable[[str], dict[str, str]],
) -> None:
    first = make_kubeconfig(cluster, namespace="bookinfo", name="first")
    second = make_kubeconfig(cluster, context="staging", namespace="payments", name="second")
    # Only the first file names a current context (kubectl: the first one set wins).
    text = Path(second).read_text()
    Path(second).write_text(text.replace('current-context: "staging"\n', ""))
    env = make_kube_env(f"{first}:{second}")
    assert complete_here("list", "--context", "", env=env) == _lines("fake", "staging")
    assert complete_here("list", "--context", "st", env=env) == _lines("staging")
    # The current context (first file's) selects bookinfo; --context staging, payments.
    assert complete_here("describe", "", env=env) == _lines(*BOOKINFO_WARS)
    assert complete_here("describe", "--context", "staging", "", env=env) == _lines(*PAYMENTS_WARS)
    assert complete_here("list", "--context=staging", "--group", "", env=env) == _lines("billing")


def test_kubeconfig_flag_on_the_line_is_used(
    cluster: FakeKube,
    complete_here: Complete,
    make_kubeconfig: Callable[..., str],
    make_kube_env: Callable[[str], dict[str, str]],
    tmp_path: Path,
) -> None:
    good = make_kubeconfig(cluster, context="good", namespace="payments", name="good")
    env = make_kube_env(str(tmp_path / "absent"))
    assert complete_here("describe", "", env=env) == _lines()
    assert complete_here("describe", "--kubeconfig", good, "", env=env) == _lines(*PAYMENTS_WARS)
    assert complete_here("list", "--kubeconfig", good, "--context", "", env=env) == _lines("good")
    # Its value is a path: the shell completes files.
    assert complete_here("list", "--kubeconfig", "", env=env) == _lines(directive=0)


def test_proxy_status_sources(kubectl_complete: Complete) -> None:
    assert kubectl_complete("list", "--proxy-status", "") == _lines(
        *(f"{value}\t{desc}" for value, desc in complete.PROXY_STATUS_SOURCES)
    )
    # `file:` is followed by a path, so no space after it; then the shell completes files.
    assert kubectl_complete("list", "--proxy-status", "fi") == _lines(
        "file:\tread saved istioctl proxy-status output from a file", directive=6
    )
    assert kubectl_complete("list", "--proxy-status", "file:/tm") == _lines(directive=0)


def _unreachable_kubeconfig(path: Path, port: int) -> str:
    return f.kubeconfig_file(
        path,
        f"http://127.0.0.1:{port}",
        context="away",
        cluster="away",
        user="away",
        namespace="bookinfo",
    )


@pytest.fixture
def silent_socket() -> Iterator[socket.socket]:
    """A listening socket whose connections are never accepted (the kernel completes
    them into its backlog), so never answered."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield sock
    finally:
        sock.close()


@pytest.fixture
def silent_server(silent_socket: socket.socket) -> int:
    """A port that accepts connections and never answers."""
    return int(silent_socket.getsockname()[1])


def _connected_to(sock: socket.socket) -> bool:
    """Whether anyone connected to `silent_socket` (their connection waits in its backlog)."""
    sock.setblocking(False)
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


@pytest.mark.parametrize("server", ["silent_server", "closed_port"])
@pytest.mark.parametrize(
    "words",
    [("describe", ""), ("list", "-n", ""), ("list", "--group", ""), ("rollout", "status", "")],
    ids=["wars", "namespaces", "workloadgroups", "rollout-status"],
)
def test_unreachable_cluster_answers_within_the_budget_with_no_candidates(
    request: pytest.FixtureRequest,
    server: str,
    words: tuple[str, ...],
    kubectl_complete: Complete,
    make_kube_env: Callable[[str], dict[str, str]],
    tmp_path: Path,
) -> None:
    # How soon it answers is the budget's (test_a_slow_lookup_is_abandoned_at_the_budget)
    # and make bench's to say; a hang would end in kubectl_complete's own time limit.
    port = request.getfixturevalue(server)
    env = make_kube_env(_unreachable_kubeconfig(tmp_path / "away", port))
    assert kubectl_complete(*words, env=env) == _lines()


def test_offline_completions_do_not_wait_for_an_unreachable_cluster(
    silent_socket: socket.socket,
    silent_server: int,
    kubectl_complete: Complete,
    make_kube_env: Callable[[str], dict[str, str]],
    tmp_path: Path,
) -> None:
    env = make_kube_env(_unreachable_kubeconfig(tmp_path / "away", silent_server))
    assert kubectl_complete("list", "-o", "j", env=env) == _lines(
        "json", "jsonpath=", "jsonpath-file=", "jsonpath-as-json="
    )
    assert kubectl_complete("list", "--context", "", env=env) == _lines("away")
    assert not _connected_to(silent_socket)  # the cluster was not asked at all
    with socket.create_connection(("127.0.0.1", silent_server)):
        assert _connected_to(silent_socket)  # as a connection would show


# ---- the executables, directly ----------------------------------------------------------


def _run(exe: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [exe, *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cobra_style_requests_to_either_executable(
    cluster: FakeKube,
    complete_here: Complete,  # the lookup budget out of the way for the in-process runs
    make_kubeconfig: Callable[..., str],
    make_kube_env: Callable[[str], dict[str, str]],
) -> None:
    env = make_kube_env(make_kubeconfig(cluster, namespace="payments"))
    scripts = Path(sys.executable).parent
    for exe in ("kubectl_complete-war", "kubectl-war"):
        path = str(scripts / exe)
        assert _run(path, "__complete", "list", "--context", "", env=env) == _lines("fake")
        assert _run(path, "__completeNoDesc", "vers", env=env) == _lines("version")
    # kubectl itself passes the words without `__complete`.
    assert _run(str(scripts / "kubectl_complete-war"), "list", "-o", "n", env=env) == _lines("name")
    # Candidates from the cluster, in this process (see complete_here).
    for main in (cli.complete_main, cli.main):
        done = inproc.run(["__complete", "describe", ""], env, main=main)
        assert (done.returncode, done.stdout) == (0, _lines(*PAYMENTS_WARS))


def test_completion_without_a_cluster_lookup_never_imports_the_kubernetes_client() -> None:
    code = (
        "import sys\n"
        "from kubectl_war.cli.group import war\n"
        "from kubectl_war.complete import answer\n"
        "for words in (['li'], ['list', '-'], ['list', '-o', ''], ['list', '--context', '']):\n"
        "    answer(war, words)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'urllib3')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert done.stdout == "[]\n"


def test_completion_scripts_for_shells_calling_kubectl_war_directly(
    run_kubectl: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    done = run_kubectl("war", "completion", "zsh")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("#compdef kubectl-war\n")
    assert "_KUBECTL_WAR_COMPLETE=zsh_complete kubectl-war" in done.stdout
    done = run_kubectl("war", "completion", "fish")
    assert "complete --no-files --command kubectl-war" in done.stdout
    done = run_kubectl("war", "completion", "tcsh")
    assert done.returncode == 1


def test_shell_script_requests_are_answered_by_the_same_logic(
    cluster: FakeKube,
    complete_here: Complete,  # the lookup budget out of the way for the in-process runs
    make_kubeconfig: Callable[..., str],
    make_kube_env: Callable[[str], dict[str, str]],
) -> None:
    env = make_kube_env(make_kubeconfig(cluster, namespace="payments"))
    exe = str(Path(sys.executable).parent / "kubectl-war")
    bash = {**env, "_KUBECTL_WAR_COMPLETE": "bash_complete"}
    # Candidates from the cluster, in this process (see complete_here).
    inside = {**bash, "COMP_WORDS": "kubectl-war describe ", "COMP_CWORD": "2"}
    out = inproc.run([], inside).stdout
    assert out == "".join(f"plain,{name}\n" for name in PAYMENTS_WARS)
    out = _run(exe, env={**bash, "COMP_WORDS": "kubectl-war ver", "COMP_CWORD": "1"})
    assert out == "plain,version\n"
    out = _run(exe, env={**bash, "COMP_WORDS": "kubectl-war list --kubeconfig ", "COMP_CWORD": "3"})
    assert out == "file,\n"
    zsh = {**env, "_KUBECTL_WAR_COMPLETE": "zsh_complete"}
    out = _run(exe, env={**zsh, "COMP_WORDS": "kubectl-war ver", "COMP_CWORD": "1"})
    assert out == "plain\nversion\nPrint the plugin, Python and kubernetes client versions.\n"


# ---- the logic, with a stand-in cluster --------------------------------------------------


class _Names:
    """A cluster that knows names per namespace and records what it was asked."""

    def __init__(self, line: complete.Line) -> None:
        self.line = line

    def _ns(self) -> str:
        return "*" if self.line.flag("all_namespaces") else self.line.flag("namespace") or "ctx"

    def namespaces(self) -> list[str]:
        return ["b", "a"]

    def wars(self) -> list[str]:
        return [f"war-{self._ns()}-2", f"war-{self._ns()}-1"]

    def workloadgroups(self) -> list[str]:
        return [f"wg-{self._ns()}", f"wg-{self._ns()}"]


def _answer(*words: str, root: click.Command = war) -> tuple[list[str], int]:
    *before, last = words
    result = complete.complete(root, before, last, cluster=_Names)
    return [v for v, _ in result.candidates], result.directive


def _rollout_tree() -> click.Group:
    """The shape `kubectl war rollout GROUP` / `rollout status GROUP` takes."""

    @click.group("war")
    def root() -> None:
        pass

    @root.group("rollout", invoke_without_command=True)
    @click.option("-n", "--namespace")
    def rollout(namespace: str | None) -> None:
        pass

    @rollout.command("status")
    @click.option("-n", "--namespace")
    @click.argument("target")
    def status(namespace: str | None, target: str) -> None:
        pass

    @root.command("proxy-status")
    @click.option("-n", "--namespace")
    @click.argument("names", nargs=-1)
    def proxy_status(namespace: str | None, names: tuple[str, ...]) -> None:
        pass

    return root


def test_rollout_and_rollout_status_complete_workloadgroups() -> None:
    tree = _rollout_tree()
    assert _answer("rollout", "", root=tree) == (["status", "wg-ctx"], 4)
    assert _answer("rollout", "-n", "x", "w", root=tree) == (["wg-x"], 4)
    assert _answer("rollout", "status", "-n", "y", "", root=tree) == (["wg-y"], 4)
    assert _answer("proxy-status", "-n", "y", "war-y-1", "", root=tree) == (["war-y-2"], 4)


def test_short_flags_clustered_and_with_values() -> None:
    assert _answer("describe", "-An", "x", "") == (["war-*-1", "war-*-2"], 4)
    assert _answer("describe", "-nfoo", "") == (["war-foo-1", "war-foo-2"], 4)
    assert _answer("describe", "-n=foo", "") == (["war-foo-1", "war-foo-2"], 4)
    assert _answer("list", "-n=") == (["a", "b"], 4)
    assert _answer("list", "-wo", "") == (
        ["table", "wide", "json", "yaml", "kyaml", "name", *(f"{t}=" for t in TEMPLATES)],
        4,
    )


def test_after_double_dash_everything_is_an_argument() -> None:
    assert _answer("describe", "--", "-") == ([], 4)
    assert _answer("describe", "--", "") == (["war-ctx-1", "war-ctx-2"], 4)


def test_flag_names_long_then_short_and_help_last() -> None:
    names, directive = _answer("version", "-")
    assert (names, directive) == (["--output", "-o", "--help", "-h"], 4)
    assert _answer("version", "-o", "json", "-") == (["--help", "-h"], 4)
    assert _answer("-") == (["--help", "-h"], 4)


def test_commands_without_arguments_offer_nothing_and_no_files() -> None:
    assert _answer("list", "") == ([], 4)
    assert _answer("version", "x") == ([], 4)


def test_context_lists_complete_the_last_name(tmp_path: Path, monkeypatch: Any) -> None:
    config = tmp_path / "config"
    config.write_text(
        "contexts:\n- name: east\n  context: {}\n- name: west\n  context: {}\n"
        "- name: wide\n  context: {}\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(config))

    @click.command("fan")
    @click.option("--contexts")
    def fan(contexts: str | None) -> None:
        pass

    assert _answer("--contexts", "", root=fan) == (["east", "west", "wide"], 4)
    assert _answer("--contexts", "east,w", root=fan) == (["east,west", "east,wide"], 4)
    assert _answer("--contexts=west,", root=fan) == (["west,east", "west,wide"], 4)


def test_unreadable_kubeconfigs_add_no_contexts(tmp_path: Path, monkeypatch: Any) -> None:
    good = tmp_path / "good"
    good.write_text("contexts:\n- name: one\n")
    bad = tmp_path / "bad"
    bad.write_text(": : [\n")
    monkeypatch.setenv("KUBECONFIG", f"{bad}:{tmp_path / 'absent'}:{good}")
    assert _answer("list", "--context", "") == (["one"], 4)


def test_a_failing_lookup_prints_only_the_directive_and_says_why_with_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(line: complete.Line) -> complete.Cluster:
        raise RuntimeError("no route")

    result = complete.complete(war, ["describe"], "", cluster=broken)
    assert result.lines() == [":4"]
    assert capsys.readouterr().err == ""
    complete.complete(war, ["describe", "--debug"], "", cluster=broken)
    assert (
        capsys.readouterr().err == "completion: no wars from the cluster: RuntimeError: no route\n"
    )


def test_a_slow_lookup_is_abandoned_at_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(complete, "BUDGET", 0.2)

    answer = threading.Event()
    answered: list[str] = []

    class Slow(_Names):
        def wars(self) -> list[str]:
            answer.wait(60)  # until the test is done with it
            answered.append("late")
            return ["late"]

    try:
        result = complete.complete(war, ["describe"], "", cluster=Slow)
        # Given up on while the lookup still waits: no clock needed to tell.
        assert (result.candidates, answered) == ([], [])
    finally:
        answer.set()


def test_descriptions_can_be_left_out_and_never_span_lines() -> None:
    result = complete.Result([("a", "first\nsecond  line"), ("b", "")], 4)
    assert result.lines() == ["a\tfirst second line", "b", ":4"]
    assert result.lines(descriptions=False) == ["a", "b", ":4"]


def test_global_flags_left_out_of_help_are_still_completed(kubectl_complete: Complete) -> None:
    # `list --help` leaves the connection flags to `kubectl war options`; completion
    # still offers every one of them, and the command's own flags.
    from kubectl_war.cli.globalflags import global_options

    offered = {line.split("\t")[0] for line in kubectl_complete("list", "--").splitlines()}
    for option in global_options():
        longs = [o for o in option.opts if o.startswith("--")]
        assert longs[0] in offered, longs[0]
    assert {"--all-namespaces", "--label-columns", "--sync"} <= offered
