"""The README, the documentation site and CI stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import checks

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
# App label (check ids, docs page docs/<label>.md) -> import name (folder).
APPS = {"caching": "caching", "assets": "assets", "profiling": "perfsite_profiling"}


def ids_in_code(app: str) -> set[str]:
    source = "\n".join(p.read_text() for p in (ROOT / APPS[app]).rglob("*.py"))
    # id="..." in a check, or a Setting's id in the app's conf.py.
    return set(re.findall(rf'"({app}\.[EW]\d{{3}})"', source))


def app_page(app: str) -> str:
    page = DOCS / f"{app}.md"
    assert page.exists(), f"no documentation page {page.relative_to(ROOT)}"
    return page.read_text()


@pytest.mark.parametrize("app", APPS)
def test_the_app_page_lists_exactly_the_check_ids_of_each_app(app: str) -> None:
    documented = set(re.findall(rf"`({app}\.[EW]\d{{3}})`", app_page(app)))
    assert documented == ids_in_code(app)


@pytest.mark.parametrize("app", APPS)
def test_each_app_page_has_install_settings_checks_and_decisions(app: str) -> None:
    headings = re.findall(r"^## (.+)$", app_page(app), re.M)
    for wanted in ("Install", "Settings", "Checks"):
        assert wanted in headings, f"docs/{app}.md has no ## {wanted}"
    assert any("ecisions" in heading for heading in headings)


@pytest.mark.parametrize("app", APPS)
def test_each_app_registers_its_checks(app: str) -> None:
    registered = {
        f"{check.__module__}.{check.__name__}"
        for check in checks.registry.registry.get_checks()
    }
    assert f"{APPS[app]}.checks.check_settings" in registered


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"^(scripts/dev \w+)\s+# \d\.", README, re.M)
    assert commands == ["scripts/dev serve", "scripts/dev test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^scripts/dev test$", ci, re.M)
    assert re.search(r'^DATABASE_URL="\$pg/\$db" scripts/dev test$', ci, re.M)
    assert "PERFSITE_REQUIRE_SERVICES=1" in ci


def test_ci_builds_the_documentation_site_in_strict_mode() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    assert re.search(r"^strict: true$", config, re.M)
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^scripts/dev docs-build$", ci, re.M)
    dev = (ROOT / "scripts" / "dev").read_text()
    assert '"$VENV/bin/mkdocs" build --strict' in dev


def test_every_documentation_page_is_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    listed = set(re.findall(r":\s+([\w/-]+\.md)$", config, re.M))
    assert pages == listed


def test_check_command_runs_every_app_check_cleanly(no_confusable_views: None) -> None:
    from django.core.management import call_command

    call_command("check", fail_level="WARNING")
