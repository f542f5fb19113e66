"""A separate worker process for the cross-process test.

``python -m tests.profiling.worker requests N`` serves N requests of each kind
through the full middleware stack and flushes in batches;
``python -m tests.profiling.worker report`` prints what the staff page and
``/api/performance`` show. ``DATABASE_URL`` names the shared database.
"""

from __future__ import annotations

import json
import re
import sys

import django


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import setup_test_environment

    from perfsite_profiling.store import aggregator

    setup_test_environment()
    settings.ROOT_URLCONF = "tests.profiling.site"
    settings.PROFILING_FLUSH_REQUESTS = 4
    client = Client()
    if sys.argv[1] == "requests":
        n = int(sys.argv[2])
        cache.set("hit", None)
        for _ in range(n):
            client.get("/t/cached/?get=hit&get=miss")
            client.get("/t/queries/3/")
            client.get("/t/body/3000/", headers={"accept-encoding": "gzip"})
        aggregator.flush()  # what is left of the last batch (at exit, in a server)
        return
    staff, _ = get_user_model().objects.get_or_create(username="staff", is_staff=True)
    client.force_login(staff)
    page = client.get("/profiling/?sort=requests").content.decode()
    rows = re.findall(r'data-endpoint="([^"]+)" data-requests="(\d+)"', page)
    api = client.get("/api/performance").json()
    print(json.dumps({"page": dict(rows), "api": api}))


if __name__ == "__main__":
    main()
