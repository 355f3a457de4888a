"""Credentials a kubeconfig user names, got as kubectl gets them, each failure one line.

The kubernetes client's kubeconfig loader logs a failing exec plugin (`ERROR:root:...`)
and carries on without credentials, refreshes OIDC tokens without verifying the identity
provider's certificate, and ignores `proxy-url`. Here the loader is the client's with
those steps done kubectl's way (client-go's `plugin/pkg/client/auth/exec` and `oidc`):

- exec plugins: run with the user's stderr (and, when interactive, stdin), their output
  checked, and any failure `getting credentials: ...`;
- OIDC: an expired id-token is refreshed through `requests` (discovery document, then
  the token endpoint) and written back to the kubeconfig file that holds it;
- client certificate, key and token files that cannot be read are errors naming them.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote_plus

from kubectl_war.kube.errors import KubeError, one_line

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kubernetes.client import Configuration
    from kubernetes.config.kube_config import ConfigNode, KubeConfigMerger
    from kubernetes.config.kube_config import KubeConfigLoader as _ClientLoader
else:
    # The client's loader is mixed in when the client loads (`loader`).
    _ClientLoader = object

# client-go refreshes an id-token this long before it expires.
OIDC_EXPIRY_DELTA = 10.0
# How long the identity provider may take to answer each request.
OIDC_TIMEOUT = 30.0


def credentials_error(text: str) -> KubeError:
    """kubectl's words for credentials that could not be had."""
    return KubeError(f"getting credentials: {text}")


# ---- files ---------------------------------------------------------------------------


def check_files(
    user: Mapping[str, Any], user_name: str, base: str, *, token_file: bool = True
) -> None:
    """kubectl's checks of the files a user entry names, before anything is sent.

    Args:
        token_file: check `tokenFile` too; kubectl reads it only when it sends
            credentials (to an https:// server), while it checks the certificate
            files of every kubeconfig it uses.

    Raises:
        KubeError: `client-certificate` or `client-key` cannot be opened (kubectl's
            "Error in configuration"), or `tokenFile` cannot be read.
    """
    problems = []
    for key, word in (("client-certificate", "client-cert"), ("client-key", "client-key")):
        path = user.get(key)
        if not isinstance(path, str) or not path or user.get(f"{key}-data"):
            continue
        try:
            with open(_beside(base, path), "rb"):
                pass
        except OSError as exc:
            problems.append(f"unable to read {word} {path} for {user_name} due to {_go(exc, path)}")
    if problems:
        raise KubeError("Error in configuration: " + "; ".join(problems))
    path = user.get("tokenFile")
    if token_file and isinstance(path, str) and path and not user.get("token"):
        try:
            with open(_beside(base, path), "rb"):
                pass
        except OSError as exc:
            raise KubeError(_go(exc, path)) from None


def _beside(base: str, path: str) -> str:
    """A kubeconfig path: relative ones are relative to the file that names them."""
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) or not base else os.path.join(base, path)


def _go(exc: OSError, path: str) -> str:
    """An OSError as Go's os.Open words it: `open PATH: no such file or directory`."""
    why = exc.strerror or str(exc)
    return f"open {path}: {why[:1].lower()}{why[1:]}"


# ---- exec plugins --------------------------------------------------------------------


