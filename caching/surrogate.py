"""Surrogate keys and the shared-cache lifetime of shareable responses.

A shared cache (Varnish, Fastly, Cloudflare) stores a page with the tags it
depends on: one per group of its policy and one for the release
(``caching.keys.surrogate_tag``/``release_tag``). A bump of a group purges
its tag there (``caching.purge``). Each CDN reads tags from its own header,
hence the presets of ``CACHING_SURROGATE_KEYS``.

``CACHING_SHARED_MAX_AGE`` is how long the shared cache may keep the page
(``s-maxage``, or ``Surrogate-Control`` for Fastly, which strips it), while
browsers keep revalidating with ``max-age``. It also bounds how old a page can
get when a purge is lost.

Only responses ``caching.middleware`` judged shareable on the final response
are marked, and never a ``per_user`` one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.http import HttpResponseBase
from django.utils.cache import patch_cache_control

from caching.conf import conf
from caching.keys import release_tag, surrogate_tag


class Preset(NamedTuple):
    header: str  # where the CDN reads the tags
    separator: str
    surrogate_control: bool  # the lifetime goes to Surrogate-Control


PRESETS: dict[str, Preset] = {
    "xkey": Preset("xkey", " ", surrogate_control=False),
    "fastly": Preset("Surrogate-Key", " ", surrogate_control=True),
    "cloudflare": Preset("Cache-Tag", ",", surrogate_control=False),
}


def tags(groups: Iterable[str]) -> list[str]:
    """The surrogate keys of a response depending on ``groups``."""
    return [*(surrogate_tag(g) for g in groups), release_tag()]


@functools.lru_cache(maxsize=1024)
def _joined(groups: tuple[str, ...], release: str, separator: str) -> str:
    # ``release`` keys the memo: tags() reads the release itself.
    return separator.join(tags(groups))


def mark(
    response: HttpResponseBase, groups: Sequence[str], *limits: int | None
) -> None:
    """Tag a shareable response and give it its shared-cache lifetime, capped
    by ``limits`` (the policy's timeout and refresh period, when set): a page
    the origin refreshes every minute is not kept five by the shared cache."""
    preset = PRESETS.get(conf.SURROGATE_KEYS)
    if preset is not None:
        response[preset.header] = _joined(tuple(groups), conf.RELEASE, preset.separator)
    seconds = min([conf.SHARED_MAX_AGE, *(n for n in limits if n)])
    if seconds:
        if preset is not None and preset.surrogate_control:
            response["Surrogate-Control"] = f"max-age={seconds}"
        elif f"s-maxage={seconds}" not in response.get("Cache-Control", ""):
            # (a stored response kept the s-maxage it was given: a hit skips this)
            patch_cache_control(response, s_maxage=seconds)
