"""Passwords, tokens and the constant-time checks of the studio (no web framework here).

- Passwords are hashed with Argon2id (``argon2-cffi``'s defaults, the RFC 9106
  low-memory profile); a hash made with older parameters is re-hashed on the next
  successful sign-in (:func:`verify_password` says so).
- A session token is 256 random bits; the cookie carries it signed
  (``itsdangerous``), and the database keeps only :func:`token_hash` of it.
- CSRF tokens are compared with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeSerializer

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "CookieSigner",
    "check_password_rules",
    "hash_password",
    "new_token",
    "token_hash",
    "tokens_match",
    "verify_password",
]

#: The shortest password ``users add`` and ``set-password`` accept.
MIN_PASSWORD_LENGTH = 10

_HASHER = PasswordHasher()
# A fixed hash to verify against when the user name is unknown, so that a sign-in
# with an unknown name takes as long as one with a wrong password (no user probing
# by timing).
_DUMMY_HASH = _HASHER.hash("territory-engine-dummy-password")


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (salted; the text encodes the parameters)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, bool]:
    """Check ``password`` against ``stored_hash``.

    Parameters
    ----------
    stored_hash
        The user's hash, or ``None`` for an unknown user (checked against a dummy hash
        all the same, so both cases take the same time).
    password
        What was typed.

    Returns
    -------
    tuple[bool, bool]
        ``(ok, needs_rehash)``.
    """
    try:
        _HASHER.verify(stored_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    if stored_hash is None:
        return False, False
    return True, _HASHER.check_needs_rehash(stored_hash)


def check_password_rules(password: str) -> str | None:
    """Why ``password`` is refused, or ``None`` when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if password.strip() != password:
        return "a password may not start or end with white space"
    return None


def new_token() -> str:
    """256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 of a session token, hex (what the sessions table stores)."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time equality of two tokens; a missing one never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class CookieSigner:
    """Signs and checks cookie values with the server's key (``itsdangerous``).

    Parameters
    ----------
    key
        The server secret (:func:`territory_engine.studio.db.server_secret`).
    salt
        Separates the kinds of cookie, so one cannot be replayed as another.
    """

    def __init__(self, key: str, salt: str) -> None:
        self._serializer = URLSafeSerializer(key, salt=salt)

    def sign(self, value: str) -> str:
        """``value`` with its signature."""
        return str(self._serializer.dumps(value))

    def unsign(self, signed: str | None) -> str | None:
        """The value of a signed cookie, or ``None`` when missing, tampered or not text."""
        if not signed:
            return None
        try:
            value = self._serializer.loads(signed)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None
