"""Purge targets: one small interface, three HTTP implementations.

``CACHING_PURGERS`` lists dicts, each naming a ``BACKEND``:

- ``"varnish"``: ``HOSTS`` (base URLs); one ``PURGE`` per batch and host with
  the tags in an ``xkey-purge`` header (the shipped VCL hands it to
  ``xkey.purge``). Each host is a target of its own, so one that is down
  does not hold back the others.
- ``"fastly"``: ``SERVICE`` and ``TOKEN``; ``POST /service/<id>/purge`` with
  ``{"surrogate_keys": [...]}``, up to 256 per call; ``SOFT: True`` marks
  pages stale instead of removing them.
- ``"cloudflare"``: ``ZONE`` and ``TOKEN``; ``POST /zones/<id>/purge_cache``
  with ``{"tags": [...]}``, up to 30 per call.

Each accepts ``TIMEOUT`` (seconds per request, default 5) and ``URL`` (the
API's base URL, for a proxy or a test server).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

DEFAULT_TIMEOUT = 5.0  # seconds


class PurgeError(Exception):
    """A purge the target refused or did not answer."""


class Purger(Protocol):
    name: str  # unique per target, shown on the admin page and in logs
    batch_size: int  # tags per request

    def purge(self, tags: Sequence[str]) -> None:
        """Purge these tags now; raise ``PurgeError`` when that failed."""


def _send(
    method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float
) -> bytes:
    request = urllib.request.Request(
        url, data=body or None, headers=dict(headers), method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer: bytes = response.read()
            return answer
    except urllib.error.HTTPError as exc:
        raise PurgeError(f"{method} {url}: HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:  # refused, timed out, bad URL
        raise PurgeError(f"{method} {url}: {exc}") from exc


class Varnish:
    batch_size = 100  # tags per xkey-purge header (a few KB)

    def __init__(self, host: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = host.rstrip("/") + "/"
        self.timeout = timeout
        self.name = f"varnish {host}"

    def purge(self, tags: Sequence[str]) -> None:
        _send("PURGE", self.url, {"xkey-purge": " ".join(tags)}, b"", self.timeout)


class _JsonApi:
    base = ""
    batch_size = 1

    def __init__(self, token: str, timeout: float, url: str | None) -> None:
        self.token, self.timeout = token, timeout
        self.base = (url or self.base).rstrip("/")

    def _post(self, path: str, payload: Any, headers: dict[str, str]) -> Any:
        body = _send(
            "POST",
            self.base + path,
            {"Content-Type": "application/json", "Accept": "application/json"}
            | headers,
            json.dumps(payload).encode(),
            self.timeout,
        )
        try:
            return json.loads(body or b"null")
        except ValueError as exc:
            raise PurgeError(f"POST {self.base}{path}: not JSON") from exc


class Fastly(_JsonApi):
    base = "https://api.fastly.com"
    batch_size = 256  # Fastly's limit per bulk purge

    def __init__(
        self,
        service: str,
        token: str,
        timeout: float = DEFAULT_TIMEOUT,
        url: str | None = None,
        soft: bool = False,
    ) -> None:
        super().__init__(token, timeout, url)
        self.service, self.soft = service, soft
        self.name = f"fastly {service}"

    def purge(self, tags: Sequence[str]) -> None:
        headers = {"Fastly-Key": self.token}
        if self.soft:
            headers["Fastly-Soft-Purge"] = "1"
        self._post(
            f"/service/{self.service}/purge", {"surrogate_keys": list(tags)}, headers
        )


class Cloudflare(_JsonApi):
    base = "https://api.cloudflare.com/client/v4"
    batch_size = 30  # Cloudflare's limit of tags per purge call

    def __init__(
        self,
        zone: str,
        token: str,
        timeout: float = DEFAULT_TIMEOUT,
        url: str | None = None,
    ) -> None:
        super().__init__(token, timeout, url)
        self.zone = zone
        self.name = f"cloudflare {zone}"

    def purge(self, tags: Sequence[str]) -> None:
        answer = self._post(
            f"/zones/{self.zone}/purge_cache",
            {"tags": list(tags)},
            {"Authorization": f"Bearer {self.token}"},
        )
        if not (isinstance(answer, dict) and answer.get("success") is True):
            raise PurgeError(f"cloudflare {self.zone}: {str(answer)[:200]}")


def _text(config: Mapping[str, Any], key: str, backend: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"a {backend!r} purger needs {key} (a non-empty string).")
    return value


def _http_url(value: Any, what: str) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in {"http", "https"}:
        raise ValueError(f"{what} must be http:// or https:// URLs, got {value!r}.")
    return value


def build(config: Any) -> list[Purger]:
    """The targets one ``CACHING_PURGERS`` entry describes; ValueError if it is bad."""
    if not isinstance(config, Mapping):
        raise ValueError(f"each purger is a dict with a BACKEND, got {config!r}.")
    backend = config.get("BACKEND")
    timeout = config.get("TIMEOUT", DEFAULT_TIMEOUT)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or timeout <= 0
    ):
        raise ValueError(f"TIMEOUT must be a number of seconds > 0, got {timeout!r}.")
    url = config.get("URL")
    if url is not None:
        _http_url(url, "URL")
    if backend == "varnish":
        hosts = config.get("HOSTS")
        if not isinstance(hosts, list | tuple) or not hosts:
            raise ValueError("a 'varnish' purger needs HOSTS, a list of base URLs.")
        return [Varnish(_http_url(h, "HOSTS"), float(timeout)) for h in hosts]
    if backend == "fastly":
        return [
            Fastly(
                _text(config, "SERVICE", backend),
                _text(config, "TOKEN", backend),
                float(timeout),
                url,
                soft=bool(config.get("SOFT", False)),
            )
        ]
    if backend == "cloudflare":
        return [
            Cloudflare(
                _text(config, "ZONE", backend),
                _text(config, "TOKEN", backend),
                float(timeout),
                url,
            )
        ]
    raise ValueError(
        f"BACKEND must be 'varnish', 'fastly' or 'cloudflare', got {backend!r}."
    )


def configured(configs: Any) -> list[Purger]:
    """Every target of ``CACHING_PURGERS`` (ValueError on the first bad entry)."""
    if not isinstance(configs, list | tuple):
        raise ValueError(f"CACHING_PURGERS must be a list, got {configs!r}.")
    return [purger for config in configs for purger in build(config)]
