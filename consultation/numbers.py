"""Whole numbers typed or posted as text (ids, page numbers, positions)."""

from __future__ import annotations


def whole_number(text: str, *, digits: int = 18) -> int | None:
    """The number ASCII digits spell, at most `digits` of them (18 fit a database's bigint), or None.

    str.isdigit() and int() alone would accept "²" or "١٢" and numbers too large to look up.
    """
    if text.isascii() and text.isdecimal() and len(text) <= digits:
        return int(text)
    return None
