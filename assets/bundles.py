"""Building bundles: concatenate, rebase CSS ``url()``s, minify.

Plain functions over file contents; the collectstatic glue is in
``assets.storage`` and the template glue in ``assets.templatetags``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import rcssmin
import rjsmin

from assets.conf import BUNDLE_KINDS, conf

KINDS = BUNDLE_KINDS
EXTENSIONS = {"css": "css", "js": "js", "critical": "critical.css"}

# url(...) with optional quotes; the target excludes quotes and parentheses.
URL_RE = re.compile(r"""url\(\s*(?P<quote>['"]?)(?P<url>[^'")]*?)(?P=quote)\s*\)""")
_ABSOLUTE = ("data:", "http:", "https:", "//", "/", "#", "about:")


class BundleError(ValueError):
    """Files listed by bundles (or referenced from them) that do not exist."""

    def __init__(self, missing: list[tuple[str, str]]) -> None:
        self.missing = missing
        lines = "\n".join(
            f"  {path} (listed by bundle {bundle!r})" for bundle, path in missing
        )
        super().__init__(
            f"ASSETS_BUNDLES lists {len(missing)} missing file(s):\n{lines}\n"
            "Fix the paths in ASSETS_BUNDLES or add the files to a static directory."
        )


@dataclass(frozen=True)
class Source:
    bundle: str
    kind: str
    path: str


def bundle_name(bundle: str, kind: str) -> str:
    """The static path a bundle is written to, before hashing."""
    return f"{conf.OUTPUT_DIR}/{bundle}.{EXTENSIONS[kind]}"


def sources(bundles: dict[str, dict[str, list[str]]]) -> Iterator[Source]:
    for bundle, kinds in bundles.items():
        for kind in KINDS:
            for path in kinds.get(kind, []):
                yield Source(bundle, kind, path)


def css_references(css: str, path: str) -> Iterator[str]:
    """The static paths that ``url()``s in the CSS file at ``path`` point to."""
    base = posixpath.dirname(path)
    for match in URL_RE.finditer(css):
        target = match.group("url").strip()
        if target and not target.lower().startswith(_ABSOLUTE):
            yield posixpath.normpath(posixpath.join(base, _strip_query(target)))


def _strip_query(url: str) -> str:
    return re.split(r"[?#]", url, maxsplit=1)[0]


def rebase_css(css: str, path: str, to_url: Callable[[str], str]) -> str:
    """Point the relative ``url()``s of the CSS file at ``path`` through ``to_url``.

    ``to_url`` receives the static path of each target (query and fragment kept
    aside) and returns what to write instead.
    """
    base = posixpath.dirname(path)

    def replace(match: re.Match[str]) -> str:
        target = match.group("url").strip()
        if not target or target.lower().startswith(_ABSOLUTE):
            return match.group(0)
        clean = _strip_query(target)
        suffix = target[len(clean) :]
        name = posixpath.normpath(posixpath.join(base, clean))
        return f'url("{to_url(name)}{suffix}")'

    return URL_RE.sub(replace, css)


def relative_to(directory: str) -> Callable[[str], str]:
    """A ``to_url`` that writes paths relative to ``directory``."""
    return lambda name: posixpath.relpath(name, directory)


def build(
    bundle: str,
    kind: str,
    read: Callable[[str], str],
    to_url: Callable[[str], str] | None = None,
) -> str:
    """The minified contents of one bundle of ``kind`` from its sources, in order.

    ``read`` returns a source's text; CSS ``url()``s are rebased through
    ``to_url`` (by default, relative to where the bundle is written).
    """
    paths = conf.BUNDLES[bundle].get(kind, [])
    if kind == "js":
        # A ';' between files stops one file's last statement running into the next.
        return (
            ";\n".join(rjsmin.jsmin(read(path)).strip().rstrip(";") for path in paths)
            + ";\n"
        )
    target = to_url or relative_to(posixpath.dirname(bundle_name(bundle, kind)))
    css = "\n".join(rebase_css(read(path), path, target) for path in paths)
    return minify_css(css) + "\n"


def minify_css(css: str) -> str:
    return str(rcssmin.cssmin(css))


def missing_files(
    setting: dict[str, dict[str, list[str]]],
    exists: Callable[[str], bool],
    read: Callable[[str], str],
) -> list[tuple[str, str]]:
    """Every (bundle, path) whose file is missing, ``url()`` targets included."""
    missing: list[tuple[str, str]] = []
    for source in sources(setting):
        if not exists(source.path):
            missing.append((source.bundle, source.path))
        elif source.kind != "js":
            for ref in css_references(read(source.path), source.path):
                if not exists(ref):
                    missing.append((source.bundle, f"{ref} (url() in {source.path})"))
    return list(dict.fromkeys(missing))


def check_sources(
    setting: dict[str, dict[str, list[str]]],
    exists: Callable[[str], bool],
    read: Callable[[str], str],
) -> None:
    """Raise one ``BundleError`` naming every missing file."""
    missing = missing_files(setting, exists, read)
    if missing:
        raise BundleError(missing)
