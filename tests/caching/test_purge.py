"""Purges on commit, against a local HTTP server that records what it gets."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from caching import purge
from caching.invalidation import invalidate_groups
from caching.keys import surrogate_tag
from tests.support.gunicorn import ROOT
from tests.support.recorder import Recorder, recorder
from tests.support.services import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    purge.reset()
    monkeypatch.setattr(purge, "RETRY_FIRST", 0.0)  # retries at once, no sleeping
    settings.CACHING_SURROGATE_KEYS = "xkey"
    with recorder() as found:
        settings.CACHING_PURGERS = [{"BACKEND": "varnish", "HOSTS": [found.url]}]
        yield found
    purge.reset()


def sent_tags(found: Recorder) -> list[str]:
    return [t for r in found.requests for t in r.headers["xkey-purge"].split()]


def test_a_commit_purges_the_bumped_groups_at_varnish(server: Recorder) -> None:
    with transaction.atomic():
        invalidate_groups(["a", "b"])
        assert purge.pending() == 0  # nothing before the commit
    assert purge.drain(5)
    (request,) = server.wait_for(1)
    assert request.method == "PURGE"
    assert sorted(request.headers["xkey-purge"].split()) == sorted(
        [surrogate_tag("a"), surrogate_tag("b")]
    )


def test_a_rolled_back_transaction_purges_nothing(server: Recorder) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        invalidate_groups(["a"])
        raise RuntimeError
    assert purge.drain(5)
    assert server.requests == []


def test_every_host_gets_every_tag_in_batches(server: Recorder, settings: Any) -> None:
    with recorder() as second:
        settings.CACHING_PURGERS = [
            {"BACKEND": "varnish", "HOSTS": [server.url, second.url]}
        ]
        names = [f"group-{n}" for n in range(250)]
        invalidate_groups(names)
        assert purge.drain(5)
        for found in (server, second):
            assert len(found.wait_for(3)) == 3  # 100 + 100 + 50
            assert sorted(sent_tags(found)) == sorted(map(surrogate_tag, names))


def test_fastly_gets_its_api_call(server: Recorder, settings: Any) -> None:
    settings.CACHING_SURROGATE_KEYS = "fastly"
    settings.CACHING_PURGERS = [
        {"BACKEND": "fastly", "SERVICE": "svc1", "TOKEN": "tok", "URL": server.url}
    ]
    invalidate_groups([f"g{n}" for n in range(300)])
    assert purge.drain(5)
    first, second = server.wait_for(2)
    assert (first.method, first.path) == ("POST", "/service/svc1/purge")
    assert first.headers["fastly-key"] == "tok"
    assert len(first.json()["surrogate_keys"]) == 256  # type: ignore[index]
    assert len(second.json()["surrogate_keys"]) == 44  # type: ignore[index]


def test_cloudflare_gets_its_api_call(server: Recorder, settings: Any) -> None:
    settings.CACHING_SURROGATE_KEYS = "cloudflare"
    settings.CACHING_PURGERS = [
        {"BACKEND": "cloudflare", "ZONE": "z9", "TOKEN": "tok", "URL": server.url}
    ]
    invalidate_groups(["a"])
    assert purge.drain(5)
    (request,) = server.wait_for(1)
    assert (request.method, request.path) == ("POST", "/zones/z9/purge_cache")
    assert request.headers["authorization"] == "Bearer tok"
    assert request.json() == {"tags": [surrogate_tag("a")]}


@pytest.mark.parametrize(
    "reply", [b'{"success": false, "errors": [{"code": 1134}]}', b"<html>oops"]
)
def test_an_api_that_refuses_is_a_failed_purge(
    server: Recorder, settings: Any, reply: bytes
) -> None:
    server.reply = reply
    settings.CACHING_PURGERS = [
        {"BACKEND": "cloudflare", "ZONE": "z9", "TOKEN": "tok", "URL": server.url}
    ]
    invalidate_groups(["a"])
    assert not purge.drain(0.1)
    (line,) = purge.health()
    assert line["pending"] == 1 and line["failures"] >= 1
    assert ("1134" if b"success" in reply else "not JSON") in line["last_error"]


def test_a_soft_purge_at_fastly(server: Recorder, settings: Any) -> None:
    settings.CACHING_PURGERS = [
        {
            "BACKEND": "fastly",
            "SERVICE": "s",
            "TOKEN": "t",
            "URL": server.url,
            "SOFT": True,
        }
    ]
    invalidate_groups(["a"])
    assert purge.drain(5)
    assert server.wait_for(1)[0].headers["fastly-soft-purge"] == "1"


def test_a_failing_target_is_retried_logged_and_shown(
    server: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    server.statuses[:] = [503, 500]
    with caplog.at_level(logging.WARNING, logger="caching.purge"):
        invalidate_groups(["a"])
        assert purge.drain(5)
    assert [r.headers["xkey-purge"] for r in server.wait_for(3)] == [
        surrogate_tag("a")
    ] * 3
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2  # one when it starts failing, one when it recovers
    assert "HTTP 503" in messages[0]
    assert "delivered again after 2 failed attempts" in messages[1]
    (line,) = purge.health()
    assert (line["pending"], line["delivered"], line["failures"]) == (0, 1, 0)
    assert "HTTP 500" in line["last_error"]


def test_a_dead_target_keeps_a_bounded_queue(
    server: Recorder, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    settings.CACHING_PURGERS = [{"BACKEND": "varnish", "HOSTS": [dead, server.url]}]
    settings.CACHING_PURGE_QUEUE = 5
    with caplog.at_level(logging.WARNING, logger="caching.purge"):
        invalidate_groups([f"g{n}" for n in range(8)])
        assert not purge.drain(0.2)
    lines = {line["target"]: line for line in purge.health()}
    down, up = lines[f"varnish {dead}"], lines[f"varnish {server.url}"]
    assert (down["pending"], down["dropped"], down["limit"]) == (5, 3, 5)
    assert down["failures"] >= 1 and "Connection refused" in down["last_error"]
    assert (up["pending"], up["delivered"], up["dropped"]) == (0, 5, 3)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert sum("is full" in m for m in errors) == 2  # once per target
    assert any("5 purges not delivered" in m for m in errors)


def test_a_tag_older_than_the_shared_lifetime_expires(
    server: Recorder, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(purge, "clock", lambda: now[0])
    settings.CACHING_SHARED_MAX_AGE = 60
    settings.CACHING_PURGERS = [
        {"BACKEND": "varnish", "HOSTS": [f"http://127.0.0.1:{free_port()}"]}
    ]
    invalidate_groups(["a"])
    purge.flush()
    assert purge.health()[0]["pending"] == 1
    now[0] += 61  # every page tagged before the bump has expired by now
    purge.flush()
    (line,) = purge.health()
    assert (line["pending"], line["expired"]) == (0, 1)


def test_the_background_thread_sends_without_being_asked(server: Recorder) -> None:
    invalidate_groups(["a"])
    assert [r.method for r in server.wait_for(1)] == ["PURGE"]


def test_an_exiting_process_sends_what_it_holds(server: Recorder) -> None:
    code = textwrap.dedent(
        f"""
        import django
        from django.conf import settings
        django.setup()
        settings.CACHING_PURGERS = [{{"BACKEND": "varnish", "HOSTS": ["{server.url}"]}}]
        from caching import purge
        purge._flusher.wake = lambda: None  # no thread: only the exit sends
        from caching.invalidation import invalidate_groups
        invalidate_groups(["at-exit"])
        assert purge.pending() == 1
        """
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": ""},
        check=True,
        timeout=60,
    )
    assert sent_tags(server) == [surrogate_tag("at-exit")]


def test_the_admin_page_shows_each_targets_queue(
    server: Recorder, settings: Any, client: Any
) -> None:
    from django.contrib.auth.models import User

    dead = f"http://127.0.0.1:{free_port()}"
    settings.CACHING_PURGERS = [{"BACKEND": "varnish", "HOSTS": [dead]}]
    invalidate_groups(["a", "b"])
    purge.flush()
    client.force_login(User.objects.create_user("staff", is_staff=True))
    body = client.get("/admin/caching/cachestatistics/").content.decode()
    assert "Shared-cache purges (this process)" in body
    assert f"varnish {dead}" in body and "/ 10000" in body
    assert "Connection refused" in body


def test_bad_settings_purge_nothing(settings: Any) -> None:
    purge.reset()
    settings.CACHING_PURGERS = ["http://127.0.0.1:1"]  # caching.E027 reports it
    invalidate_groups(["a"])
    assert purge.health() == [] and purge.drain(0)


def test_a_forked_child_starts_with_no_purges_of_its_parent(settings: Any) -> None:
    purge.reset()
    dead = f"http://127.0.0.1:{free_port()}"
    settings.CACHING_PURGERS = [{"BACKEND": "varnish", "HOSTS": [dead]}]
    invalidate_groups(["a"])
    purge._flusher.start()  # already running: a no-op
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        status = 1
        try:
            status = 0 if purge.pending() == 0 and not purge._flusher.started else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert purge.pending() == 1  # the parent still holds its own
    purge.reset()
