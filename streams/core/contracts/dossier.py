"""Public-service dossier events (hồ sơ thủ tục hành chính), as a one-stop system reports them.

Every event carries the dossier's standing facts (procedure, receiving unit and its level,
channel, online kind, received and due dates, digitised flag), so an indicator can count
without remembering earlier events.  The lifecycle: ``DossierReceived``, any number of
``DossierProcessed`` (a step: thụ lý, trình ký …), then one of ``DossierResolved`` (with
``outcome`` early / on_time / late), ``DossierReturned`` (sent back to the applicant) or
``DossierWithdrawn``.  ``DossierCarriedOver`` is a snapshot the system sends for each open
dossier at the start of a day (and on start-up), so "carried over" is known for any period
that starts at midnight, local time.

``online_kind`` is how the procedure is provided online (Decree 42/2022/NĐ-CP):
``full_process`` (toàn trình), ``partial`` (một phần), or absent when it is not online.

``auth_method`` (optional; systems that do not report it leave it out) is how the applicant of an
online dossier signed in: ``vneid`` (the national electronic identity, VNeID, through the national
public-service portal), ``local`` (an account of the province's own portal) or ``none`` (no
sign-in).  It measures the plan's target "citizens authenticated with the national e-ID".
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from streams.core.clock import LOCAL_TZ
from streams.core.contracts.base import Code, UtcDatetime
from streams.core.contracts.common import Detail, FeedEvent, Name, Reference, text

AdminLevel = Literal["province", "district", "commune"]
Channel = Literal["in_person", "online", "postal"]
OnlineKind = Literal["full_process", "partial"]
AuthMethod = Literal["vneid", "local", "none"]
Outcome = Literal["early", "on_time", "late"]
ProcedureName = text(300)


def outcome_of(resolved: datetime, due: datetime) -> str:
    """late after the due time; on_time on the due day (local); early on an earlier day."""
    if resolved > due:
        return "late"
    return "on_time" if resolved.astimezone(LOCAL_TZ).date() == due.astimezone(LOCAL_TZ).date() else "early"


class DossierBase(FeedEvent):
    key_field: ClassVar[str] = "dossier_id"

    dateObserved: UtcDatetime
    dossier_id: Reference
    procedure_code: Reference
    procedure_name: ProcedureName | None = None
    unit_code: Code
    level: AdminLevel
    channel: Channel
    online_kind: OnlineKind | None = None
    received_date: UtcDatetime
    due_date: UtcDatetime
    digitised: bool = False
    auth_method: AuthMethod | None = None

    @model_validator(mode="after")
    def _dates(self) -> DossierBase:
        if self.received_date > self.dateObserved:
            raise ValueError("received_date is after dateObserved")
        if self.due_date < self.received_date:
            raise ValueError("due_date is before received_date")
        if self.channel == "online" and self.online_kind is None:
            raise ValueError("an online dossier needs online_kind (full_process or partial)")
        return self


class DossierReceived(DossierBase):
    type: Literal["DossierReceived"]


class DossierProcessed(DossierBase):
    type: Literal["DossierProcessed"]
    step: Name


class DossierResolved(DossierBase):
    type: Literal["DossierResolved"]
    resolved_date: UtcDatetime
    outcome: Outcome
    result_digitised: bool = False

    @model_validator(mode="after")
    def _outcome(self) -> DossierResolved:
        if not self.received_date <= self.resolved_date <= self.dateObserved:
            raise ValueError("resolved_date must lie between received_date and dateObserved")
        late = self.resolved_date > self.due_date
        if late != (self.outcome == "late"):
            raise ValueError(f"outcome {self.outcome!r} contradicts resolved_date and due_date")
        return self


class DossierReturned(DossierBase):
    type: Literal["DossierReturned"]
    reason: Detail


class DossierWithdrawn(DossierBase):
    type: Literal["DossierWithdrawn"]
    reason: Detail | None = None


class DossierCarriedOver(DossierBase):
    type: Literal["DossierCarriedOver"]


DOSSIER_MODELS = (DossierReceived, DossierProcessed, DossierResolved, DossierReturned, DossierWithdrawn,
                  DossierCarriedOver)
DossierEvent = Annotated[
    DossierReceived | DossierProcessed | DossierResolved | DossierReturned | DossierWithdrawn | DossierCarriedOver,
    Field(discriminator="type"),
]
