"""API keys and roles. Keys are stored as SHA-256 hashes and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import Connection, text

from geo.errors import InvalidInput, NotFound

# Ordered: each role may do what the ones before it may.
ROLES: tuple[str, ...] = ("reader", "planner", "admin")


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
    role: str | None = None
    for known, known_role in configured.items():
        # compare_digest on every key, without early exit, so timing reveals nothing.
        if hmac.compare_digest(known.encode("utf-8"), key.encode("utf-8")):
            role = known_role
    if role is not None:
        return role
    digest = hash_key(key)
    for key_hash, key_role in conn.execute(text("SELECT key_hash, role FROM api_keys WHERE revoked = false")):
        if hmac.compare_digest(key_hash, digest):
            role = key_role
    return role
