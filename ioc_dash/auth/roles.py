"""Who may do what.  Pure: a principal and a permission name; no Flask, no database.

    permission     viewer  operator  admin  wall token
    view             ✓        ✓        ✓        ✓       the wall and the console's read-only pages
    alerts.act                ✓        ✓                acknowledge, assign, comment, silence, resolve
    drills.run                         ✓                start and stop drills and replays
    users.manage                       ✓                see users and wall tokens
    register.manage                    ✓                edit, import and retire security-register entries
    snapshots.view            ✓        ✓       (✓)      camera snapshots; a wall token only when
                                                        IOC_DASH_WALL_SNAPSHOTS=1 (``may_view_snapshots``)
"""
from __future__ import annotations

from dataclasses import dataclass

from streams.core.errors import AuthError, Forbidden

ROLES = ("viewer", "operator", "admin")

PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "alerts.act": frozenset({"operator", "admin"}),
    "drills.run": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
    "register.manage": frozenset({"admin"}),
    "snapshots.view": frozenset({"operator", "admin"}),
}
WALL_PERMISSIONS = frozenset({"view"})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request comes from: a signed-in user, or a wall screen holding a token."""

    name: str
    role: str
    kind: str = "user"  # user | wall
    id: int = 0

    @property
    def is_wall(self) -> bool:
        return self.kind == "wall"


def can(principal: Principal | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}")
    if principal is None:
        return False
    if principal.is_wall:
        return permission in WALL_PERMISSIONS
    return principal.role in PERMISSIONS[permission]


def may_view_snapshots(principal: Principal | None, *, wall_allowed: bool) -> bool:
    """Camera snapshots show people: operators and admins may see them, viewers not, a wall screen
    only where the setting allows it."""
    if principal is not None and principal.is_wall:
        return wall_allowed
    return can(principal, "snapshots.view")


def require(principal: Principal | None, permission: str) -> Principal:
    """The principal, when its role includes ``permission``; ``Forbidden`` otherwise."""
    if principal is None or not can(principal, permission):
        raise Forbidden(permission, who=principal.name if principal else "anonymous",
                        role=principal.role if principal else "none")
    return principal


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    return role
