"""A throwaway certificate authority and server certificate for HTTPS tests (openssl CLI)."""

from __future__ import annotations

import subprocess
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


def make_certs(directory: str) -> Certs:
    """A CA, a server certificate it signed for 127.0.0.1 and localhost, and a client
    certificate it signed for CLIENT_USER, in `directory` (made if missing; the caller
    removes it)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)

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

    def sign(name: str, subject: str, extension: str) -> None:
        """A key and a certificate for `subject`, signed by the CA, in NAME.key/.crt."""
        run(
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
            "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.csr"),
        )  # fmt: skip
        (d / f"{name}.ext").write_text(extension + "\n")
        run(
            "x509", "-req", "-in", str(d / f"{name}.csr"),
            "-CA", str(d / "ca.crt"), "-CAkey", str(d / "ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", str(d / f"{name}.ext"), "-out", str(d / f"{name}.crt"),
        )  # fmt: skip

    sign("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost")
    sign("client", f"/O={CLIENT_GROUP}/CN={CLIENT_USER}", "extendedKeyUsage=clientAuth")
    return Certs(
        str(d / "ca.crt"),
        str(d / "server.crt"),
        str(d / "server.key"),
        str(d / "client.crt"),
        str(d / "client.key"),
    )
