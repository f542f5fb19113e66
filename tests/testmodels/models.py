"""Models only the tests use: a proxy, a multi-table pair, an explicit m2m
through model, and a model that is watched only through its proxy."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from caching.invalidation import InvalidatingQuerySet
from perfsite.models import Post


class PostProxy(Post):
    class Meta:
        proxy = True

    def __str__(self) -> str:
        return self.title


class Article(models.Model):
    """A multi-table parent."""

    title = models.CharField(max_length=100)

    objects = InvalidatingQuerySet.as_manager()

    def __str__(self) -> str:
        return self.title


class Story(Article):
    """A multi-table child: its rows are rows of ``Article`` too."""

    lede = models.CharField(max_length=100, default="")

    def __str__(self) -> str:
        return self.title


class Member(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Club(models.Model):
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(Member, through="Membership", related_name="clubs")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    club = models.ForeignKey(Club, on_delete=models.CASCADE)
    member = models.ForeignKey(Member, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, default="member")

    def __str__(self) -> str:
        return f"{self.member} in {self.club}"


class Tag(models.Model):
    """Deleted by cascade with its owner; watched only through ``TagProxy``."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    def __str__(self) -> str:
        return self.name


class TagProxy(Tag):
    class Meta:
        proxy = True

    def __str__(self) -> str:
        return self.name
