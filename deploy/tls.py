"""The front's self-signed certificate, made with the ``openssl`` command line tool.

The machine has the ``openssl`` CLI (Debian's ``openssl`` package) and the project does not
depend on the ``cryptography`` package, so the CLI makes it: an RSA 2048 key and a certificate
for ``127.0.0.1`` (common name and IP subject alternative name, as Telegram wants for a
self-signed certificate given with ``setWebhook``), valid 30 days.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from deploy.plan import LOOPBACK, ProxySpec
from deploy.processes import DeployError

VALID_DAYS = 30


def openssl_binary() -> str:
    """Return the ``openssl`` executable, or say how to install it."""
    found = shutil.which("openssl")
    if found is None:
        raise DeployError("the openssl command is missing: apt-get install -y openssl")
    return found


def certificate_command(openssl: str, *, cert: Path, key: Path, host: str) -> list[str]:
    """The ``openssl req`` call that writes a self-signed certificate and its key."""
    return [
        openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
        "-days", str(VALID_DAYS), "-subj", f"/CN={host}",
        "-addext", f"subjectAltName=IP:{host}",
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip


def make_certificate(proxy: ProxySpec, *, host: str = LOOPBACK) -> Path:
    """Write cert.pem, key.pem (0600) and front.pem (both, 0600) for HAProxy; return front.pem."""
    proxy.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    command = certificate_command(openssl_binary(), cert=proxy.cert, key=proxy.key, host=host)
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise DeployError(f"openssl could not make the front's certificate:\n{done.stderr}")
    proxy.key.chmod(0o600)
    descriptor = os.open(proxy.pem, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as pem:
        pem.write(proxy.cert.read_text(encoding="utf-8") + proxy.key.read_text(encoding="utf-8"))
    return proxy.pem
