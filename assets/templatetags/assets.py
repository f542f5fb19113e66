"""``{% load assets %}``: thin wrappers over ``assets.html`` and ``assets.manifest``."""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.safestring import SafeString, mark_safe

from assets import html, manifest, prefetch
from assets.conf import conf

register = template.Library()

LOADER = "assets/lazy.js"


def _request(context: template.Context) -> Any:
    return context.get("request")


def page_origin(context: template.Context) -> str | None:
    request = _request(context)
    if request is None:
        return None
    return f"{request.scheme}://{request.get_host()}"


def csp_nonce(context: template.Context) -> str | None:
    """The request's CSP nonce, if a CSP middleware gave it one.

    Django 6 keeps a lazy nonce in ``request._csp_nonce`` (and ``{{ csp_nonce }}``
    with its context processor); django-csp sets ``request.csp_nonce``. A lazy
    nonce is false until generated, so test for None and let ``str()`` make it.
    """
    request = _request(context)
    for nonce in (
        context.get("csp_nonce"),
        getattr(request, "csp_nonce", None),
        getattr(request, "_csp_nonce", None),
    ):
        if nonce is not None:
            return str(nonce) or None
    return None


def cdn(url: str) -> str:
    if conf.CDN_URL and url.startswith("/") and not url.startswith("//"):
        return conf.CDN_URL + url
    return url


def _assets(bundle: str, kind: str) -> list[manifest.Asset]:
    return [
        manifest.Asset(cdn(a.url), a.integrity) for a in manifest.assets(bundle, kind)
    ]


def _loader(
    context: template.Context, data: list[tuple[str, str]] | None = None
) -> SafeString:
    """The loader script, once per page unless it carries lazy scripts."""
    if data is None:
        if context.render_context.get(LOADER):
            return mark_safe("")
        context.render_context[LOADER] = True
    return html.loader_script(
        manifest.Asset(cdn(static(LOADER))), csp_nonce(context), data or []
    )


@register.simple_tag(takes_context=True)
def css_bundle(context: template.Context, bundle: str) -> SafeString:
    return html.stylesheets(_assets(bundle, "css"), page_origin(context))


@register.simple_tag(takes_context=True)
def js_bundle(
    context: template.Context, bundle: str, mode: str = "defer"
) -> SafeString:
    return html.scripts(
        _assets(bundle, "js"), page_origin(context), csp_nonce(context), mode
    )


@register.simple_tag
def cdn_url(path: str) -> str:
    return cdn(static(path))


@register.simple_tag(takes_context=True)
def preload(
    context: template.Context, path: str, as_: str = "", **attrs: str
) -> SafeString:
    kind = attrs.pop("as", as_)
    if not kind:
        raise template.TemplateSyntaxError(
            'preload needs as="image|style|script|font|fetch".'
        )
    found = manifest.picture(path) if kind == "image" else None
    if found is not None:
        # The <picture> of hero_img picks the first source: preload that one.
        sizes = attrs.pop("imagesizes", "") or html.default_sizes(found.width)
        mime, candidates = _sources(found)[0]
        return html.image_preload(mime, candidates, sizes, **attrs)
    return html.preload(cdn(static(path)), kind, page_origin(context), **attrs)


@register.simple_tag
def preconnect(*origins: str) -> SafeString:
    if not origins:
        origins = (html.origin(cdn(static(LOADER))),)
    return html.preconnect(origins)


@register.simple_tag(takes_context=True)
def critical_css(context: template.Context, bundle: str) -> SafeString:
    return html.inline_style(manifest.critical_css(bundle), csp_nonce(context))


@register.simple_tag(takes_context=True)
def lazy_css(context: template.Context, bundle: str) -> SafeString:
    links = html.lazy_stylesheets(_assets(bundle, "css"), page_origin(context))
    return html.join([links, _loader(context)])


@register.simple_tag(takes_context=True)
def lazy_js(
    context: template.Context, bundle: str, timeout: int | None = None
) -> SafeString:
    delay = conf.LAZY_JS_TIMEOUT if timeout is None else int(timeout)
    data = html.lazy_scripts_data(_assets(bundle, "js"), delay, page_origin(context))
    return _loader(context, data)


def _sources(found: manifest.Picture) -> list[tuple[str, str]]:
    return [
        (mime, html.srcset([(cdn(url), width) for url, width in candidates]))
        for mime, candidates in found.sources
    ]


def _image(
    path: str, alt: str, width: int, height: int, hero: bool, attrs: dict[str, str]
) -> SafeString:
    sizes = attrs.pop("sizes", "")
    img = html.image(
        cdn(static(path)), alt, width, height, hero=hero, extra=sorted(attrs.items())
    )
    found = manifest.picture(path)
    if found is None:
        return img
    return html.picture(img, _sources(found), sizes or html.default_sizes(found.width))


@register.simple_tag
def lazy_img(path: str, alt: str, width: int, height: int, **attrs: str) -> SafeString:
    return _image(path, alt, width, height, False, attrs)


@register.simple_tag
def hero_img(path: str, alt: str, width: int, height: int, **attrs: str) -> SafeString:
    return _image(path, alt, width, height, True, attrs)


@register.simple_tag(takes_context=True)
def speculation_rules(context: template.Context) -> SafeString:
    return html.speculation_rules(prefetch.rules_json(), csp_nonce(context))
