"""Read Envoy CSDS JSON, as `istioctl proxy-status -o json` prints it (Istio 1.30+) and
older istiods serve it: istiod has already put each type's state in `configStatus`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from kubectl_war.sidecars.json_shape import json_list, json_object, json_string
from kubectl_war.sidecars.records import (
    ERROR,
    IGNORED,
    NOT_SENT,
    STALE,
    SYNCED,
    TYPE_URL_PREFIX,
    ProxyStatusError,
    ProxySync,
    SyncState,
    add_type,
    short_type,
)

_CONFIG_STATUS = {
    "SYNCED": SYNCED,
    "NOT_SENT": NOT_SENT,
    "STALE": STALE,
    "ERROR": ERROR,
    # istiod reports UNKNOWN for types a ztunnel does not watch; istioctl 1.18+ shows
    # them, and any type missing from the list, as IGNORED.
    "UNKNOWN": IGNORED,
}
_CONFIG_STATUS_NUMBERS = {0: IGNORED, 1: SYNCED, 2: NOT_SENT, 3: STALE, 4: ERROR}
# PerXdsConfig oneof fields of the deprecated `xdsConfig` list (istiod <= 1.13).
_LEGACY_CONFIG_KEYS = {
    "clusterConfig": "CDS",
    "listenerConfig": "LDS",
    "endpointConfig": "EDS",
    "routeConfig": "RDS",
}
_CLIENT_CONFIG_TYPE = TYPE_URL_PREFIX + "envoy.service.status.v3.ClientConfig"


def _config_status(value: object, path: str) -> SyncState:
    # protojson leaves out an enum at its zero value, UNKNOWN.
    if value is None:
        return IGNORED
    if isinstance(value, str) and value in _CONFIG_STATUS:
        return _CONFIG_STATUS[value]
    if isinstance(value, int) and not isinstance(value, bool) and value in _CONFIG_STATUS_NUMBERS:
        return _CONFIG_STATUS_NUMBERS[value]
    raise ProxyStatusError(f"{path}: unknown config status {value!r}")


def _parse_client_config(value: object, path: str, istiod: str | None) -> ProxySync:
    obj = json_object(value, path)
    kind = json_string(obj, "@type", path)
    if kind and kind != _CLIENT_CONFIG_TYPE:
        raise ProxyStatusError(f"{path}: a {kind}, not a CSDS ClientConfig")
    node = json_object(obj.get("node"), f"{path}.node")
    proxy = json_string(node, "id", f"{path}.node")
    if not proxy:
        raise ProxyStatusError(f"{path}.node.id: missing")
    metadata_value = node.get("metadata")
    where = f"{path}.node.metadata"
    metadata = {} if metadata_value is None else json_object(metadata_value, where)
    cluster = json_string(metadata, "CLUSTER_ID", where) or None
    version = json_string(metadata, "ISTIO_VERSION", where) or None
    types: dict[str, SyncState] = {}
    details: dict[str, str] = {}
    generic = obj.get("genericXdsConfigs")
    if generic is not None:
        for index, item in enumerate(json_list(generic, f"{path}.genericXdsConfigs")):
            where = f"{path}.genericXdsConfigs[{index}]"
            config = json_object(item, where)
            url = json_string(config, "typeUrl", where)
            if not url:
                raise ProxyStatusError(f"{where}.typeUrl: missing")
            # configStatus is istiod's view and what istioctl shows; clientStatus is
            # Envoy's own, which istiod never fills in.
            state = _config_status(config.get("configStatus"), f"{where}.configStatus")
            name = short_type(url)
            add_type(types, name, state)
            error_state = config.get("errorState")
            if error_state is not None:
                error_obj = json_object(error_state, f"{where}.errorState")
                message = json_string(error_obj, "details", where)
                if message:
                    details[name] = message
    else:
        legacy = obj.get("xdsConfig")
        for index, item in enumerate(json_list(legacy or [], f"{path}.xdsConfig")):
            where = f"{path}.xdsConfig[{index}]"
            config = json_object(item, where)
            names = [n for key, n in _LEGACY_CONFIG_KEYS.items() if key in config]
            if names:  # istioctl skips scoped routes and anything else
                add_type(types, names[0], _config_status(config.get("status"), f"{where}.status"))
    return ProxySync(proxy, cluster, istiod, version, types, False, details)


def _control_plane_id(response: Mapping[str, object], path: str) -> str | None:
    control_plane = response.get("controlPlane")
    if control_plane is None:
        return None
    identifier = json_string(json_object(control_plane, f"{path}.controlPlane"), "identifier", path)
    try:
        decoded = json.loads(identifier)
    except ValueError:
        return None
    found = decoded.get("ID") if isinstance(decoded, dict) else None
    return found if isinstance(found, str) and found else None


def _parse_csds_object(value: object, path: str, istiod: str | None) -> list[ProxySync]:
    obj = json_object(value, path)
    if "resources" in obj:  # a DiscoveryResponse from one istiod (istioctl 1.30+ -o json)
        own = _control_plane_id(obj, path) or istiod
        resources = json_list(obj.get("resources"), f"{path}.resources")
        return [
            _parse_client_config(item, f"{path}.resources[{index}]", own)
            for index, item in enumerate(resources)
        ]
    if "config" in obj:  # a ClientStatusResponse
        configs = json_list(obj.get("config"), f"{path}.config")
        return [
            _parse_client_config(item, f"{path}.config[{index}]", istiod)
            for index, item in enumerate(configs)
        ]
    if "node" in obj:
        return [_parse_client_config(obj, path, istiod)]
    raise ProxyStatusError(
        f"{path}: neither a CSDS ClientConfig, ClientStatusResponse nor DiscoveryResponse"
    )


def parse_csds(data: object, istiod: str | None = None, *, path: str = "csds") -> list[ProxySync]:
    """Parse CSDS JSON (already decoded), as `istioctl proxy-status -o json` prints it.

    Accepts a DiscoveryResponse (what istioctl prints, one per istiod; the istiod comes
    from its `controlPlane.identifier`), a ClientStatusResponse (`{"config": [...]}`), a
    ClientConfig, or a list of any of these. Per type, `configStatus` maps SYNCED,
    NOT_SENT, STALE and ERROR to themselves and UNKNOWN (or no status) to IGNORED, as
    istioctl shows them; the deprecated `xdsConfig` list of older istiods is read when
    `genericXdsConfigs` is absent.

    Args:
        data: the decoded JSON.
        istiod: the istiod instance, for input that does not name it.
        path: what errors call the data (JSON paths start with it).

    Raises:
        ProxyStatusError: naming the JSON path of the first value of the wrong shape.
    """
    if isinstance(data, list):
        result: list[ProxySync] = []
        for index, item in enumerate(data):
            result.extend(_parse_csds_object(item, f"{path}[{index}]", istiod))
        return result
    return _parse_csds_object(data, path, istiod)
