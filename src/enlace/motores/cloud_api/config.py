"""Official numbers (WhatsApp Business phone numbers) read from settings."""

from __future__ import annotations

import json
from dataclasses import dataclass

from enlace.settings import Settings

VERSION_GRAPH = "v21.0"
URL_GRAPH = "https://graph.facebook.com"
URL_360DIALOG = "https://waba-v2.360dialog.io"
# How the API is reached: Meta's Graph API, or a BSP exposing the same Cloud API body shapes.
PROVEEDORES = ("meta", "360dialog")


class ConfiguracionOficialInvalida(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class NumeroOficial:
    phone_number_id: str
    waba_id: str
    token: str
    app_secret: str
    verify_token: str
    # The `agentes` row that represents this line in Enlace (a prospecting line, or the agent
    # whose WhatsApp Business app number is connected by coexistence).
    agente_id: int
    numero: str = ""  # display number, canonical +52...
    version: str = VERSION_GRAPH
    base_url: str = URL_GRAPH
    # "meta": Graph API paths, `Authorization: Bearer`, webhooks signed with the app secret.
    # "360dialog": `{base_url}/messages`, `D360-API-KEY` header, unsigned webhooks on a secret URL.
    proveedor: str = "meta"
    linea_id: int | None = None  # row in `lineas_oficiales` (None: read from settings, not migrated yet)

    def url_mensajes(self) -> str:
        if self.proveedor == "360dialog":
            return f"{self.base_url.rstrip('/')}/messages"
        return f"{self.base_url.rstrip('/')}/{self.version}/{self.phone_number_id}/messages"

    def url_numero(self) -> str:
        """A read that proves the credentials work (the «verify» test call)."""
        if self.proveedor == "360dialog":
            return f"{self.base_url.rstrip('/')}/v1/configs/webhook"
        return f"{self.base_url.rstrip('/')}/{self.version}/{self.phone_number_id}"

    def url_plantillas(self) -> str:
        if self.proveedor == "360dialog":
            return f"{self.base_url.rstrip('/')}/v1/configs/templates"
        return f"{self.base_url.rstrip('/')}/{self.version}/{self.waba_id}/message_templates"

    def cabeceras(self) -> dict[str, str]:
        if self.proveedor == "360dialog":
            return {"D360-API-KEY": self.token}
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def firma_webhook(self) -> bool:
        """Meta signs every webhook with the app secret; 360dialog forwards them unsigned."""
        return self.proveedor == "meta"


def leer_numeros(settings: Settings) -> list[NumeroOficial]:
    texto = settings.cloud_numeros.strip()
    if not texto:
        return []
    try:
        crudo = json.loads(texto)
    except json.JSONDecodeError as exc:
        raise ConfiguracionOficialInvalida(f"ENLACE_CLOUD_NUMEROS no es JSON válido: {exc.msg}") from None
    if not isinstance(crudo, list):
        raise ConfiguracionOficialInvalida("ENLACE_CLOUD_NUMEROS debe ser una lista de números oficiales.")
    numeros = []
    for i, entrada in enumerate(crudo, start=1):
        faltan = [
            c
            for c in ("phone_number_id", "waba_id", "token", "app_secret", "verify_token", "agente_id")
            if not entrada.get(c)
        ]
        if faltan:
            raise ConfiguracionOficialInvalida(f"ENLACE_CLOUD_NUMEROS, número {i}: faltan {', '.join(faltan)}.")
        numeros.append(
            NumeroOficial(
                phone_number_id=str(entrada["phone_number_id"]),
                waba_id=str(entrada["waba_id"]),
                token=str(entrada["token"]),
                app_secret=str(entrada["app_secret"]),
                verify_token=str(entrada["verify_token"]),
                agente_id=int(entrada["agente_id"]),
                numero=str(entrada.get("numero", "")),
                version=str(entrada.get("version", VERSION_GRAPH)),
                base_url=str(entrada.get("base_url", URL_GRAPH)),
                proveedor=str(entrada.get("proveedor", "meta")),
            )
        )
    return numeros
