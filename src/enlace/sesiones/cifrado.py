"""AES-256-GCM encryption of the WhatsApp auth state, with the key id stored beside each row and rotation.

Keys come from `ENLACE_CLAVES_CREDENCIALES` ("id:base64key,..."; the first encrypts, all decrypt). In
development without keys a random one is generated on first run and kept in the data directory
(0600); in tests one is derived from the (test) secret key. The associated data
binds a ciphertext to its agent: a row copied onto another agent's session does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from enlace.settings import Entorno, ErrorDeConfiguracion, Settings, parse_claves

log = structlog.get_logger(__name__)

LARGO_NONCE = 12
LARGO_CLAVE = 32


class CredencialesIlegibles(Exception):
    """The stored credentials cannot be decrypted (unknown key id, wrong key, tampered bytes)."""


@dataclass(frozen=True, slots=True)
class Clave:
    id: str
    material: bytes

    def __repr__(self) -> str:  # never print key material
        return f"Clave(id={self.id!r})"


def contexto_agente(agente_id: int) -> bytes:
    """Associated data for an agent's legacy one-blob credentials (before one row per key)."""
    return f"enlace:sesiones_wa:{agente_id}".encode()


def contexto_clave(agente_id: int, tipo: str, ident: str) -> bytes:
    """Associated data of one `credenciales_wa` row: it only decrypts as that agent's key (tipo, ident)."""
    return f"enlace:credenciales_wa:{agente_id}:{tipo}:{ident}".encode()


def generar_clave() -> str:
    """A fresh base64 AES-256 key, for `ENLACE_CLAVES_CREDENCIALES`."""
    return base64.b64encode(os.urandom(LARGO_CLAVE)).decode()


def clave_derivada(secreto: str) -> Clave:
    """The development key: HKDF-SHA256 of the secret key. Its id carries a fingerprint of the secret."""
    material = HKDF(
        algorithm=hashes.SHA256(), length=LARGO_CLAVE, salt=b"enlace-credenciales", info=b"aes-256-gcm"
    ).derive(secreto.encode())
    huella = hashlib.sha256(material).hexdigest()[:8]
    return Clave(f"dev-{huella}", material)


ARCHIVO_CLAVE_LOCAL = "clave-credenciales"


