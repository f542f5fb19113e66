"""The HTML the template tags emit, as plain functions of their inputs.

Everything goes through ``format_html``; the one exception is the body of an
inline ``<style>``, a raw-text element where entities are not decoded, so it is
made safe by breaking any ``</`` instead of HTML-escaping it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from assets.manifest import Asset

MAX_PRECONNECTS = 4  # more than this competes with the page's own requests


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL (``//host`` when
    protocol-relative), '' for a relative one."""
    parts = urlsplit(url)
    if not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme else f"//{parts.netloc}"


def is_cross_origin(url: str, page_origin: str | None) -> bool:
    """Whether fetching ``url`` from a page at ``page_origin`` is cross-origin."""
    target = origin(url)
    if not target:
        return False
    if target.startswith("//") and page_origin:
        target = page_origin.split("//", 1)[0] + target
    return target != page_origin


def _attrs(attrs: Iterable[tuple[str, str | None]]) -> SafeString:
    """`` name="value"`` for each pair whose value is not None (bare for '')."""
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html(' {}="{}"', name, value)
                if value != ""
                else format_html(" {}", name),
            )
            for name, value in attrs
            if value is not None
        ),
    )


def _sri(asset: Asset, page_origin: str | None) -> list[tuple[str, str | None]]:
    cross = is_cross_origin(asset.url, page_origin)
    return [
        ("integrity", asset.integrity),
        ("crossorigin", "anonymous" if cross else None),
    ]


def stylesheets(assets: Sequence[Asset], page_origin: str | None = None) -> SafeString:
    return format_html_join(
        "\n",
        '<link rel="stylesheet" href="{}"{}>',
        ((a.url, _attrs(_sri(a, page_origin))) for a in assets),
    )


def scripts(
    assets: Sequence[Asset],
    page_origin: str | None = None,
    nonce: str | None = None,
    mode: str = "defer",
) -> SafeString:
    if mode not in ("defer", "async", "module", "blocking"):
        raise ValueError(
            f"Unknown script mode {mode!r}; use defer, async, module or blocking."
        )
    flags: list[tuple[str, str | None]] = []
    if mode == "module":
        flags.append(("type", "module"))
    elif mode != "blocking":
        flags.append((mode, ""))
    return format_html_join(
        "\n",
        '<script src="{}"{}></script>',
        (
            (a.url, _attrs([*flags, *_sri(a, page_origin), ("nonce", nonce)]))
            for a in assets
        ),
    )


def loader_script(
    loader: Asset, nonce: str | None, data: Sequence[tuple[str, str]] = ()
) -> SafeString:
    return format_html(
        '<script src="{}" defer{}></script>',
        loader.url,
        _attrs([*_sri(loader, None), ("nonce", nonce), *data]),
    )


def lazy_stylesheets(
    assets: Sequence[Asset], page_origin: str | None = None
) -> SafeString:
    """Stylesheets fetched without blocking render, applied by the loader script.

    ``media="print"`` makes the browser fetch at low priority without blocking;
    the loader switches ``media`` to ``all`` once loaded (no inline handler, so
    a strict CSP holds). ``<noscript>`` covers browsers without JavaScript.
    """
    links = format_html_join(
        "\n",
        '<link rel="stylesheet" href="{}" media="print" data-assets-lazy{}>',
        ((a.url, _attrs(_sri(a, page_origin))) for a in assets),
    )
    return format_html(
        "{}\n<noscript>{}</noscript>", links, stylesheets(assets, page_origin)
    )


def lazy_scripts_data(
    assets: Sequence[Asset], timeout: int, page_origin: str | None = None
) -> list[tuple[str, str]]:
    """The loader's data attributes: what to load, and after how many milliseconds."""
    entries = [
        {
            "src": a.url,
            **({"integrity": a.integrity} if a.integrity else {}),
            **(
                {"crossorigin": "anonymous"}
                if dict(_sri(a, page_origin))["crossorigin"]
                else {}
            ),
        }
        for a in assets
    ]
    return [
        ("data-assets-scripts", json.dumps(entries, separators=(",", ":"))),
        ("data-assets-timeout", str(timeout)),
    ]


def inline_style(css: str, nonce: str | None = None) -> SafeString:
    css = css.strip()
    if not css:
        return mark_safe("")
    # "</" cannot appear in a <style>'s raw text without risking "</style>".
    body = mark_safe(css.replace("</", "<\\/"))  # raw text: see the module docstring
    return format_html("<style{}>{}</style>", _attrs([("nonce", nonce)]), body)


def image(
    src: str,
    alt: str,
    width: int,
    height: int,
    *,
    hero: bool = False,
    extra: Sequence[tuple[str, str]] = (),
) -> SafeString:
    """An ``<img>`` that never shifts layout: lazy below the fold, or the LCP hero."""
    if hero:
        loading: list[tuple[str, str | None]] = [("fetchpriority", "high")]
    else:
        loading = [("decoding", "async"), ("loading", "lazy")]
    return format_html(
        '<img src="{}" alt="{}" width="{}" height="{}"{}>',
        src,
        alt,
        int(width),
        int(height),
        _attrs([*loading, *extra]),
    )


def default_sizes(width: int) -> str:
    """An image shown at its own width, or narrower when the viewport is."""
    return f"(min-width: {int(width)}px) {int(width)}px, 100vw"


def srcset(candidates: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{url} {int(width)}w" for url, width in candidates)


def picture(
    img: SafeString, sources: Sequence[tuple[str, str]], sizes: str
) -> SafeString:
    """``img`` inside a ``<picture>`` offering ``(type, srcset)`` sources first."""
    return format_html(
        "<picture>{}{}</picture>",
        format_html_join(
            "",
            '<source type="{}" srcset="{}" sizes="{}">',
            ((kind, candidates, sizes) for kind, candidates in sources),
        ),
        img,
    )


def image_preload(kind: str, candidates: str, sizes: str, **attrs: str) -> SafeString:
    """Preload of the source a ``<picture>`` picks: browsers without ``kind``
    skip it (and have no ``href`` to fetch the wrong file from)."""
    return format_html(
        '<link rel="preload" as="image" imagesrcset="{}" imagesizes="{}" type="{}"{}>',
        candidates,
        sizes,
        kind,
        _attrs(sorted(attrs.items())),
    )


def preload(
    url: str, as_: str, page_origin: str | None = None, **attrs: str
) -> SafeString:
    cross = is_cross_origin(url, page_origin) or as_ == "font"
    return format_html(
        '<link rel="preload" href="{}" as="{}"{}>',
        url,
        as_,
        _attrs(
            [("crossorigin", "anonymous" if cross else None), *sorted(attrs.items())]
        ),
    )


def preconnect(origins: Sequence[str]) -> SafeString:
    unique = list(dict.fromkeys(origin(o) or o for o in origins if o))
    if len(unique) > MAX_PRECONNECTS:
        raise ValueError(
            f"preconnect takes at most {MAX_PRECONNECTS} origins, got {len(unique)}: "
            "keep the ones the first render needs."
        )
    return format_html_join(
        "\n", '<link rel="preconnect" href="{}" crossorigin>', ((o,) for o in unique)
    )


def speculation_rules(rules_json: str, nonce: str | None = None) -> SafeString:
    """``rules_json`` must already be safe in a script (``prefetch.rules_json``)."""
    return format_html(
        '<script type="speculationrules"{}>{}</script>',
        _attrs([("nonce", nonce)]),
        mark_safe(rules_json),  # escaped for a <script> by rules_json
    )


def join(parts: Sequence[SafeString]) -> SafeString:
    return format_html_join("\n", "{}", ((p,) for p in parts if p))
