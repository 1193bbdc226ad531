"""Citizen field reports (phản ánh hiện trường): a citizen reports a problem at a place, an
agency is assigned with a deadline, it responds, the citizen rates the answer, the report is
closed.

Every event carries ``report_id`` (the Kafka key), the ``category``, the place's ``unit_code``
and ``reported_at``, so counts per category, unit and response times need no lookup.  The
assigned ``agency`` is a code from the province file: a province agency (``so-tnmt``), a
utility (``pc-kg``) or, for a district-level answer, the district's unit code (``899``).
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import Field, model_validator

from streams.core.contracts.base import Code, GeoPoint, UtcDatetime
from streams.core.contracts.common import Detail, FeedEvent, Message, Reference, text

Category = Literal[
    "environment", "traffic", "urban_order", "infrastructure", "electricity", "water_supply",
    "flooding", "security_order", "land", "health", "education", "other",
]
CATEGORIES: tuple[str, ...] = get_args(Category)
Resolution = Literal["resolved", "rejected", "duplicate", "out_of_scope"]
ReportChannel = Literal["app", "web", "hotline", "social"]
Title = text(200, min_length=1)
PhotoRef = text(300, min_length=1)
Address = text(300)


class CitizenBase(FeedEvent):
    key_field: ClassVar[str] = "report_id"

    dateObserved: UtcDatetime
    report_id: Reference
    category: Category
    unit_code: Code
    reported_at: UtcDatetime
    location: GeoPoint | None = None

    @model_validator(mode="after")
    def _reported(self) -> CitizenBase:
        if self.reported_at > self.dateObserved:
            raise ValueError("reported_at is after dateObserved")
        return self


class ReportCreated(CitizenBase):
    type: Literal["ReportCreated"]
    location: GeoPoint
    title: Title
    description: Message = ""
    address: Address | None = None
    photos: Annotated[list[PhotoRef], Field(max_length=10)] = []
    channel: ReportChannel


class ReportAssigned(CitizenBase):
    type: Literal["ReportAssigned"]
    agency: Code
    deadline: UtcDatetime

    @model_validator(mode="after")
    def _deadline(self) -> ReportAssigned:
        if self.deadline <= self.reported_at:
            raise ValueError("deadline is not after reported_at")
        return self


class ReportResponded(CitizenBase):
    type: Literal["ReportResponded"]
    agency: Code
    response: Annotated[Message, Field(min_length=1)]
    deadline: UtcDatetime | None = None


class ReportRated(CitizenBase):
    type: Literal["ReportRated"]
    agency: Code | None = None
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Detail | None = None


class ReportClosed(CitizenBase):
    type: Literal["ReportClosed"]
    agency: Code | None = None
    resolution: Resolution


CITIZEN_MODELS = (ReportCreated, ReportAssigned, ReportResponded, ReportRated, ReportClosed)
CitizenEvent = Annotated[
    ReportCreated | ReportAssigned | ReportResponded | ReportRated | ReportClosed,
    Field(discriminator="type"),
]
