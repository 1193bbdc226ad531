"""Information-system health: synthetic probes and request logs.

Systems are the province's shared platforms, by code: ``eoffice`` (e-office), ``dvc``
(public-service portal), ``email`` (official e-mail), ``baocao`` (reporting system), ``gis``,
``lgsp`` (data-integration platform), ``ndxp`` (link to the national platform) and
``callcenter``.  Codes come from the province data file; the contract only checks their form.

``DocumentTally`` is what the e-office system itself counts for one unit on the local day
(Asia/Ho_Chi_Minh) of its ``dateObserved``, so far that day: the documents the unit sent to other state agencies and how many of them went
electronically, the work records it handled and how many of them online.  It measures the
plan's targets "documents exchanged between state agencies in electronic form" and "work
records handled online"; counts only grow within a day, so a re-sent or repeated tally changes
nothing.  Producers that do not count send none: the targets then stay "not measured".
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from streams.core.contracts.base import Code, Event, IpAddress, Latency, ShortText, UtcDatetime


class ServiceProbe(Event):
    """Result of one synthetic check of a system's endpoint (HTTP, TCP or API call)."""

    key_field: ClassVar[str] = "system"

    type: Literal["ServiceProbe"]
    system: Code
    endpoint: ShortText = "/"
    dateObserved: UtcDatetime
    success: bool
    latency_ms: Latency
    status_code: Annotated[int, Field(ge=100, le=599)] | None = None
    error: ShortText | None = None


class RequestLog(Event):
    """One request served by a system, from its web-server access log."""

    key_field: ClassVar[str] = "system"

    type: Literal["RequestLog"]
    system: Code
    endpoint: ShortText
    dateObserved: UtcDatetime
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    status_code: Annotated[int, Field(ge=100, le=599)]
    latency_ms: Latency
    client_ip: IpAddress
    bytes_sent: Annotated[int, Field(ge=0)] | None = None


Count = Annotated[int, Field(ge=0, le=10_000_000)]


class DocumentTally(Event):
    """The e-office's counts for one unit on the local day of ``dateObserved``, so far (they only grow
    during the day)."""

    key_field: ClassVar[str] = "system"

    type: Literal["DocumentTally"]
    system: Code
    dateObserved: UtcDatetime
    unit_code: Code
    level: Literal["province", "district", "commune"]
    documents_sent: Count  # to other state agencies, classified ones excluded
    documents_sent_electronic: Count  # of those, sent as electronic documents
    work_records: Count | None = None  # work records (hồ sơ công việc) handled, classified ones excluded
    work_records_online: Count | None = None  # of those, handled online

    @model_validator(mode="after")
    def _parts(self) -> DocumentTally:
        if self.documents_sent_electronic > self.documents_sent:
            raise ValueError("documents_sent_electronic is more than documents_sent")
        if (self.work_records is None) != (self.work_records_online is None):
            raise ValueError("work_records and work_records_online come together")
        if self.work_records is not None and self.work_records_online > self.work_records:  # type: ignore[operator]
            raise ValueError("work_records_online is more than work_records")
        return self


HEALTH_MODELS = (ServiceProbe, RequestLog, DocumentTally)
HealthEvent = Annotated[ServiceProbe | RequestLog | DocumentTally, Field(discriminator="type")]
