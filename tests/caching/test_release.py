"""CACHING_RELEASE: what its default covers, and that keys carry it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.test import override_settings

from caching.conf import conf
from caching.decorators import cache_result
from caching.release import default_release


@cache_result(60)
def target(x: int) -> int:
    return x


def test_the_default_follows_the_template_sources(
    settings: Any, tmp_path: Path
) -> None:
    (tmp_path / "a.html").write_text("one")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    before = conf.RELEASE
    assert before == default_release() and len(before) == 12
    (tmp_path / "a.html").write_text("two")
    assert default_release() == before  # computed once per process
    default_release.cache_clear()  # what a deploy's new process does
    assert before != conf.RELEASE
    (tmp_path / "a.html").write_text("one")
    default_release.cache_clear()
    assert before == conf.RELEASE


def test_the_default_follows_the_static_manifest(monkeypatch: Any) -> None:
    from django.contrib.staticfiles.storage import staticfiles_storage

    before = conf.RELEASE
    monkeypatch.setattr(staticfiles_storage, "manifest_hash", "abc123", raising=False)
    default_release.cache_clear()
    assert before != conf.RELEASE


def test_a_set_release_is_used_as_is_and_is_in_every_entry_key() -> None:
    with override_settings(CACHING_RELEASE="r1"):
        key_r1 = target.cache_key(1)
        assert ":r1:" in key_r1
    with override_settings(CACHING_RELEASE="r2"):
        assert target.cache_key(1) != key_r1


def test_a_project_without_static_files_gets_a_default() -> None:
    """No staticfiles app and no STATIC_URL: the manifest is left out, nothing raises."""
    from django.conf import settings

    apps = [a for a in settings.INSTALLED_APPS if a != "django.contrib.staticfiles"]
    with override_settings(STATIC_URL=None, INSTALLED_APPS=apps):
        release = default_release()
        assert len(release) == 12
        assert target(3) == 3
    with override_settings(STATIC_URL=None):  # installed but not configured
        assert default_release() == release
