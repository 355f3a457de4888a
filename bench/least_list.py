"""The least `kubectl war list -A` this project's design allows: the bench's lower bound.

`make bench` runs it through kubectl's plugin dispatch, as `kubectl war-least -A`, in the
same rounds as `kubectl war list -A` at 1,000 WARs (see `Floor` in bench/report.py). It
does what every list of WARs must and nothing else, in the parts the design names:

- click reads the command line (`-A`);
- the official client loads the kubeconfig (with PyYAML) into its `Configuration`,
  imported the way the plugin imports it (`kubectl_war.kube.lazy`);
- the WARs are listed a page of 500 at a time through the client's connection pool
  (its urllib3 REST layer, as the plugin sends every request), each page decoded
  without its managedFields as the plugin decodes table pages (`kube/decode.py`);
- each WAR's namespace and name are printed, one line each, under a header.

Collection is off from the first line and the process ends without the interpreter's
teardown, as the plugin's commands run. What the plugin adds to this is left out:
discovery of the served version, the WorkloadGroups, identities, agent state,
freshness, a laid-out table, errors explained. So the CPU this takes is about the least
a `list -A` built on click, PyYAML and the official client, started by kubectl, can take.
"""

import gc

gc.disable()

import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import quote  # noqa: E402

import click  # noqa: E402

from kubectl_war.kube import lazy  # noqa: E402
from kubectl_war.kube.decode import loads_without_managed_fields  # noqa: E402

WARS = "/apis/runtime.onboarding.tetrate.io/v1alpha1/workloadautoregistrations"
PAGE = 500


def pages(pool: Any, host: str) -> Iterator[Any]:
    """Each page of WARs, decoded, following the continue token."""
    token = ""
    while True:
        query = f"?limit={PAGE}" + (f"&continue={quote(token)}" if token else "")
        resp = pool.urlopen(
            "GET", host + WARS + query, headers={"Accept": "application/json"},
            preload_content=False,
        )  # fmt: skip
        data = resp.read()
        if resp.status != 200:
            raise click.ClickException(f"the server answered {resp.status}: {data[:200]!r}")
        page = loads_without_managed_fields(data)
        yield page
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return


@click.command()
@click.option("-A", "--all-namespaces", is_flag=True, required=True)
def main(all_namespaces: bool) -> None:
    lazy.load()
    from kubernetes.client.api_client import ApiClient
    from kubernetes.client.configuration import Configuration
    from kubernetes.config.kube_config import load_kube_config

    cfg = Configuration()
    load_kube_config(client_configuration=cfg)
    pool = ApiClient(cfg).rest_client.pool_manager
    lines = ["NAMESPACE   NAME"]
    for page in pages(pool, str(cfg.host).rstrip("/")):
        for obj in page.get("items") or []:
            meta = obj["metadata"]
            lines.append(f"{meta['namespace']}   {meta['name']}")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