def run_exec(
    spec: Mapping[str, Any], base: str, cluster: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Run an exec credential plugin as client-go does; answer its ExecCredential status.

    Args:
        spec: the user's `exec` entry (command, args, env, apiVersion, interactiveMode,
            provideClusterInfo, installHint).
        base: the directory of the kubeconfig file (a relative command is found there).
        cluster: the cluster entry, handed to the plugin with `provideClusterInfo`.

    Raises:
        KubeError: `getting credentials: ...` in client-go's words.
    """
    command = str(spec.get("command") or "")
    api_version = str(spec.get("apiVersion") or "")
    if not command or not api_version:
        missing = "command" if not command else "apiVersion"
        raise KubeError(f"{missing} must be specified to use exec authentication plugin")
    if os.sep in command and not os.path.isabs(command) and base:
        command = os.path.join(base, command)
    interactive = _interactive(str(spec.get("interactiveMode") or "IfAvailable"))
    info: dict[str, Any] = {
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": {"interactive": interactive},
    }
    if spec.get("provideClusterInfo") and cluster is not None:
        info["spec"]["cluster"] = _cluster_info(cluster, base)
    env = dict(os.environ)
    for item in spec.get("env") or []:
        if isinstance(item, Mapping) and item.get("name"):
            env[str(item["name"])] = str(item.get("value") or "")
    env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
    argv = [command, *[str(a) for a in spec.get("args") or []]]
    try:
        # The plugin's own messages (sign in here, session expired) are for the user:
        # its stderr is the user's, as with kubectl.
        done = subprocess.run(
            argv,
            env=env,
            stdin=None if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            check=False,
        )
    except FileNotFoundError:
        hint = spec.get("installHint")
        text = f"exec: executable {command} not found"
        raise credentials_error(text + (f": {one_line(hint)}" if hint else "")) from None
    except OSError as exc:
        raise credentials_error(f"exec: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise credentials_error(
            f"exec: executable {command} failed with exit code {done.returncode}"
        )
    return _exec_status(done.stdout, api_version)


def _interactive(mode: str) -> bool:
    stdin_tty = sys.stdin is not None and sys.stdin.isatty()
    if mode == "Never":
        return False
    if mode == "IfAvailable":
        return stdin_tty
    if mode == "Always":
        if not stdin_tty:
            raise credentials_error(
                "exec plugin cannot support interactive mode: standard input is not a terminal"
            )
        return True
    raise credentials_error(
        f'exec plugin cannot support interactive mode: unknown interactiveMode: "{mode}"'
    )


def _cluster_info(cluster: Mapping[str, Any], base: str) -> dict[str, Any]:
    """The `spec.cluster` client-go hands a plugin: the cluster entry, CA as data."""
    out: dict[str, Any] = {"server": cluster.get("server")}
    ca_data = cluster.get("certificate-authority-data")
    ca_file = cluster.get("certificate-authority")
    if not ca_data and isinstance(ca_file, str) and ca_file:
        with contextlib.suppress(OSError), open(_beside(base, ca_file), "rb") as f:
            ca_data = base64.b64encode(f.read()).decode()
    for key, value in (
        ("tls-server-name", cluster.get("tls-server-name")),
        ("insecure-skip-tls-verify", cluster.get("insecure-skip-tls-verify")),
        ("certificate-authority-data", ca_data),
        ("proxy-url", cluster.get("proxy-url")),
    ):
        if value:
            out[key] = value
    for ext in cluster.get("extensions") or []:
        if isinstance(ext, Mapping) and ext.get("name") == "client.authentication.k8s.io/exec":
            out["config"] = ext.get("extension")
    return out


def _exec_status(stdout: bytes, api_version: str) -> dict[str, Any]:
    try:
        cred = json.loads(stdout)
    except ValueError as exc:
        raise credentials_error(f"decoding stdout: {exc}") from None
    if not isinstance(cred, dict):
        raise credentials_error("decoding stdout: not an ExecCredential object")
    if cred.get("apiVersion") != api_version:
        raise credentials_error(
            f"exec plugin is configured to use API version {api_version}, "
            f"plugin returned version {cred.get('apiVersion')}"
        )
    status = cred.get("status")
    if not isinstance(status, dict):
        raise credentials_error("exec plugin didn't return a status field")
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if not status.get("token") and not cert and not key:
        raise credentials_error("exec plugin didn't return a token or cert/key pair")
    if bool(cert) != bool(key):
        raise credentials_error("exec plugin returned only certificate or key, not both")
    return status


# ---- OIDC ----------------------------------------------------------------------------


def oidc_id_token(
    cfg: dict[str, Any], persist: Callable[[], None] | None, now: float | None = None
) -> str:
    """The user's OIDC id-token, refreshed first when it has expired (client-go's rule).

    A refresh changes `cfg` in place (id-token, and refresh-token when the provider
    rotates it) and calls `persist` to write it back, as kubectl does.

    Raises:
        KubeError: `getting credentials: ...` when no valid token can be had.
    """
    token = str(cfg.get("id-token") or "")
    now = time.time() if now is None else now
    if token:
        expiry = jwt_expiry(token)
        if expiry is not None and now + OIDC_EXPIRY_DELTA < expiry:
            return token
    refresh = str(cfg.get("refresh-token") or "")
    if not refresh:
        raise credentials_error("No valid id-token, and cannot refresh without refresh-token")
    with _idp_verify(cfg) as verify:
        endpoint = _token_endpoint(str(cfg.get("idp-issuer-url") or ""), verify)
        answer = _refresh(endpoint, cfg, refresh, verify)
    new_token = answer.get("id_token")
    if not isinstance(new_token, str) or not new_token:
        raise credentials_error(
            'token response did not contain an id_token, either the scope "openid" wasn\'t '
            "requested upon login, or the provider doesn't support id_tokens as part of the "
            "refresh response"
        )
    cfg["id-token"] = new_token
    rotated = answer.get("refresh_token")
    if isinstance(rotated, str) and rotated and rotated != refresh:
        cfg["refresh-token"] = rotated
    if persist is not None:
        try:
            persist()
        except OSError as exc:
            raise credentials_error(f"could not persist new tokens: {exc}") from None
    return new_token


def jwt_expiry(token: str) -> float | None:
    """A JWT's `exp` (seconds since the epoch), or None when it has none.

    Raises:
        KubeError: the token is not a JWT (client-go refuses it too).
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise credentials_error("ID Token is not a valid JWT")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError as exc:
        raise credentials_error(f"parsing claims: {exc}") from None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


