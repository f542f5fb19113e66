"""Fill the database with demo users and posts, fast and idempotently.

Rows are generated from their index with a seeded RNG, so a re-run creates only
what is missing and a given row always has the same content.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser, OutputWrapper
from django.db import transaction
from django.utils import timezone

from perfsite.models import Post

USER_PREFIX = "demo-user-"
SLUG_PREFIX = "demo-post-"
BATCH = 2000

_WORDS = [
    "cache",
    "latency",
    "query",
    "index",
    "render",
    "bundle",
    "profile",
    "worker",
    "replica",
    "header",
    "static",
    "request",
    "response",
    "template",
    "compress",
    "signal",
    "version",
    "stampede",
    "fallback",
    "budget",
    "python",
    "django",
    "redis",
    "postgres",
    "browser",
    "network",
    "layout",
    "image",
    "script",
    "stylesheet",
]
_SENTENCES = (
    "Measure before you optimise, then measure again.",
    "A cache that lies is worse than no cache at all.",
    "Every round trip to the database has a price.",
    "The fastest request is the one the browser never makes.",
    "Indexes turn full scans into quick lookups.",
    "Compression trades a little CPU for a lot of bandwidth.",
    "Invalidation is the hard part; expiry is the easy part.",
    "Profile the slow path, not the path you suspect.",
    "Static files deserve long cache lifetimes and content hashes.",
    "Several workers share nothing but what you put in Redis.",
)


class ProgressBar:
    """A terminal progress bar that stays silent when output is not a terminal."""

    def __init__(
        self, label: str, total: int, stream: OutputWrapper, width: int = 30
    ) -> None:
        self.label, self.total, self.stream, self.width = label, total, stream, width
        self.done = 0
        self.enabled = total > 0 and stream.isatty()

    def advance(self, count: int) -> None:
        self.done += count
        if self.enabled:
            filled = self.width * self.done // self.total
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(
                f"\r{self.label:<6} [{bar}] {self.done}/{self.total}", ending=""
            )
            if self.done >= self.total:
                self.stream.write("")
            self.stream.flush()


def _batches(start: int, stop: int) -> Iterator[range]:
    for low in range(start, stop, BATCH):
        yield range(low, min(low + BATCH, stop))


def _user(index: int, now: datetime, password: str) -> Any:
    rng = random.Random(f"user-{index}")
    # About 1% joined today; the rest spread over two years.
    joined = (
        now - timedelta(seconds=rng.randrange(0, 3600))
        if rng.random() < 0.01
        else (now - timedelta(days=rng.uniform(1, 730)))
    )
    active = rng.random() < 0.4
    last_login = now - timedelta(days=rng.uniform(0, 29)) if active else None
    return get_user_model()(
        username=f"{USER_PREFIX}{index}",
        email=f"{USER_PREFIX}{index}@example.com",
        password=password,
        date_joined=joined,
        last_login=last_login,
    )


def _post(index: int, now: datetime, author_ids: list[int]) -> Post:
    rng = random.Random(f"post-{index}")
    words = rng.sample(_WORDS, 4)
    title = " ".join(words).capitalize() + f" ({index})"
    body = "\n\n".join(
        " ".join(rng.choice(_SENTENCES) for _ in range(rng.randint(3, 6)))
        for _ in range(rng.randint(2, 4))
    )
    return Post(
        title=title,
        slug=f"{SLUG_PREFIX}{index}",
        body=body,
        # A long-tailed popularity, as real blogs have.
        views=int(rng.paretovariate(1.2) * 10),
        published_at=now - timedelta(minutes=rng.randrange(0, 730 * 24 * 60)),
        author_id=author_ids[index % len(author_ids)],
    )


class Command(BaseCommand):
    help = "Create demo users and posts (idempotent: only missing rows are added)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--users", type=int, default=1000, help="Demo users wanted."
        )
        parser.add_argument(
            "--posts", type=int, default=10000, help="Demo posts wanted."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the database has any post.",
        )

    def handle(
        self, *args: Any, users: int, posts: int, if_empty: bool, **options: Any
    ) -> None:
        if users < 1 or posts < 0:
            self.stderr.write("--users must be at least 1 and --posts at least 0.")
            sys.exit(2)
        if if_empty and Post.objects.exists():
            self.stdout.write(
                "seed_demo: the database has posts already; nothing to do."
            )
            return
        now = timezone.now()
        User = get_user_model()
        password = make_password(None)  # unusable; computed once, not per user
        made_users = self._fill(
            "users",
            User.objects.filter(username__startswith=USER_PREFIX).count(),
            users,
            lambda i: _user(i, now, password),
            User.objects.bulk_create,
        )
        author_ids = list(
            User.objects.filter(username__startswith=USER_PREFIX)
            .order_by("id")
            .values_list("id", flat=True)[:users]
        )
        made_posts = self._fill(
            "posts",
            Post.objects.filter(slug__startswith=SLUG_PREFIX).count(),
            posts,
            lambda i: _post(i, now, author_ids),
            Post.objects.bulk_create,
        )
        self.stdout.write(
            f"seed_demo: {made_users} users and {made_posts} posts created "
            f"({User.objects.count()} users, {Post.objects.count()} posts in total)."
        )

    def _fill(
        self,
        label: str,
        existing: int,
        wanted: int,
        make: Callable[[int], Any],
        bulk_create: Callable[..., Any],
    ) -> int:
        missing = max(0, wanted - existing)
        bar = ProgressBar(label, missing, self.stderr)
        with transaction.atomic():
            for batch in _batches(existing, existing + missing):
                bulk_create([make(i) for i in batch], ignore_conflicts=True)
                bar.advance(len(batch))
        return missing
