"""Encryption of personal data at rest and the keyed blind index used to find it.

Values are encrypted with MultiFernet over settings.FIELD_ENCRYPTION_KEYS (newest first, so
rotation is: prepend a key, run `rotate_encryption_keys`, then drop the old key). Equality
lookups go through an HMAC-SHA256 "blind index" under settings.BLIND_INDEX_KEY, which does not
change when encryption keys rotate.
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(key) for key in keys])


@cache
def _newest() -> Fernet:
    return Fernet(settings.FIELD_ENCRYPTION_KEYS[0])


@cache
def _index_key() -> bytes:
    key: str = settings.BLIND_INDEX_KEY
    if not key:
        raise ImproperlyConfigured("BLIND_INDEX_KEY is empty.")
    return key.encode()


@receiver(setting_changed)
def _reset_keys(*, setting: str, **kwargs: object) -> None:
    if setting in {"FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"}:
        _fernet.cache_clear()
        _newest.cache_clear()
        _index_key.cache_clear()


def encrypt(value: str) -> str:
    return encrypt_bytes(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return decrypt_bytes(token.encode("ascii")).decode()
    except UnicodeError as exc:
        raise DecryptionError("stored value cannot be decrypted with the configured keys") from exc


def encrypt_bytes(value: bytes) -> bytes:
    """As `encrypt`, for a value kept as bytes (a rendered page): no text conversions."""
    return _fernet().encrypt(value)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(token)
    except InvalidToken as exc:
        raise DecryptionError("stored value cannot be decrypted with the configured keys") from exc


def under_newest_key(token: bytes) -> bool:
    """Whether a token was encrypted under the newest key (nothing to rotate)."""
    _fernet()  # the same configuration check
    try:
        _newest().decrypt(token)
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (old keys must still be configured)."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC of a normalised value; `purpose` separates NIK, KK and other indexes."""
    message = f"{purpose}:{value.strip().upper()}".encode()
    return hmac.new(_index_key(), message, hashlib.sha256).hexdigest()


def nik_index(nik: str) -> str:
    return blind_index(nik, purpose="nik")


def kk_index(kk_number: str) -> str:
    return blind_index(kk_number, purpose="kk")


def name_index(full_name: str) -> str:
    """Keyed index of the name's phonetic key: equal for names that sound alike."""
    from citizens.names import phonetic_key

    return blind_index(phonetic_key(full_name), purpose="name")