@contextlib.contextmanager
def _idp_verify(cfg: Mapping[str, Any]) -> Iterator[bool | str]:
    """What `requests` verifies the identity provider with: its CA file or data, else the
    system's trust store (never nothing)."""
    data = cfg.get("idp-certificate-authority-data")
    if data:
        # the kubernetes client loads on first use
        from kubernetes.config.kube_config import FileOrData

        # A file as the client writes one for a kubeconfig's inline certificate data,
        # removed when the process exits.
        yield FileOrData({"data": str(data)}, None, data_key_name="data").as_file()
        return
    yield cfg.get("idp-certificate-authority") or True


def _token_endpoint(issuer: str, verify: bool | str) -> str:
    import requests  # only for an OIDC refresh

    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        resp = requests.get(url, verify=verify, timeout=OIDC_TIMEOUT)
    except requests.RequestException as exc:
        raise credentials_error(f"oidc: {one_line(exc)}") from None
    if resp.status_code != 200:
        body = resp.content[:80] + (b"..." if len(resp.content) > 80 else b"")
        raise credentials_error(
            f"oidc: failed to query metadata endpoint {resp.status_code} {resp.reason}: "
            f"{body.decode('utf-8', 'replace')!r}"
        )
    try:
        endpoint = resp.json().get("token_endpoint")
    except (ValueError, AttributeError) as exc:
        raise credentials_error(
            f"oidc: failed to decode provider discovery object: {exc}"
        ) from None
    if not isinstance(endpoint, str) or not endpoint:
        raise credentials_error("oidc: discovery object doesn't contain a token_endpoint")
    return endpoint


