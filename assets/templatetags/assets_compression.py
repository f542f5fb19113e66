"""``{% load assets_compression %}``: the link to the ``dcz`` dictionary."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from assets import dictionary

register = template.Library()


@register.simple_tag
def compression_dictionary() -> SafeString:
    """``<link rel="compression-dictionary">`` to the built dictionary, or nothing.

    The browser fetches it at idle priority once and then advertises it on
    matching navigations (RFC 9842); without a build (DEBUG) there is none.
    """
    found = dictionary.current()
    if found is None:
        return SafeString("")
    return format_html('<link rel="compression-dictionary" href="{}">', found.url)
