"""Start-up cost: what each command imports, checked in fresh interpreters.

`--help` and `decode` never import the kubernetes client; commands that reach a
cluster import only its working submodules (`kubectl_war.kube.lazy`), and the
client is still whole for any code that asks for the rest of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.factories import EC2
from tests.fakekube import FakeKube

# Runs the CLI in-process, then reports which client modules the run imported.
_REPORT = textwrap.dedent(
    """
    import json, sys
    from kubectl_war.cli import main
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
    from kubectl_war.kube import lazy as kubeclient
    mods = sorted(m for m in sys.modules if m == "kubernetes" or m.startswith("kubernetes."))
    sys.stderr.write("\\nREPORT " + json.dumps(
        {"modules": mods, "mode": kubeclient.mode, "unfinished": kubeclient.unfinished()}
    ) + "\\n")
    """
)


def _imports(*args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _REPORT, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    line = [x for x in proc.stderr.splitlines() if x.startswith("REPORT ")]
    assert line, proc.stderr
    report: dict[str, object] = json.loads(line[-1][len("REPORT ") :])
    report["stdout"] = proc.stdout
    return report


def test_help_does_not_import_the_kubernetes_client() -> None:
    report = _imports("--help")
    assert "Usage:" in str(report["stdout"])
    assert report["modules"] == []


def test_list_help_does_not_import_the_kubernetes_client() -> None:
    report = _imports("list", "--help")
    assert report["modules"] == []


def test_decode_does_not_import_the_kubernetes_client() -> None:
    report = _imports("decode", EC2)
    assert "i-1234567890abcdef0" in str(report["stdout"])
    assert report["modules"] == []


def test_list_imports_only_the_clients_working_submodules(
    fake_kube: FakeKube, kube_env: dict[str, str]
) -> None:
    report = _imports("list", "-A", env=kube_env)
    assert report["mode"] == "light"
    assert report["modules"] == [
        "kubernetes",
        "kubernetes.client",
        "kubernetes.client.api_client",
        "kubernetes.client.configuration",
        "kubernetes.client.exceptions",
        "kubernetes.client.models",
        "kubernetes.client.rest",
        "kubernetes.config",
        "kubernetes.config.config_exception",
        "kubernetes.config.dateutil",
        "kubernetes.config.exec_provider",
        "kubernetes.config.kube_config",
    ]
    assert report["unfinished"] == [
        "kubernetes",
        "kubernetes.client",
        "kubernetes.config",
        "kubernetes.client.models",
    ]


_WHOLE = textwrap.dedent(
    """
    import sys
    from kubectl_war.kube import lazy as kubeclient
    kubeclient.load()
    assert kubeclient.mode == "light", kubeclient.mode
    from kubernetes.client.api_client import ApiClient
    from kubernetes.client.exceptions import ApiException
    import kubernetes
    # The usual ways in finish the packages, with the very same classes.
    assert kubernetes.client.ApiClient is ApiClient
    assert kubernetes.client.rest.ApiException is ApiException
    from kubernetes.client import CoreV1Api, V1ObjectMeta
    from kubernetes import watch
    assert callable(kubernetes.config.load_kube_config)
    assert watch.Watch is not None and CoreV1Api is not None
    # Model deserialisation finds the models package, finished on demand.
    meta = ApiClient().deserialize(
        type("R", (), {"data": '{"name": "x", "namespace": "y"}'})(), "V1ObjectMeta"
    )
    assert isinstance(meta, V1ObjectMeta) and meta.name == "x"
    assert kubeclient.unfinished() == [], kubeclient.unfinished()
    assert kubernetes.__version__
    print("ok")
    """
)


def test_light_import_leaves_the_whole_client_reachable() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _WHOLE], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout == "ok\n", proc.stderr


_FALLBACK = textwrap.dedent(
    """
    from kubectl_war.kube import lazy as kubeclient
    # A client laid out differently: a submodule that does not exist.
    kubeclient._SUBMODULES = (*kubeclient._SUBMODULES, "kubernetes.client.no_such_module")
    kubeclient.load()
    import kubernetes
    from kubernetes.client.api_client import ApiClient
    assert kubeclient.mode == "full", kubeclient.mode
    assert kubernetes.client.CoreV1Api is not None
    assert kubernetes.client.ApiClient is ApiClient
    assert kubeclient.unfinished() == []
    print("ok")
    """
)


def test_an_unexpected_client_layout_falls_back_to_the_ordinary_import() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _FALLBACK], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout == "ok\n", proc.stderr


_ALREADY = textwrap.dedent(
    """
    import kubernetes
    from kubectl_war.kube import lazy as kubeclient
    kubeclient.load()
    assert kubeclient.mode == "full", kubeclient.mode
    print("ok")
    """
)


def test_a_client_already_imported_is_used_as_it_is() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _ALREADY], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout == "ok\n", proc.stderr


_DEFERRED = textwrap.dedent(
    """
    import sys
    from kubectl_war.kube import lazy as kubeclient
    kubeclient.load()
    assert kubeclient.mode == "light", kubeclient.mode
    # Imported by the client's submodules, needed only on rare paths: not imported yet.
    never = ("requests", "requests.utils", "requests_oauthlib", "oauthlib.oauth2",
             "dateutil.parser", "multiprocessing.pool", "importlib.metadata", "tempfile",
             "multiprocessing")
    assert [m for m in never if m in sys.modules] == [], [m for m in never if m in sys.modules]
    import kubernetes.client.rest as rest
    import kubernetes.client.api_client as api_client
    import kubernetes.config.kube_config as kube_config
    import os
    from kubernetes.client.configuration import Configuration
    # The pool size comes from the CPU count without importing multiprocessing.
    assert Configuration().connection_pool_maxsize == os.cpu_count() * 5
    assert "multiprocessing" not in sys.modules
    # Each stand-in name works, importing the real module when first used.
    fd, path = api_client.tempfile.mkstemp()
    os.close(fd)
    os.unlink(path)
    assert type(sys.modules["tempfile"]) is type(sys)
    assert rest.should_bypass_proxies("http://127.0.0.1:1", no_proxy="127.0.0.1") is True
    assert api_client.parse("2024-05-16T12:00:00Z").year == 2024
    import urllib3.http2
    assert urllib3.http2.version("urllib3").startswith("2.")
    pool = api_client.ThreadPool(1)
    assert pool.apply(lambda: 7) == 7
    pool.close()
    errors = kube_config.oauthlib.oauth2.rfc6749.errors
    assert issubclass(errors.InvalidClientIdError, Exception)
    import requests_oauthlib
    session = kube_config.OAuth2Session(client_id="x")
    assert isinstance(session, requests_oauthlib.OAuth2Session)
    # Later imports anywhere get the real modules.
    import requests.utils, dateutil.parser, multiprocessing.pool, oauthlib.oauth2
    assert type(sys.modules["requests.utils"]) is type(sys)
    assert kubeclient.deferred() == []
    # A proxy in the configuration goes through the real requests.utils.
    from kubernetes.client.configuration import Configuration
    cfg = Configuration(host="http://127.0.0.1:1")
    cfg.proxy = "http://127.0.0.1:2"
    cfg.no_proxy = "127.0.0.1"
    rest.RESTClientObject(cfg)
    print("ok")
    """
)


def test_rarely_used_client_dependencies_are_imported_on_first_use() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _DEFERRED], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout == "ok\n", proc.stderr


def test_list_does_not_import_the_clients_rarely_used_dependencies(
    fake_kube: FakeKube, kube_env: dict[str, str]
) -> None:
    code = _REPORT.replace(
        '"unfinished": kubeclient.unfinished()',
        '"unfinished": kubeclient.unfinished(), "deferred": kubeclient.deferred()',
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "list", "-A"],
        capture_output=True,
        text=True,
        env=kube_env,
        timeout=60,
        check=False,
    )
    line = [x for x in proc.stderr.splitlines() if x.startswith("REPORT ")]
    assert line, proc.stderr
    report = json.loads(line[-1][len("REPORT ") :])
    assert report["deferred"] == [
        "requests.utils",
        "requests_oauthlib",
        "oauthlib.oauth2",
        "multiprocessing.pool",
        "dateutil.parser",
        "importlib.metadata",
        "tempfile",
        "multiprocessing",
    ]


_GOOGLE = textwrap.dedent(
    """
    import sys
    from kubectl_war.kube import lazy as kubeclient
    kubeclient.load()
    assert kubeclient.mode == "light", kubeclient.mode
    import kubernetes.config.kube_config as kube_config
    assert kube_config.google_auth_available
    # google.auth's transport imported the real requests while the stand-ins stood in.
    import requests, requests.utils
    assert type(sys.modules["requests.utils"]) is type(sys)
    assert type(requests.utils) is type(sys)
    assert requests.utils.default_headers()["User-Agent"].startswith("python-requests")
    import kubernetes.client.rest as rest
    assert rest.should_bypass_proxies("http://127.0.0.1:1", no_proxy="127.0.0.1") is True
    print("ok")
    """
)


def test_a_client_extra_that_imports_requests_while_loading_gets_the_real_one(
    tmp_path: Path,
) -> None:
    # kube_config imports google.auth when it is installed, and its transport module
    # imports requests: all of it while the stand-ins are in place.
    transport = tmp_path / "google" / "auth" / "transport"
    transport.mkdir(parents=True)
    for pkg in (tmp_path / "google", tmp_path / "google" / "auth", transport):
        (pkg / "__init__.py").write_text("")
    (transport / "requests.py").write_text(
        "import requests\n"
        "import requests.adapters\n"
        "from requests.utils import default_headers\n"
        "HEADERS = default_headers()\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", _GOOGLE],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.stdout == "ok\n", proc.stderr
