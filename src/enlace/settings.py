"""Typed settings (prefix ENLACE_, `.env` supported); unsafe values are refused outside development."""

from __future__ import annotations

import base64
import binascii
import math
from collections import Counter
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that mean "nobody set a real secret yet".
SECRETOS_DE_EJEMPLO = {"", "cambiame", "changeme", "secret", "secreto", "placeholder", "dev", "desarrollo"}


class Entorno(StrEnum):
    desarrollo = "desarrollo"
    produccion = "produccion"
    pruebas = "pruebas"


class Motor(StrEnum):
    simulador = "simulador"
    baileys = "baileys"
    cloud_api = "cloud_api"


class AlcanceCaptura(StrEnum):
    negocio = "negocio"
    todo = "todo"


class ErrorDeConfiguracion(Exception):
    """Raised when the settings are unsafe; the message is shown to whoever starts the server."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENLACE_", env_file=".env", extra="ignore")

    entorno: Entorno = Entorno.desarrollo
    database_url: str | None = None
    # Where the embedded PostgreSQL keeps its files when no database_url is given.
    directorio_datos: Path = Path("data")
    secret_key: str = ""
    # Base64 AES-256 keys for WhatsApp credentials: "id1:clave1,id2:clave2"; the first encrypts.
    claves_credenciales: str = ""
    motor: Motor = Motor.baileys
    redis_url: str | None = None
    zona_horaria: str = "America/Mexico_City"
    host: str = "127.0.0.1"
    port: int = 8000
    nodo_id: str = ""
    log_json: bool | None = None

    # Request bodies: JSON and forms (KB), file uploads such as carteras (MB). Refused with 413 before reading.
    limite_json_kb: int = 1024
    limite_subida_mb: int = 50

    # Sessions and auth
    sesion_horas: int = 12
    login_max_fallos: int = 5
    login_ventana_minutos: int = 15
    # After `login_max_fallos` failures (per user name AND address) each new try waits this, doubling.
    login_espera_base_s: int = 30
    # Confirmed failures from one address (any user) in the window before that address is held.
    login_max_fallos_ip: int = 50
    # Threads hashing passwords (Argon2id), off the event loop.
    hash_hilos: int = 2
    cookie_segura: bool | None = None
    # Interactive API docs (/docs, /redoc, /openapi.json): on by default except in production.
    docs: bool | None = None

    # WhatsApp sessions
    max_sesiones_nodo: int = 300
    sesion_inactiva_minutos: int = 30
    # Sessions keep listening during the contact-hours window (07:00–22:00 or the admins' narrower one, in
    # ENLACE_ZONA_HORARIA): the idle stop applies only outside it. docs/sesiones.md has the trade-off.
    sesion_escucha_en_horario: bool = True

    # Simulator
    sim_velocidad: float = 1.0
    sim_semilla: int = 7
    sim_auto_escanear: bool = False
    # Start instant of the simulator's accelerated clock (demos and e2e tests run inside business hours).
    sim_inicio: datetime | None = None
    # JSON-lines file where the simulator records what every virtual phone received (survives restarts).
    sim_ledger: Path | None = None

    # Carteras
    pais_telefonos: str = "MX"
    solo_moviles: bool = False
    asignacion_expira_dias: int = 14
    # Per-user import quotas (every upload counts, failed ones too).
    importaciones_por_hora: int = 30
    importacion_mb_por_dia: int = 1024

    # Compliance
    alcance_captura: AlcanceCaptura = AlcanceCaptura.negocio
    frecuencia_max_mensajes: int = 1
    frecuencia_dias: int = 7
    confirmar_baja: bool = False
    requerir_consentimiento: bool = False
    retencion_dias: int = 365
    # Days a contact who answered «no me interesa» is left out of new campaigns (any agent).
    dias_no_interesado: int = 90
    hora_min_contacto: int = 7
    hora_max_contacto: int = 22

    # Capture
    directorio_medios: Path | None = None

    gateway_node: str = "node"
    # How long the gateway gives one command (a send) before answering with an error, and how long the core
    # waits for that answer. The core must wait longer: otherwise it gives up on sends the gateway may
    # still complete, and has to call them `incierto`.
    gateway_limite_comando_s: float = 60.0
    gateway_tiempo_espera_s: float = 75.0

    # Number resolution (onWhatsApp) before first contact; see docs/envios.md.
    resolucion_ttl_dias: int = 30  # a check stays valid this long
    resolucion_lote: int = 50  # numbers per lookup
    resolucion_pausa_s: float = 20.0  # between two lookups of one session
    resolucion_max_hora: int = 300  # numbers one session may look up per rolling hour
    # Delivery watchdog: a message still `enviado` this long after leaving is flagged `sin_acuse`.
    acuse_plazo_horas: float = 12.0

    # Baileys gateway processes: at most this many sockets per worker process, each with this V8 heap,
    # and every socket start on the node passes one rate limit (starts per second, with jitter).
    gateway_sockets_por_proceso: int = Field(default=50, ge=1, le=500)
    gateway_heap_mb: int = Field(default=1024, ge=128)
    gateway_conexiones_por_s: float = Field(default=2.0, gt=0, le=50)

    # Webhooks only reach public addresses; list here (CIDRs or host names, comma-separated) an
    # on-premise CRM on the private network, e.g. "10.20.0.0/16,crm.interno.mx".
    webhooks_destinos_permitidos: str = ""

    # Official numbers (WhatsApp Cloud API), JSON list; see docs/oficial.md. Each entry:
    # {"phone_number_id", "waba_id", "token", "app_secret", "verify_token", "agente_id",
    #  "numero", "version" (default v21.0), "base_url" (default https://graph.facebook.com)}
    cloud_numeros: str = ""

    @model_validator(mode="after")
    def _rechazar_inseguros(self) -> Settings:
        if self.gateway_tiempo_espera_s <= self.gateway_limite_comando_s:
            raise ErrorDeConfiguracion(
                "ENLACE_GATEWAY_TIEMPO_ESPERA_S debe ser mayor que ENLACE_GATEWAY_LIMITE_COMANDO_S: el núcleo "
                "tiene que esperar la respuesta de la pasarela más de lo que la pasarela espera a WhatsApp."
            )
        if self.resolucion_ttl_dias < 1 or self.resolucion_lote < 1 or self.resolucion_max_hora < 1:
            raise ErrorDeConfiguracion(
                "ENLACE_RESOLUCION_TTL_DIAS, ENLACE_RESOLUCION_LOTE y ENLACE_RESOLUCION_MAX_HORA deben ser al menos 1."
            )
        if self.entorno == Entorno.produccion and self.secret_key.strip().lower() in SECRETOS_DE_EJEMPLO:
            raise ErrorDeConfiguracion(
                "ENLACE_SECRET_KEY está vacía o es un valor de ejemplo. En producción define una clave "
                "aleatoria, por ejemplo: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if self.entorno == Entorno.produccion and self.secret_key and len(self.secret_key) < 32:
            raise ErrorDeConfiguracion("ENLACE_SECRET_KEY debe tener al menos 32 caracteres en producción.")
        if self.entorno == Entorno.produccion and not self.claves_credenciales:
            raise ErrorDeConfiguracion(
                "ENLACE_CLAVES_CREDENCIALES está vacía: en producción las credenciales de WhatsApp se cifran "
                "con una clave propia (id:clave_base64 de 32 bytes)."
            )
        if self.entorno == Entorno.produccion:
            self._rechazar_debiles()
        return self

    def _rechazar_debiles(self) -> None:
        """Production only: secrets that look set but are guessable, and the simulator engine."""
        clave = self.secret_key
        if bits_de_entropia(clave) < 128 or len(set(clave)) < 10 or es_repeticion(clave):
            raise ErrorDeConfiguracion(
                "ENLACE_SECRET_KEY parece poco aleatoria (caracteres repetidos o un patrón). En producción usa "
                "una clave generada, por ejemplo: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        vistas: set[bytes] = set()
        for kid, texto in parse_claves(self.claves_credenciales):
            try:
                material = base64.b64decode(texto, validate=True)
            except (binascii.Error, ValueError):
                continue  # the keyring reports malformed keys with its own message
            # 32 random bytes have ~30 distinct values; all-zero or repeated bytes are a typed placeholder.
            if len(set(material)) < 16:
                raise ErrorDeConfiguracion(
                    f"ENLACE_CLAVES_CREDENCIALES: la clave {kid!r} no es aleatoria (bytes en cero o repetidos). "
                    "Genera una con: python -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())'"
                )
            if material in vistas:
                raise ErrorDeConfiguracion(f"ENLACE_CLAVES_CREDENCIALES: la clave {kid!r} repite otra clave.")
            vistas.add(material)
        if self.motor == Motor.simulador:
            raise ErrorDeConfiguracion(
                "ENLACE_MOTOR=simulador no se permite en producción: es una red de WhatsApp virtual. "
                "Usa baileys o cloud_api."
            )

    @property
    def secreto(self) -> str:
        """The secret used to sign things; development gets a fixed, clearly non-production value."""
        return self.secret_key or "enlace-desarrollo-no-usar-en-produccion"

    @property
    def es_produccion(self) -> bool:
        return self.entorno == Entorno.produccion

    @property
    def usar_log_json(self) -> bool:
        return self.log_json if self.log_json is not None else self.entorno == Entorno.produccion

    @property
    def docs_activas(self) -> bool:
        return self.docs if self.docs is not None else not self.es_produccion

    @property
    def cookies_seguras(self) -> bool:
        return self.cookie_segura if self.cookie_segura is not None else self.es_produccion


def bits_de_entropia(texto: str) -> float:
    """Shannon entropy of the characters times the length: a rough upper bound of the guessing work."""
    if not texto:
        return 0.0
    cuentas = Counter(texto)
    por_caracter = -sum(n / len(texto) * math.log2(n / len(texto)) for n in cuentas.values())
    return por_caracter * len(texto)


def es_repeticion(texto: str) -> bool:
    """'abcabcabc…': a short pattern repeated to look long."""
    largo = len(texto)
    return any(texto == (texto[:k] * (largo // k + 1))[:largo] for k in range(1, largo // 2 + 1))


@lru_cache
def get_settings() -> Settings:
    return Settings()


def parse_claves(texto: str) -> list[tuple[str, str]]:
    """'id:clave,id2:clave2' -> [(id, clave), ...] (order kept: the first encrypts)."""
    claves = []
    for parte in filter(None, (p.strip() for p in texto.split(","))):
        kid, _, clave = parte.partition(":")
        claves.append((kid.strip(), clave.strip()))
    return claves
