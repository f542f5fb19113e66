from __future__ import annotations

import pytest

from assets.negotiation import (
    choose_encoding,
    none_match,
    parse_accept_encoding,
    parse_etags,
)

OFFERED = ["br", "gzip"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("br", "br"),
        ("gzip", "gzip"),
        ("gzip, deflate, br", "br"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0", "identity"),
        ("br;q=0.5, gzip;q=0.8", "gzip"),
        ("BR;Q=1", "br"),
        ("*", "br"),
        ("*;q=0.5, gzip", "gzip"),
        ("identity", "identity"),
        ("identity;q=0, br;q=0, gzip;q=0", None),
        ("*;q=0", None),
        ("*;q=0, identity", "identity"),
        ("gzip;q=abc", "identity"),
        ("gzip;q=2", "identity"),
        ("deflate", "identity"),
        ("", "identity"),
        (None, "identity"),
        (" , br", "br"),
    ],
)
def test_choose_encoding_honours_q_values(
    header: str | None, expected: str | None
) -> None:
    assert choose_encoding(header, OFFERED) == expected


def test_server_preference_breaks_ties() -> None:
    assert choose_encoding("br, gzip", ["gzip", "br"]) == "gzip"
    assert choose_encoding("br;q=0.9, gzip", ["br", "gzip"]) == "gzip"


def test_parse_accept_encoding() -> None:
    assert parse_accept_encoding("gzip;q=0.5;foo=bar, br") == {"gzip": 0.5, "br": 1.0}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"a"', ['"a"']),
        ('"a", W/"b" ,"c"', ['"a"', 'W/"b"', '"c"']),
        ("*", None),
        ('junk, "a"', ['"a"']),
        ('"a", "unterminated', ['"a"']),
        ("", []),
    ],
)
def test_parse_etags(header: str, expected: list[str] | None) -> None:
    assert parse_etags(header) == expected


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"x"', True),
        ('W/"x"', True),
        ('"y", "x"', True),
        ("*", True),
        ('"y"', False),
        (None, False),
    ],
)
def test_none_match_uses_weak_comparison(header: str | None, matches: bool) -> None:
    assert none_match(header, ['"x"']) is matches
    assert none_match(header, ['W/"x"']) is matches
