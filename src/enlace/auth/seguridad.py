"""Password hashing (Argon2id) and opaque tokens (only their SHA-256 is stored)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the user does not exist, so a wrong user name costs the same time as a wrong password.
_HASH_SENUELO = _hasher.hash(secrets.token_urlsafe(16))


def usar_coste_de_pruebas() -> None:
    """Cheap Argon2id parameters for the test suite only (thousands of hashes); never in a server."""
    global _hasher, _HASH_SENUELO
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _HASH_SENUELO = _hasher.hash(secrets.token_urlsafe(16))


def hashear_password(password: str) -> str:
    return _hasher.hash(password)


def verificar_password(hash_guardado: str | None, password: str) -> bool:
    try:
        return _hasher.verify(hash_guardado or _HASH_SENUELO, password) and hash_guardado is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def nuevo_token(prefijo: str = "") -> str:
    return prefijo + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_aleatoria() -> str:
    return secrets.token_urlsafe(12)
