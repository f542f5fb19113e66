"""The app loads next to a standard-library ``profiling`` package (Python 3.15).

Python 3.15 ships a top-level ``profiling`` package (PEP 799) and its
``cProfile`` is ``from profiling.tracing import run, runctx, Profile``. These
tests build such a pair in a temporary folder and start the project in a fresh
interpreter with that folder on ``sys.path`` before or after the project.
Had the app kept the import name ``profiling``, the first order would load the
stand-in instead of the app and the second would break ``import cProfile``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

TRACING = """
import importlib.util, os, sysconfig
_path = os.path.join(sysconfig.get_paths()["stdlib"], "cProfile.py")
_spec = importlib.util.spec_from_file_location("_stdlib_cprofile", _path)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
run, runctx, Profile = _mod.run, _mod.runctx, _mod.Profile
"""

# What the child prints: where each module came from, then a profile's size.
CHILD = """
import django, sys
django.setup()
from django.apps import apps
import cProfile, profiling
from perfsite_profiling import profiler
print(apps.get_app_config("profiling").module.__file__)
print(profiling.__file__)
print(cProfile.__file__)
running = profiler.start("cprofile")
sum(i * i for i in range(1000))
print(len(profiler.stop(running).prof))
"""


def stdlib_like(folder: Path) -> Path:
    package = folder / "profiling"
    package.mkdir()
    (package / "__init__.py").write_text('"""Stand-in for Python 3.15."""\n')
    (package / "tracing.py").write_text(TRACING)
    (folder / "cProfile.py").write_text(
        "from profiling.tracing import run, runctx, Profile\n"
    )
    return folder


@pytest.mark.parametrize(
    "stdlib_first", [True, False], ids=["stdlib-first", "project-first"]
)
def test_app_and_cprofile_load_beside_a_stdlib_profiling_package(
    tmp_path: Path, stdlib_first: bool
) -> None:
    fake = str(stdlib_like(tmp_path))
    path = [fake, str(ROOT)] if stdlib_first else [str(ROOT), fake]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(path),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    # -P: the child's sys.path starts with PYTHONPATH, not the working folder.
    done = subprocess.run(
        [sys.executable, "-P", "-c", CHILD],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    app, stdlib_profiling, cprofile, size = done.stdout.split()
    assert Path(app).is_relative_to(ROOT / "perfsite_profiling")
    assert Path(stdlib_profiling).is_relative_to(tmp_path)
    assert Path(cprofile).is_relative_to(tmp_path)
    assert int(size) > 0