def _refresh(
    endpoint: str, cfg: Mapping[str, Any], refresh: str, verify: bool | str
) -> dict[str, Any]:
    import requests  # only for an OIDC refresh

    # RFC 6749 2.3.1: the client credentials are form-encoded before basic auth.
    auth = (
        quote_plus(str(cfg.get("client-id") or "")),
        quote_plus(str(cfg.get("client-secret") or "")),
    )
    try:
        resp = requests.post(
            endpoint,
            data={"grant_type": "refresh_token", "refresh_token": refresh},
            auth=auth,
            headers={"Accept": "application/json"},
            verify=verify,
            timeout=OIDC_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise credentials_error(f"failed to refresh token: {one_line(exc)}") from None
    if not 200 <= resp.status_code < 300:
        raise credentials_error(
            f"failed to refresh token: oauth2: cannot fetch token: {resp.status_code} "
            f"{resp.reason}: {one_line(resp.text)}"
        )
    try:
        answer = resp.json()
    except ValueError as exc:
        raise credentials_error(f"failed to refresh token: oauth2: {exc}") from None
    return answer if isinstance(answer, dict) else {}


# ---- the loader ----------------------------------------------------------------------


class KubectlCredentials(_ClientLoader):  # type: ignore[misc]
    """The client's `KubeConfigLoader` steps for each kind of credential, done as kubectl
    does them (mixed into the client's loader by `loader`).

    Args:
        credentials: get the user's credentials at all (see `loader`).
    """

    token: str  # the bearer token, as the client's loader sets it

    def __init__(self, *, credentials: bool, **kwargs: Any) -> None:
        self._credentials = credentials
        super().__init__(**kwargs)

    def _base(self, node: ConfigNode) -> str:
        path = getattr(node, "path", None)
        return os.path.dirname(os.path.abspath(path)) if path else ""

    def load_and_set(self, client_configuration: Configuration) -> None:
        if self._user is not None:
            name = self._current_context["context"].safe_get("user") or ""
            check_files(
                self._user.value,
                str(name),
                self._base(self._user),
                token_file=self._credentials,
            )
        super().load_and_set(client_configuration)

    def _load_authentication(self) -> None:
        if self._credentials:
            super()._load_authentication()

    def _load_user_token(self) -> bool | None:
        found: bool | None = super()._load_user_token()
        if found:
            # client-go trims a tokenFile's contents (files end with a newline).
            self.token = self.token.strip()
        return found

    def _load_from_exec_plugin(self) -> bool | None:
        if "exec" not in self._user:
            return None
        base = self._base(self._user)
        status = run_exec(self._user["exec"].value, base, self._cluster.value)
        if status.get("token"):
            self.token = f"Bearer {status['token']}"
        else:
            self._exec_certificate(status, base)
        if status.get("expirationTimestamp"):
            # the kubernetes client loads on first use
            from kubernetes.config.dateutil import parse_rfc3339

            self.expiry = parse_rfc3339(status["expirationTimestamp"])
        return True

    def _exec_certificate(self, status: dict[str, Any], base: str) -> None:
        """The client certificate and key an exec plugin answered with, as files."""
        # the kubernetes client loads on first use
        from kubernetes.config.kube_config import FileOrData

        for attr, key in (("cert_file", "clientCertificateData"), ("key_file", "clientKeyData")):
            setattr(
                self,
                attr,
                FileOrData(
                    status,
                    None,
                    data_key_name=key,
                    file_base_path=base,
                    base64_file_content=False,
                    temp_file_path=self._temp_file_path,
                ).as_file(),
            )

    def _load_oid_token(self, provider: ConfigNode) -> str | None:
        if "config" not in provider:
            return None
        token = oidc_id_token(provider["config"].value, self._config_persister)
        self.token = f"Bearer {token}"
        expiry = jwt_expiry(token)
        if expiry is not None:
            # The client's refresh hook reloads credentials once this has passed: a
            # rollout that outlives the token refreshes it.
            self.expiry = datetime.fromtimestamp(expiry - OIDC_EXPIRY_DELTA, tz=timezone.utc)
        return self.token


@functools.cache
def _loader_class() -> type[KubectlCredentials]:
    """The client's loader with `KubectlCredentials` over it, made once, on first use."""
    # the kubernetes client loads on first use
    from kubernetes.config.kube_config import KubeConfigLoader

    return type("Loader", (KubectlCredentials, KubeConfigLoader), {})


def loader(
    merger: KubeConfigMerger, *, credentials: bool = True, **kwargs: Any
) -> KubectlCredentials:
    """The client's `KubeConfigLoader` for `merger.config`, getting credentials as above and
    writing refreshed tokens back to the file of `merger` they came from.

    Args:
        credentials: get the user's credentials at all; False for a plain http server,
            to which kubectl sends none: no token is read, no exec plugin run, no OIDC
            token refreshed (`clientconfig.sends_credentials`).
    """
    return _loader_class()(
        credentials=credentials,
        config_dict=merger.config,
        config_base_path=None,
        config_persister=lambda: save_changes(merger),
        **kwargs,
    )


def save_changes(merger: KubeConfigMerger) -> None:
    """Write back each kubeconfig file whose contents changed (a refreshed token), keeping
    everything else in it, replacing the file in one step and keeping its mode."""
    import yaml  # PyYAML only where YAML is read or written

    for path in merger.paths:
        data = merger.config_files.get(path)
        if data == merger.config_saved.get(path):
            continue
        mode = os.stat(path).st_mode & 0o7777
        # A new file beside it (never one that exists), then one rename over it.
        tmp = os.path.join(os.path.dirname(path) or ".", f".kubeconfig-{os.urandom(6).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                yaml.safe_dump(data, f, default_flow_style=False, sort_keys=False)
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    merger.config_saved = copy.deepcopy(merger.config_files)
