"""Password hashing (Argon2id) and opaque tokens (only their SHA-256 is stored)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor

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


# Argon2id takes ~50 ms of CPU and (through cffi) releases the GIL: it runs on a small fixed pool of
# threads, never on the event loop, so logins cannot stall every other request.
_ejecutor: ThreadPoolExecutor | None = None
HILOS_HASH = 2


def configurar_hilos(hilos: int) -> None:
    """Size of the hashing pool (settings `hash_hilos`); takes effect for the next pool created."""
    global HILOS_HASH, _ejecutor
    if max(1, hilos) == HILOS_HASH:
        return
    HILOS_HASH = max(1, hilos)
    if _ejecutor is not None:
        _ejecutor.shutdown(wait=False)
        _ejecutor = None


def _pool() -> ThreadPoolExecutor:
    global _ejecutor
    if _ejecutor is None:
        _ejecutor = ThreadPoolExecutor(max_workers=HILOS_HASH, thread_name_prefix="argon2")
    return _ejecutor


async def hashear(password: str) -> str:
    """Hash off the event loop, on the bounded pool."""
    return await asyncio.get_running_loop().run_in_executor(_pool(), hashear_password, password)


async def verificar(hash_guardado: str | None, password: str) -> bool:
    """Verify off the event loop, on the bounded pool."""
    return await asyncio.get_running_loop().run_in_executor(_pool(), verificar_password, hash_guardado, password)


def hashear_password(password: str) -> str:
    return _hasher.hash(password)


def verificar_password(hash_guardado: str | None, password: str) -> bool:
    try:
        return _hasher.verify(hash_guardado or _HASH_SENUELO, password) and hash_guardado is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# Words every guesser tries first here (zxcvbn's lists are English): they count as dictionary words.
PALABRAS_LOCALES = (
    "contraseña", "contrasena", "clave", "secreto", "password", "enlace", "mexico", "méxico", "admin",
    "administrador", "usuario", "agente", "supervisor", "imss", "pension", "pensión", "credito", "crédito",
    "whatsapp", "hola", "bienvenido", "nueva", "segura", "qwerty", "asdf",
)  # fmt: skip
PUNTAJE_MINIMO = 3  # zxcvbn: 10^8 guesses or more


def problema_password(password: str, *personales: str) -> str | None:
    """Why `password` is too easy to guess (Spanish), or None. Checked against common passwords,
    keyboard patterns, repeats, dates and the user's own name (zxcvbn), plus local words."""
    from zxcvbn import zxcvbn

    entradas = [p.lower() for p in personales if p] + list(PALABRAS_LOCALES)
    resultado = zxcvbn(password[:100], user_inputs=entradas)
    if resultado["score"] >= PUNTAJE_MINIMO:
        return None
    return (
        "es demasiado fácil de adivinar (una contraseña común, una palabra con números, un patrón como "
        "«aaaa» o «1234», o tu nombre). Usa una frase de varias palabras que no tenga que ver contigo"
    )


def nuevo_token(prefijo: str = "") -> str:
    return prefijo + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_aleatoria() -> str:
    return secrets.token_urlsafe(12)
