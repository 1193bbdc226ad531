"""Names and passwords: the policy, and argon2id hashing (argon2-cffi).  No database here."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from streams.core.errors import AuthError

NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")  # the same pattern guards the table
MIN_LENGTH = 10
MAX_LENGTH = 256


def normalise_name(name: str) -> str:
    """User and token names are case-insensitive: stored and compared in lower case."""
    return (name or "").strip().lower()


def check_name(name: str) -> str:
    name = normalise_name(name)
    if not NAME.match(name):
        raise AuthError(f"name {name!r} must be 2-64 characters: letters, digits and . _ @ - (not first)")
    return name


def check_password(name: str, password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise AuthError(f"password too short: at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise AuthError(f"password too long: at most {MAX_LENGTH} characters")
    if password.strip().lower() == normalise_name(name):
        raise AuthError("password must not be the user name")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise AuthError("password is not valid Unicode") from None
    return password


class Passwords:
    """argon2id hashes.  ``verify`` costs the same whether or not the user exists."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy = self.hasher.hash("no such user, but spend the same time")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one uses old parameters)."""
        try:
            self.hasher.verify(stored or self._dummy, password)
        except (VerificationError, InvalidHashError, UnicodeEncodeError):  # no password hashes to broken Unicode
            return False, None
        if stored is None:
            return False, None
        return True, (self.hasher.hash(password) if self.hasher.check_needs_rehash(stored) else None)
