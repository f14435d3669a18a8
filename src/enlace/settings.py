"""Typed settings (prefix ENLACE_, `.env` supported); unsafe values are refused outside development."""

from __future__ import annotations

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

    # Sessions and auth
    sesion_horas: int = 12
    login_max_fallos: int = 5
    login_ventana_minutos: int = 15
    cookie_segura: bool | None = None

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
        return self

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
    def cookies_seguras(self) -> bool:
        return self.cookie_segura if self.cookie_segura is not None else self.es_produccion


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