def clave_local(directorio: Path) -> Clave:
    """The development key: 32 random bytes in `<directorio_datos>/clave-credenciales` (0600), made once."""
    ruta = Path(directorio) / ARCHIVO_CLAVE_LOCAL
    ruta.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(ruta, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if ruta.stat().st_mode & 0o077:
            os.chmod(ruta, 0o600)  # someone widened it; the key must stay private to this user
            log.warning("credenciales.permisos_corregidos", archivo=str(ruta))
    else:
        with os.fdopen(descriptor, "w") as archivo:
            archivo.write(generar_clave() + "\n")
        log.info("credenciales.clave_local_creada", archivo=str(ruta))
    try:
        material = base64.b64decode(ruta.read_text().strip(), validate=True)
    except (binascii.Error, ValueError):
        material = b""
    if len(material) != LARGO_CLAVE:
        raise ErrorDeConfiguracion(f"{ruta} no contiene una clave AES-256 en base64; bórralo para generar otra.")
    return Clave(f"local-{hashlib.sha256(material).hexdigest()[:8]}", material)


def _clave_de_texto(kid: str, texto: str) -> Clave:
    if not kid or len(kid) > 40 or any(c in kid for c in " :,"):
        raise ErrorDeConfiguracion(
            f"ENLACE_CLAVES_CREDENCIALES: el id de clave {kid!r} no es válido (1 a 40 caracteres, sin espacios)."
        )
    try:
        material = base64.b64decode(texto, validate=True)
    except (binascii.Error, ValueError):
        raise ErrorDeConfiguracion(f"ENLACE_CLAVES_CREDENCIALES: la clave {kid!r} no es base64 válido.") from None
    if len(material) != LARGO_CLAVE:
        raise ErrorDeConfiguracion(
            f"ENLACE_CLAVES_CREDENCIALES: la clave {kid!r} mide {len(material)} bytes; AES-256 necesita 32. "
            "Genera una con: python -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())'"
        )
    return Clave(kid, material)


class Llavero:
    """The keys in use: `actual` encrypts, every key decrypts rows that name it."""

    def __init__(self, claves: list[Clave]) -> None:
        if not claves:
            raise ErrorDeConfiguracion("No hay claves para cifrar las credenciales de WhatsApp.")
        ids = [c.id for c in claves]
        if len(set(ids)) != len(ids):
            raise ErrorDeConfiguracion("ENLACE_CLAVES_CREDENCIALES repite un id de clave.")
        self._claves = {c.id: c for c in claves}
        self._aeads: dict[str, AESGCM] = {}
        self.actual = claves[0]

    @classmethod
    def desde_texto(cls, texto: str) -> Llavero:
        return cls([_clave_de_texto(kid, clave) for kid, clave in parse_claves(texto)])

    @classmethod
    def desde_settings(cls, settings: Settings) -> Llavero:
        claves = [_clave_de_texto(kid, clave) for kid, clave in parse_claves(settings.claves_credenciales)]
        if settings.es_produccion:
            if not claves:
                raise ErrorDeConfiguracion(
                    "ENLACE_CLAVES_CREDENCIALES está vacía: en producción las credenciales se cifran con clave propia."
                )
            return cls(claves)
        derivada = clave_derivada(settings.secreto)
        if not claves and settings.entorno == Entorno.desarrollo:
            # Never a key anyone can compute: a random one, made on first run and kept beside the data.
            local = clave_local(settings.directorio_datos)
            return cls([local, derivada])  # the derived key only still reads rows written before
        if not claves:
            log.warning(
                "credenciales.clave_derivada",
                mensaje="ENLACE_CLAVES_CREDENCIALES no está definida: las credenciales de WhatsApp se cifran con una "
                "clave derivada de ENLACE_SECRET_KEY. Sirve solo para desarrollo; define una clave propia y ejecuta "
                "`enlace rotar-clave`.",
                clave_id=derivada.id,
            )
            return cls([derivada])
        # Outside production the derived key stays readable, so `rotar-clave` can move dev rows to a real key.
        if derivada.id not in {c.id for c in claves}:
            claves.append(derivada)
        return cls(claves)

    @property
    def ids(self) -> list[str]:
        return list(self._claves)

    def cifrar(self, datos: Any, contexto: bytes) -> tuple[str, bytes]:
        """(key id, nonce || ciphertext+tag) of `datos` serialized as JSON."""
        claro = json.dumps(datos, separators=(",", ":"), ensure_ascii=False).encode()
        nonce = os.urandom(LARGO_NONCE)
        return self.actual.id, nonce + self._aead(self.actual).encrypt(nonce, claro, contexto)

    def _aead(self, clave: Clave) -> AESGCM:
        # One cipher object per key: building it is most of the cost of encrypting a small key.
        aead = self._aeads.get(clave.id)
        if aead is None:
            aead = self._aeads[clave.id] = AESGCM(clave.material)
        return aead

    def descifrar(self, clave_id: str, blob: bytes, contexto: bytes) -> dict[str, Any]:
        datos = self.descifrar_valor(clave_id, blob, contexto)
        if not isinstance(datos, dict):
            raise CredencialesIlegibles("Las credenciales descifradas no tienen el formato esperado.")
        return datos

    def descifrar_valor(self, clave_id: str, blob: bytes, contexto: bytes) -> Any:
        """Any JSON value stored with `cifrar` (one signal key of a `credenciales_wa` row)."""
        clave = self._claves.get(clave_id)
        if clave is None:
            raise CredencialesIlegibles(
                f"Las credenciales están cifradas con la clave {clave_id!r}, que no está en ENLACE_CLAVES_CREDENCIALES."
            )
        if len(blob) <= LARGO_NONCE + 16:
            raise CredencialesIlegibles("Las credenciales guardadas están incompletas.")
        try:
            claro = self._aead(clave).decrypt(blob[:LARGO_NONCE], blob[LARGO_NONCE:], contexto)
        except InvalidTag:
            raise CredencialesIlegibles(
                f"Las credenciales no se pudieron descifrar con la clave {clave_id!r} "
                "(clave distinta o datos alterados)."
            ) from None
        return json.loads(claro)

    def necesita_rotar(self, clave_id: str | None) -> bool:
        return clave_id != self.actual.id

    def recifrar(self, clave_id: str, blob: bytes, contexto: bytes) -> tuple[str, bytes]:
        """Decrypt with the row's key, encrypt again with the current one (always a fresh nonce)."""
        return self.cifrar(self.descifrar_valor(clave_id, blob, contexto), contexto)


def fusionar_credenciales(actual: dict[str, Any] | None, delta: dict[str, Any]) -> dict[str, Any]:
    """Apply an engine delta: `creds` replaces creds; `keys` sets keys, None deletes them."""
    estado: dict[str, Any] = {
        "creds": dict((actual or {}).get("creds") or {}),
        "keys": {tipo: dict(valores) for tipo, valores in ((actual or {}).get("keys") or {}).items()},
    }
    if "creds" in delta and delta["creds"] is not None:
        estado["creds"] = delta["creds"]
    for tipo, valores in (delta.get("keys") or {}).items():
        destino = estado["keys"].setdefault(tipo, {})
        for clave, valor in (valores or {}).items():
            if valor is None:
                destino.pop(clave, None)
            else:
                destino[clave] = valor
        if not destino:
            del estado["keys"][tipo]
    return estado


def aplicar_delta(estado: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """`fusionar_credenciales` in place: the cost is the size of the delta, not of the state."""
    if delta.get("creds") is not None:
        estado["creds"] = delta["creds"]
    claves = estado.setdefault("keys", {})
    for tipo, valores in (delta.get("keys") or {}).items():
        destino = claves.setdefault(tipo, {})
        for clave, valor in (valores or {}).items():
            if valor is None:
                destino.pop(clave, None)
            else:
                destino[clave] = valor
        if not destino:
            del claves[tipo]
    return estado
