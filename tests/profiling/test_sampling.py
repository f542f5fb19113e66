"""Names and budgets that a client can vary stay bounded."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from perfsite_profiling import sampling
from perfsite_profiling.sampling import HOUR_NS, within_budget
from perfsite_profiling.store import OTHER, aggregator


@pytest.mark.django_db
def test_unknown_methods_share_one_endpoint(client: Client) -> None:
    for i in range(25):
        client.generic(f"ZZ{i:03}", "/t/work/1/")
    client.generic("PATCH", "/t/work/1/")
    client.get("/t/work/1/")
    counts = {
        name: totals.counters["requests"]
        for name, totals in aggregator.pending().items()
    }
    assert counts == {
        "OTHER /t/work/<int:ms>/": 25,
        "PATCH /t/work/<int:ms>/": 1,
        "GET /t/work/<int:ms>/": 1,
    }


def test_the_budget_dict_never_outgrows_its_cap(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.PROFILING_SAMPLE_BUDGET = 2
    monkeypatch.setattr(sampling, "MAX_BUDGETS", 3)
    for i in range(3):
        assert within_budget(f"GET /e{i}/", 0)
    # Full and nothing expired: newcomers share the OTHER budget.
    assert within_budget("GET /new1/", 1)
    assert within_budget("GET /new2/", 1)
    assert not within_budget("GET /new3/", 1)
    assert len(sampling._budget) == 3 + 1
    assert set(sampling._budget) == {"GET /e0/", "GET /e1/", "GET /e2/", OTHER}
    # An hour on, expired budgets make room for a newcomer of its own.
    assert within_budget("GET /later/", HOUR_NS + 2)
    assert set(sampling._budget) == {"GET /later/"}
