"""Shared pieces of every event contract.

Contracts are pydantic models: they validate what enters, and they generate the JSON Schema
published in ``docs/schemas/`` for producers outside this codebase.  Numbers, booleans and
strings are strict (``"12"`` is not a latency); timestamps are ISO 8601 with an offset and are
converted to UTC; NaN and infinities are refused.  Whatever is accepted can be stored: no text
holds a NUL character, no address a zone (``fe80::1%eth0``), no timestamp leaves the calendar
when converted to UTC (year 1 at +01:00).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from ipaddress import ip_address
from operator import attrgetter
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is timezone.utc:
        return value
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is out of range once converted to UTC") from None


def no_nul(value: str) -> str:
    """PostgreSQL cannot store NUL in text, and no producer has a reason to send it."""
    if "\x00" in value:
        raise ValueError("text contains a NUL character")
    return value


UtcDatetime = Annotated[AwareDatetime, Field(strict=False), AfterValidator(to_utc)]
"""An ISO 8601 timestamp with an offset (``2026-11-27T08:00:00+07:00`` or ``…Z``), kept in UTC."""

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.:-]{0,63}$")]
"""A lower-case identifier: system code, camera id, station id, unit code."""

EventId = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(no_nul)]
ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(no_nul)]
LongText = Annotated[str, StringConstraints(max_length=4000), AfterValidator(no_nul)]
Latency = Annotated[float, Field(ge=0, le=600_000, description="milliseconds")]
Ratio = Annotated[float, Field(ge=0, le=1)]


_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")
"""A dotted IPv4 address in its canonical form: what ``str(ip_address(value))`` gives back unchanged."""


@lru_cache(maxsize=65536)  # a log repeats its addresses: most are answered from here
def _ip(value: str) -> str:
    if _IPV4.fullmatch(value):  # most addresses: ten times cheaper than parsing them with ipaddress
        return value
    return _parse_ip(value)


def _parse_ip(value: str) -> str:  # cached by _ip
    try:
        address = ip_address(value)
    except ValueError:
        raise ValueError(f"not an IPv4 or IPv6 address: {value[:64]!r}") from None
    if getattr(address, "scope_id", None) is not None:  # PostgreSQL's inet has no zones
        raise ValueError(f"an address with a zone is not accepted: {value[:64]!r}")
    return str(address)


IpAddress = Annotated[str, StringConstraints(max_length=45), AfterValidator(_ip)]
Port = Annotated[int, Field(ge=0, le=65535)]


class GeoPoint(BaseModel):
    """GeoJSON point; coordinates are ``[longitude, latitude]``."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
    type: Literal["Point"] = "Point"
    coordinates: Annotated[list[float], Field(min_length=2, max_length=3)]

    @property
    def lon(self) -> float:
        return self.coordinates[0]

    @property
    def lat(self) -> float:
        return self.coordinates[1]


class Event(BaseModel):
    """Base of every event.  ``id`` is unique per event: the same id twice counts once."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, strict=True, allow_inf_nan=False, str_strip_whitespace=True
    )

    #: name of the field that holds the event time
    time_field: ClassVar[str] = "dateObserved"
    #: name of the field that is the Kafka key (the entity the event is about)
    key_field: ClassVar[str] = "id"

    id: EventId

    @property
    def event_time(self) -> datetime:
        """The event's time (its ``time_field``); each event model reads it at C speed (see below)."""
        return self.__dict__[self.time_field]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.time_field in cls.model_fields:  # read several times per event on the hot path
            cls.event_time = property(attrgetter(cls.time_field), doc="The event's time (its ``time_field``).")  # type: ignore[assignment,method-assign]

    @property
    def entity(self) -> str:
        return str(getattr(self, self.key_field))

    @property
    def location_point(self) -> GeoPoint | None:
        return self.optional("location")

    def optional(self, name: str) -> Any:
        """The value of a field that some event types of a feed lack, or None.  Not ``getattr(e, name,
        None)``: a missing field takes pydantic's slow path, an exception per call, once per event."""
        return self.__dict__.get(name)
