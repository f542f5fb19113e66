"""HTTP content-coding negotiation and entity-tag matching (RFC 9110).

Plain functions over header strings, shared by the static file server and
the compression middleware.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence

IDENTITY = "identity"


def parse_accept_encoding(header: str) -> dict[str, float]:
    """Map each coding named in ``Accept-Encoding`` to its q-value.

    A malformed q-value counts as 0 (not acceptable): guessing would risk
    sending a coding the client cannot decode.
    """
    codings: dict[str, float] = {}
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if not name:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:
                    quality = 0.0
        codings[name.lower()] = quality
    return codings


def quality(codings: dict[str, float], coding: str) -> float:
    """The q-value a parsed ``Accept-Encoding`` gives ``coding``.

    Per RFC 9110 section 12.5.3: a coding that is not listed takes the value of
    ``*``; ``identity`` is acceptable unless excluded by ``identity;q=0`` or by
    ``*;q=0`` without an ``identity`` entry.
    """
    if coding in codings:
        return codings[coding]
    if "*" in codings:
        return codings["*"]
    return 1.0 if coding == IDENTITY else 0.0


def choose_encoding(header: str | None, offered: Sequence[str]) -> str | None:
    """The coding to send, ``IDENTITY`` for none, or None if nothing is acceptable.

    ``offered`` lists the available codings (without identity), the server's
    preference first; among codings the client rates equally that preference
    decides, and a compressed coding wins over identity at equal quality.
    No ``Accept-Encoding`` header means any coding is fine, but compressing
    for a client that said nothing is not: identity is sent.
    """
    if header is None or not header.strip():
        return IDENTITY
    codings = parse_accept_encoding(header)
    best, best_q = None, 0.0
    for coding in offered:
        q = quality(codings, coding)
        if q > best_q:
            best, best_q = coding, q
    # identity competes only when the client rates it explicitly; otherwise it
    # is the fallback for when no offered coding is acceptable.
    if IDENTITY in codings and codings[IDENTITY] > best_q:
        return IDENTITY
    if best is None and quality(codings, IDENTITY) > 0:
        return IDENTITY
    return best


def parse_byte_sequence(header: str | None) -> bytes | None:
    """The bytes of a structured-field byte sequence (RFC 8941), ``:base64:``.

    ``Available-Dictionary`` (RFC 9842) carries the SHA-256 of the dictionary
    the client holds this way. Anything else (no colons, bad base64, a list)
    is None: the request is then answered without a dictionary.
    """
    if header is None:
        return None
    value = header.strip(" \t")
    if len(value) < 2 or value[0] != ":" or value[-1] != ":":
        return None
    try:
        return base64.b64decode(value[1:-1], validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_etags(header: str) -> list[str] | None:
    """The entity tags of an ``If-None-Match``/``If-Match`` header, or None for ``*``."""
    if header.strip() == "*":
        return None
    tags: list[str] = []
    rest = header
    while True:
        rest = rest.lstrip(" \t,")
        if not rest:
            return tags
        weak = rest.startswith("W/")
        if weak:
            rest = rest[2:]
        if not rest.startswith('"'):
            # Not a quoted tag: skip to the next comma, tolerating junk.
            _, _, rest = rest.partition(",")
            continue
        end = rest.find('"', 1)
        if end == -1:
            return tags
        tags.append(("W/" if weak else "") + rest[: end + 1])
        rest = rest[end + 1 :]


def opaque(etag: str) -> str:
    return etag[2:] if etag.startswith("W/") else etag


def none_match(header: str | None, current: Iterable[str]) -> bool:
    """True when ``If-None-Match`` matches one of the ``current`` tags.

    The weak comparison applies (RFC 9110 section 13.1.2), and ``*`` matches any
    existing representation.
    """
    if header is None:
        return False
    tags = parse_etags(header)
    if tags is None:
        return True
    wanted = {opaque(tag) for tag in tags}
    return any(opaque(tag) in wanted for tag in current)
