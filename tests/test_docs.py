"""The README and CI stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import checks

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# App label (check ids, README heading) -> import name (folder).
APPS = {"caching": "caching", "assets": "assets", "profiling": "perfsite_profiling"}


def ids_in_code(app: str) -> set[str]:
    source = "\n".join(p.read_text() for p in (ROOT / APPS[app]).rglob("*.py"))
    # id="..." in a check, or a Setting's id in the app's conf.py.
    return set(re.findall(rf'"({app}\.[EW]\d{{3}})"', source))


def readme_section(app: str) -> str:
    match = re.search(rf"^## `{app}`.*?(?=^## )", README, re.S | re.M)
    assert match, f"README has no section headed ## `{app}`"
    return match.group(0)


@pytest.mark.parametrize("app", APPS)
def test_readme_lists_exactly_the_check_ids_of_each_app(app: str) -> None:
    documented = set(re.findall(rf"`({app}\.[EW]\d{{3}})`", readme_section(app)))
    assert documented == ids_in_code(app)


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


def test_check_command_runs_every_app_check_cleanly(no_confusable_views: None) -> None:
    from django.core.management import call_command

    call_command("check", fail_level="WARNING")
