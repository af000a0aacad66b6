"""API keys: a random secret shown once; only its SHA-256 is stored. A 256-bit secret has
enough entropy that a fast hash cannot be brute-forced, so lookups stay one indexed query."""

import hashlib
import secrets

PREFIX_LENGTH = 8


def api_key_new() -> tuple[str, str, str]:
    """A new key as (full key to show once, its public prefix, the hash to store)."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    secret = secrets.token_urlsafe(32)
    key = f"prw_{prefix}_{secret}"
    return key, prefix, api_key_hash(key)


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
