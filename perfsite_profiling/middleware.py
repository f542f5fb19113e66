"""``ProfilingMiddleware``: request metrics, sampled profiles, Server-Timing.

Place it right after WhiteNoise and before the compression middleware (system
check ``profiling.E006``): static
files are answered above it (not measured), and the response it sees is the
compressed one, so it reads both sizes (``assets_original_size`` set by the
assets compressor, else the gzip/brotli body itself). Whether the user is
staff is known only after AuthenticationMiddleware, so the staff-only parts
(``?profile=1``, Server-Timing) are decided in ``process_view``, which runs
after every middleware's request phase and right before the view.
"""

from __future__ import annotations

import logging
import random
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import empty

from perfsite_profiling import flusher, profiler, profiles, recorder
from perfsite_profiling.access import is_staff
from perfsite_profiling.conf import conf
from perfsite_profiling.recorder import Recorder
from perfsite_profiling.responses import body_sizes, server_timing
from perfsite_profiling.sampling import endpoint_of, speculative, within_budget
from perfsite_profiling.store import aggregator

logger = logging.getLogger(__name__)


def may_be_staff(request: HttpRequest) -> bool:
    """False when no user can be logged in: no session cookie, no user loaded.

    Saves a session lookup on every anonymous request just to decide whether
    to send Server-Timing.
    """
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return True
    user = getattr(request, "user", None)
    return user is not None and getattr(user, "_wrapped", None) is not empty


class ProfilingMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
            # Django calls an async process_view from its async handler as is.
            self.process_view = self._aprocess_view  # type: ignore[method-assign,assignment]

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        if not (conf.METRICS or conf.ENABLED):
            return self.get_response(request)
        rec = self._begin()
        token = recorder.current.set(rec)
        try:
            response: HttpResponseBase = self.get_response(request)
        finally:
            recorder.current.reset(token)
            if rec.profile is not None:
                self._stop_profile(rec)
        try:
            if self._finish(request, response, rec):
                self._persist(rec)
        except Exception:  # measuring must never break a response
            logger.exception("profiling: could not record %s", rec.endpoint)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = (
            self.get_response
        )
        if not (conf.METRICS or conf.ENABLED):
            return await get_response(request)
        rec = self._begin()
        rec.loop_thread = threading.get_ident()
        token = recorder.current.set(rec)
        try:
            response = await get_response(request)
        finally:
            recorder.current.reset(token)
            if rec.profile is not None:
                # The thread that started it (thread-sensitive, one per request).
                await sync_to_async(self._stop_profile)(rec)
        try:
            if self._finish(request, response, rec):
                await sync_to_async(self._persist)(rec)
        except Exception:  # measuring must never break a response
            logger.exception("profiling: could not record %s", rec.endpoint)
        return response

    def _begin(self) -> Recorder:
        return Recorder(started_ns=recorder.clock())

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: Any,
        kwargs: Any,
    ) -> None:
        rec = recorder.current.get()
        if rec is None:
            return
        if getattr(view, "profiling_exempt", False):
            rec.exempt = True
            return
        rec.endpoint = endpoint_of(request)
        enabled = conf.ENABLED
        # The raw query string first: parsing request.GET costs microseconds
        # on every request, and almost none asks for a profile.
        asked = (
            enabled
            and "profile=" in request.META.get("QUERY_STRING", "")
            and request.GET.get("profile") == "1"
        )
        if asked or conf.SERVER_TIMING == "staff":
            rec.staff = may_be_staff(request) and is_staff(request)
        if not enabled:
            return
        if asked and rec.staff:
            reason = "staff"
        elif (
            random.random() < conf.SAMPLE_RATE
            and not speculative(request)
            and within_budget(rec.endpoint, recorder.clock())
        ):
            reason = "sample"
        else:
            return
        threads = frozenset({rec.loop_thread} if rec.loop_thread else ())
        try:
            rec.profile = profiler.start(
                conf.ENGINE, threads, conf.SAMPLING_INTERVAL / 1000
            )
        except profiler.Busy:
            rec.profiles_skipped += 1
            return
        rec.reason = reason
        rec.profile_ns = recorder.clock()

    async def _aprocess_view(self, request: HttpRequest, *hook: Any) -> None:
        """``process_view`` on the loop, unless it must ask the database
        whether the visitor is staff (``request.user``): then in a thread."""
        if may_be_staff(request) and (
            conf.SERVER_TIMING == "staff"
            or "profile=" in request.META.get("QUERY_STRING", "")
        ):
            await sync_to_async(ProfilingMiddleware.process_view)(self, request, *hook)
        else:
            ProfilingMiddleware.process_view(self, request, *hook)

    def _stop_profile(self, rec: Recorder) -> None:
        running, rec.profile = rec.profile, None
        result = profiler.stop(running, conf.TOP_FUNCTIONS)
        elapsed = recorder.clock() - rec.profile_ns
        empty = result.stacks is not None and not result.stacks["stacks"]
        if empty and rec.reason == "sample":
            return  # shorter than one interval: nothing worth a row
        rec.profile_payload = {
            "reason": rec.reason,
            "engine": result.engine,
            "duration_ms": elapsed / 1e6,
            "python": sys.version.split()[0],
            "threads": threading.active_count(),
            "functions": result.functions,
            "stacks": result.stacks,
            "prof": result.prof,
        }

    def _finish(
        self, request: HttpRequest, response: HttpResponseBase, rec: Recorder
    ) -> bool:
        """Account for the request; True when something must be written."""
        if rec.exempt:
            return False
        total_ns = recorder.clock() - rec.started_ns
        if not rec.endpoint:
            rec.endpoint = endpoint_of(request)
        flagged = (
            {
                id(g)
                for g in rec.n_plus_one(
                    conf.N_PLUS_ONE_THRESHOLD, conf.N_PLUS_ONE_MIN_MS
                )
            }
            if rec.groups
            else set()
        )
        sql = [
            {
                "sql": g.fingerprint,
                "site": g.site,
                "count": g.count,
                "ms": round(g.total_ns / 1e6, 3),
                "slow": g.slow,
                "n_plus_one": int(id(g) in flagged),
            }
            for g in sorted(rec.groups.values(), key=lambda g: -g.total_ns)
        ]
        payload = rec.profile_payload
        if payload is not None:
            payload["sql"] = sql[:50]
            if not profiles.queue(rec.endpoint, payload):
                logger.debug("profiling: profile queue full, %s dropped", rec.endpoint)
                payload = rec.profile_payload = None
                rec.profiles_skipped += 1
        timing_for = conf.SERVER_TIMING
        if timing_for == "all" or (timing_for == "staff" and rec.staff):
            timing = server_timing(rec, total_ns)
            if response.has_header("Server-Timing"):  # the view's own metrics stay
                timing = f"{response['Server-Timing']}, {timing}"
            response["Server-Timing"] = timing
            if conf.TIMING_ALLOW_ORIGIN:
                response["Timing-Allow-Origin"] = conf.TIMING_ALLOW_ORIGIN
        if conf.METRICS:
            sizes = body_sizes(response)
            counters = {
                "requests": 1,
                "total_us": total_ns // 1000,
                "db_us": rec.db_ns // 1000,
                "cache_us": rec.cache_ns // 1000,
                "queries": rec.queries,
                "cache_hits": rec.cache_hits,
                "cache_misses": rec.cache_misses,
                "sized_responses": int(sizes is not None),
                "bytes_original": sizes[0] if sizes else 0,
                "bytes_sent": sizes[1] if sizes else 0,
                "slow_queries": rec.slow_queries,
                "n_plus_one": len(flagged),
                "profiles": int(rec.profile_payload is not None),
                "profiles_skipped": rec.profiles_skipped,
            }
            kept = [
                {k: v for k, v in e.items() if k != "site"}
                for e in sql
                if e["slow"] or e["n_plus_one"]
            ]
            rec.flush_due = aggregator.add(rec.endpoint, counters, kept)
            flusher.ensure_started()
        if payload is None:
            return rec.flush_due
        # A staff member waits for their profile; with metrics off no flush
        # would ever come.
        return rec.flush_due or rec.reason == "staff" or not conf.METRICS

    def _persist(self, rec: Recorder) -> None:
        if rec.flush_due:
            aggregator.flush()
        profiles.flush()
