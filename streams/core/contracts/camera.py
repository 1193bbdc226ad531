"""Camera events in ONVIF / Frigate vocabulary: analytics detections and camera health.

A detection is a *track*: Frigate sends ``new`` when an object appears, ``update`` while it is
followed and ``end`` when it leaves, all with the same ``event_id``; ``id`` is unique per
message (``event_id`` alone repeats across phases).  ``rule`` names the ONVIF analytics rule:
``FieldDetector/ObjectsInside`` is an intrusion into a zone, ``LineDetector/Crossed`` a line
crossing, ``LoiteringDetector`` loitering and ``ObjectDetector`` a plain detection.

Health comes from the VMS (``online`` / ``offline``, re-sent as a heartbeat) and from ONVIF
``VideoSource`` property events: ``SignalLoss`` and the tamper conditions ``ImageTooDark``,
``ImageTooBlurry`` and ``GlobalSceneChange``, with ``active`` true when the condition starts
and false when it clears.  Cameras, their area, border zone and network link (``parent``) are
in the province file, not in the events.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import Field, model_validator

from streams.core.contracts.base import Code, GeoPoint, Ratio, UtcDatetime
from streams.core.contracts.common import FeedEvent, Ident, Name, text

Phase = Literal["new", "update", "end"]
Rule = Literal["FieldDetector/ObjectsInside", "LineDetector/Crossed", "LoiteringDetector", "ObjectDetector"]
RULES: tuple[str, ...] = get_args(Rule)
INTRUSION = "FieldDetector/ObjectsInside"

Condition = Literal[
    "online",
    "offline",
    "VideoSource/SignalLoss",
    "VideoSource/ImageTooDark",
    "VideoSource/ImageTooBlurry",
    "VideoSource/GlobalSceneChange",
]
CONDITIONS: tuple[str, ...] = get_args(Condition)
TAMPER: tuple[str, ...] = ("VideoSource/ImageTooDark", "VideoSource/ImageTooBlurry", "VideoSource/GlobalSceneChange")
SnapshotRef = text(300)


class CameraDetection(FeedEvent):
    """One message of an analytics track (Frigate ``events`` / ONVIF RuleEngine)."""

    key_field: ClassVar[str] = "camera"

    type: Literal["CameraDetection"]
    event_id: Ident
    camera: Code
    dateObserved: UtcDatetime
    phase: Phase
    rule: Rule
    label: Code
    score: Ratio
    zones: Annotated[list[Code], Field(max_length=16)] = []
    start_time: UtcDatetime
    end_time: UtcDatetime | None = None
    snapshot: SnapshotRef | None = None
    location: GeoPoint | None = None

    @model_validator(mode="after")
    def _times(self) -> CameraDetection:
        if self.start_time > self.dateObserved:
            raise ValueError("start_time is after dateObserved")
        if (self.phase == "end") != (self.end_time is not None):
            raise ValueError("end_time is given with phase 'end', and only then")
        if self.end_time is not None and not self.start_time <= self.end_time <= self.dateObserved:
            raise ValueError("end_time must lie between start_time and dateObserved")
        return self

    @property
    def is_intrusion(self) -> bool:
        return self.rule == INTRUSION


class CameraHealth(FeedEvent):
    """A camera's state: VMS ``online``/``offline`` (also as heartbeat) or an ONVIF VideoSource condition."""

    key_field: ClassVar[str] = "camera"

    type: Literal["CameraHealth"]
    camera: Code
    dateObserved: UtcDatetime
    condition: Condition
    active: bool = True
    reason: Name | None = None
    location: GeoPoint | None = None

    @model_validator(mode="after")
    def _active(self) -> CameraHealth:
        if self.condition in ("online", "offline") and not self.active:
            raise ValueError("online/offline are states: `active` must be true")
        return self

    @property
    def is_tamper(self) -> bool:
        return self.condition in TAMPER


CAMERA_MODELS = (CameraDetection, CameraHealth)
CameraEvent = Annotated[CameraDetection | CameraHealth, Field(discriminator="type")]
