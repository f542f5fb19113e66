"""The demo on its embedded default (file-backed SQLite), with the database's
write lock held by another connection, as the counter flusher holds it while
it writes: what a flush and a request then do. Prints one JSON line.

Run as ``python -m tests.support.embedded_locking`` with the demo's settings
(``DJANGO_SETTINGS_MODULE=perfsite.settings``, ``DJANGO_DEBUG=1`` as
``runserver`` sets it), ``DATABASE_URL=sqlite:///<file>`` and
``DJANGO_CACHE_PATH``.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import django

TITLE = "A post read while the database is locked"


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from caching import counters
    from perfsite.views import post_views
    from tests.perfsite.factories import make_post

    setup_test_environment()  # the test client's host is allowed
    call_command("migrate", "--noinput", verbosity=0)
    post = make_post(title=TITLE)
    connection.close()  # the request opens its own, as a new thread would
    seen: dict[str, Any] = {
        "journal_mode": None,
        "refused_flush_wrote": None,
        "pending_after_refusal": None,
        "page_status": None,
        "page_shows_the_post": None,
        "next_flush_wrote": None,
        "stored": None,
    }

    # Another writer (a second flusher, a request's transaction) holds the lock,
    # with its UPDATE of the row not yet committed.
    locker = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=0)
    locker.isolation_level = None
    seen["journal_mode"] = locker.execute("PRAGMA journal_mode").fetchone()[0]
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute(
        "UPDATE perfsite_post SET views = views + 1000 WHERE id = ?", [post.pk]
    )

    post_views.add(post.pk, 5)
    seen["refused_flush_wrote"] = counters.flush()  # waits its timeout, refused
    seen["pending_after_refusal"] = post_views.pending(post.pk)
    page = Client().get(f"/posts/{post.pk}/")  # reads while the writer holds the lock
    seen["page_status"] = page.status_code
    seen["page_shows_the_post"] = TITLE.encode() in page.content
    locker.execute("ROLLBACK")

    seen["next_flush_wrote"] = counters.flush()
    post.refresh_from_db(fields=["views"])
    seen["stored"] = post.views
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
