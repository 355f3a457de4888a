"""A throwaway certificate authority and server certificate for HTTPS tests (openssl CLI)."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certs:
    ca_file: str
    cert_file: str
    key_file: str
    # A client certificate the same CA signed, for CLIENT_USER in group CLIENT_GROUP.
    client_cert_file: str = ""
    client_key_file: str = ""


#: Who the client certificate of `make_certs` authenticates as (its CN and O).
CLIENT_USER = "cert-user"
CLIENT_GROUP = "cert-group"


def make_certs(directory: str | None = None) -> Certs:
    """A CA, a server certificate it signed for 127.0.0.1 and localhost, and a client
    certificate it signed for CLIENT_USER."""
    d = Path(directory or tempfile.mkdtemp(prefix="fakekube-tls-"))

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=fakekube-ca",
        "-keyout",
        str(d / "ca.key"),
        "-out",
        str(d / "ca.crt"),
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        str(d / "server.key"),
        "-out",
        str(d / "server.csr"),
    )
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(
        "x509",
        "-req",
        "-in",
        str(d / "server.csr"),
        "-CA",
        str(d / "ca.crt"),
        "-CAkey",
        str(d / "ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        str(d / "san.ext"),
        "-out",
        str(d / "server.crt"),
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/O={CLIENT_GROUP}/CN={CLIENT_USER}",
        "-keyout",
        str(d / "client.key"),
        "-out",
        str(d / "client.csr"),
    )
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    run(
        "x509",
        "-req",
        "-in",
        str(d / "client.csr"),
        "-CA",
        str(d / "ca.crt"),
        "-CAkey",
        str(d / "ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        str(d / "client.ext"),
        "-out",
        str(d / "client.crt"),
    )
    return Certs(
        str(d / "ca.crt"),
        str(d / "server.crt"),
        str(d / "server.key"),
        str(d / "client.crt"),
        str(d / "client.key"),
    )
