"""API keys and roles. Keys are stored as SHA-256 hashes and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.errors import InvalidInput, NotFound

# Ordered: each role may do what the ones before it may. A planner proposes and may apply, cancel or
# reverse their own proposals; an approver (审核签发) may do so for anyone's; an admin also imports data.
ROLES: tuple[str, ...] = ("reader", "planner", "approver", "admin")


@dataclass(frozen=True)
class Actor:
    """Who acts, as the system knows it: the API key's name and role (the free-text author is beside it)."""

    name: str
    role: str

    def has(self, minimum: str) -> bool:
        """Whether the role is at least ``minimum`` (an unknown role, e.g. ``anonymous``, has none)."""
        return self.role in ROLES and ROLES.index(self.role) >= ROLES.index(minimum)

    def may_act_for(self, owner: str | None) -> bool:
        """Whether this actor may apply, cancel, reverse, edit or withdraw a proposal made by key ``owner``.

        A proposal made without a key (an unidentified caller before keys were recorded) belongs to no one:
        any planner may act on it.
        """
        return ROLES.index(self.role) >= ROLES.index("approver") or owner is None or owner == self.name


# The command line works on the database file directly: whoever runs it administers that database.
CLI_ACTOR = Actor(name="cli", role="admin")


def hash_key(key: str) -> str:
    """SHA-256 of a key: the table stores hashes, never keys."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(conn: Connection, *, name: str, role: str) -> str:
    """Store a new random key for ``name`` with ``role``; return the key (shown once)."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use one of {', '.join(ROLES)}", field="role")
    key = secrets.token_urlsafe(24)
    conn.execute(text("INSERT INTO api_keys (name, key_hash, role) VALUES (:n, :h, :r)"),
                 {"n": name, "h": hash_key(key), "r": role})
    return key


def revoke_key(conn: Connection, key_id: int) -> None:
    """Revoke a stored key by id."""
    done = conn.execute(text("UPDATE api_keys SET revoked = true WHERE id = :i"), {"i": key_id}).rowcount
    if not done:
        raise NotFound(f"no API key with id {key_id}", field="key_id")


def role_of(key: str, *, configured: dict[str, str], conn: Connection) -> str | None:
    """The role of ``key``: from the configured keys, else from the table; None if unknown."""
    actor = actor_of(key, configured=configured, conn=conn)
    return actor.role if actor is not None else None


def actor_of(key: str, *, configured: dict[str, str], conn: Connection) -> Actor | None:
    """Name and role of ``key``, or None if unknown.

    A stored key has the name it was created with; a configured key (``GRIDGOV_API_KEYS``) is named by
    the start of its hash, which identifies it in the audit log without revealing it.
    """
    digest = hash_key(key)
    found: Actor | None = None
    for known, known_role in configured.items():
        # compare_digest on every key, without early exit, so timing reveals nothing.
        if hmac.compare_digest(known.encode("utf-8"), key.encode("utf-8")):
            found = Actor(name=f"key:{digest[:12]}", role=known_role)
    if found is not None:
        return found
    for name, key_hash, key_role in conn.execute(
            text("SELECT name, key_hash, role FROM api_keys WHERE revoked = false")):
        if hmac.compare_digest(key_hash, digest):
            found = Actor(name=str(name), role=str(key_role))
    return found
