"""A private varnishd with the shipped VCL, on a free port, that tests can restart."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from tests.support.gunicorn import ROOT
from tests.support.services import free_port, missing, wait_for_port

RUN = ROOT / "deploy" / "varnish" / "run"
XKEY = "libvmod_xkey.so"


def varnishd() -> str | None:
    return shutil.which("varnishd") or (
        "/usr/sbin/varnishd" if Path("/usr/sbin/varnishd").exists() else None
    )


def require_varnish() -> None:
    """Skip (fail under PERFSITE_REQUIRE_SERVICES=1) without Varnish and xkey."""
    if varnishd() is None:
        missing("varnishd is not installed (apt-get install varnish)")
    if not list(Path("/usr/lib").glob(f"*/varnish/vmods/{XKEY}")):
        missing("the xkey vmod is not installed (apt-get install varnish-modules)")


@dataclass
class Fetched:
    status: int
    headers: Message
    body: str

    @property
    def hit(self) -> bool:
        """Served from Varnish's cache: X-Varnish carries the request and the object."""
        return len(self.headers.get("X-Varnish", "").split()) == 2

    @property
    def age(self) -> int:
        return int(self.headers.get("Age", "0"))


class Varnish:
    """varnishd in front of ``backend`` (host:port), with its own -n workdir."""

    def __init__(self, backend: str, port: int | None = None) -> None:
        self.backend = backend
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="perfsite-varnish-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.process = subprocess.Popen(
            [str(RUN), self.backend, f"127.0.0.1:{self.port}", str(self.dir)],
            stdout=open(self.dir / "varnishd.log", "ab"),  # noqa: SIM115 - child keeps it
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/sbin:/usr/bin:/bin", "VARNISH_MEMORY": "64m"},
        )
        try:
            wait_for_port(self.port, timeout=30)
        except TimeoutError as exc:
            raise RuntimeError((self.dir / "varnishd.log").read_text()[-2000:]) from exc

    def stop(self) -> None:
        """Stop varnishd (its cache lives in memory: a restart starts empty)."""
        if self.process is None:
            return
        self.process.terminate()  # varnishd -F stops its child and exits
        self.process.wait(timeout=30)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def get(self, path: str, **headers: str) -> Fetched:
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Fetched(
                    response.status, response.headers, response.read().decode()
                )
        except urllib.error.HTTPError as error:
            return Fetched(error.code, error.headers, error.read().decode())
