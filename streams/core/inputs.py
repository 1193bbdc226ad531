"""Operator text on its way to the database: stored exactly as typed, or refused with a reason.

PostgreSQL cannot store a NUL character in ``text`` or ``jsonb``, and a lone UTF-16 surrogate
(which a JSON body can carry as ``\\ud800``) cannot be encoded at all; without a check either
surfaces as a driver error half-way through a request.  Everything else — quotes, semicolons,
backslashes, markup, Vietnamese — is ordinary text: queries take it as parameters.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.core.errors import InputError


def problem(value: str) -> str | None:
    """Why ``value`` cannot be stored verbatim, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode"
    return None


def storable(value: str, what: str) -> str:
    """``value`` itself, or ``InputError`` naming the field."""
    if isinstance(value, str) and (why := problem(value)):
        raise InputError(f"{what} {why}; nothing was changed")
    return value


def check_all(fields: Mapping[str, Any]) -> None:
    """``storable`` on every string of ``fields`` (name -> value), nested lists and dicts included."""
    for what, value in fields.items():
        for text in _strings(value):
            storable(text, what)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def recordable(value: str) -> str:
    """A version of ``value`` that can always be stored: for records of what was tried (a sign-in
    attempt's user name), where refusing to record would hide the attempt."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
