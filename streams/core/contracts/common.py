"""Field types shared by the feed families after ``health``.

Every text field has a maximum length and refuses the NUL character (PostgreSQL cannot store
it, and no producer has a reason to send it).  ``Reference`` is the form of the identifiers
that other systems give out (dossier numbers, procedure codes, report numbers): letters of
either case, digits and ``. _ / -``.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

from streams.core.contracts.base import Event, no_nul


def text(max_length: int, *, min_length: int = 0) -> Any:
    """A string of ``min_length`` to ``max_length`` characters, without NUL."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(no_nul)]


Ident = text(128, min_length=1)
"""An event id: unique per event, 1 to 128 characters."""

Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
"""An identifier given out by another system (dossier number, procedure code, report number)."""

Name = text(200)
Detail = text(1000)
Message = text(4000)


class FeedEvent(Event):
    """Base of the security, camera, sensor, dossier and citizen contracts."""

    id: Ident
