"""The pickle serializer of ``FailoverCache``: junk in Redis is a miss, not a 500.

Redis is shared: another program, an older release or a bit flip can leave
bytes that do not unpickle. ``pickle.loads`` then raises almost anything
(``UnpicklingError``, ``ValueError`` for an unknown protocol, ``KeyError``,
``UnicodeDecodeError``, ``ImportError``...). This serializer turns all of
them into one ``JunkValue``, which the backend treats as an absent key.
"""

from __future__ import annotations

from typing import Any

from django_redis.serializers.pickle import PickleSerializer


class JunkValue(Exception):
    """A stored value that cannot be decoded."""


class SafePickleSerializer(PickleSerializer):  # type: ignore[misc]
    def loads(self, value: bytes) -> Any:
        try:
            return super().loads(value)
        except Exception as exc:  # whatever junk makes pickle raise
            raise JunkValue(f"undecodable cache value ({exc!r})") from exc
