"""The error families ``FailoverCache`` tells apart."""

from __future__ import annotations

import pickle

from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import (
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
)

from caching.serializer import JunkValue

# The whole Redis error family (connection, timeout, OOM/BUSY/LOADING/READONLY
# responses, invalid responses), never programming errors. redis-py's cluster
# client raises RedisClusterException (not a RedisError) when no seed answers
# or a slot has no master.
REDIS_ERRORS: tuple[type[BaseException], ...] = (
    RedisError,
    RedisClusterException,
    ConnectionInterrupted,
)
# What decoding a value written by other code (or another release) raises;
# with the default serializer, always JunkValue.
DECODE_ERRORS = (
    JunkValue,
    pickle.UnpicklingError,
    AttributeError,
    ImportError,
    EOFError,
    ValueError,
)


def refused(error: BaseException) -> bool:
    """Whether Redis refused a write it would have served as a read."""
    current: BaseException | None = error
    while current is not None:  # django-redis wraps redis-py's errors
        if isinstance(current, OutOfMemoryError | ReadOnlyError) or (
            isinstance(current, ResponseError) and str(current).startswith("MISCONF")
        ):
            return True
        current = current.__cause__
    return False
