from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from caching.invalidation import InvalidatingQuerySet

WORDS_PER_MINUTE = 220


class Post(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField()
    views = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )

    # update()/bulk_create()/bulk_update() send no signals; this queryset
    # invalidates the cached pages and API responses that depend on posts.
    objects = InvalidatingQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at"]
        indexes = [
            # The popular-posts query: ORDER BY views DESC, id LIMIT n.
            models.Index(fields=["-views", "id"], name="post_popular_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("post-detail", args=[self.pk])

    @property
    def word_count(self) -> int:
        return len(self.body.split())

    @property
    def reading_minutes(self) -> int:
        """Minutes to read the body at 220 words a minute (as app.js counted)."""
        return max(1, round(self.word_count / WORDS_PER_MINUTE))
