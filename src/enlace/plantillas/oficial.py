"""Official (Cloud API) templates: validate `plantilla_oficial` and fill its components for one contact.

`plantilla_oficial` = {
    "nombre": "oferta_credito", "idioma": "es_MX", "categoria": "MARKETING" | "UTILITY" | "AUTHENTICATION",
    "parametros": ["nombre", "monto"],                      # positional body {{1}}, {{2}} ← cartera columns
    "parametros_nombrados": {"cliente": "nombre"},          # or named body {{cliente}} ← column
    "encabezado": {"tipo": "text", "columna": "nombre"}     # or {"tipo": "text", "texto": "..."}
                | {"tipo": "image" | "document", "url": "https://...", "nombre_archivo": "oferta.pdf"},
    "botones": [{"tipo": "quick_reply", "accion": "no_interesado" | "baja"},
                {"tipo": "quick_reply", "payload": "..."}, {"tipo": "url", "columna": "folio"}],
}
Quick replies with an `accion` carry Enlace's payloads, so tapping them is handled like the typed reply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from enlace.motores.cloud_api.webhook import PAYLOAD_BAJA, PAYLOAD_NO_INTERESADO

ACCIONES = {"baja": PAYLOAD_BAJA, "no_interesado": PAYLOAD_NO_INTERESADO}
CATEGORIAS = ("MARKETING", "UTILITY", "AUTHENTICATION")
TIPOS_ENCABEZADO = ("text", "image", "document")


class ConfiguracionInvalida(ValueError):
    """A Spanish message naming the field of `plantilla_oficial` that is wrong."""


def _columna(valor: Any, campo: str) -> str:
    if not isinstance(valor, str) or not valor.strip():
        raise ConfiguracionInvalida(f"plantilla_oficial.{campo}: indica una columna de la cartera.")
    return valor.strip()


def validar(config: dict[str, Any] | None) -> dict[str, Any]:
    """The normalized config, or ConfiguracionInvalida naming the field and what to do."""
    if not config or not isinstance(config.get("nombre"), str) or not config["nombre"].strip():
        raise ConfiguracionInvalida(
            "plantilla_oficial.nombre: una campaña por línea oficial necesita el nombre de la plantilla "
            "aprobada en Meta."
        )
    limpia: dict[str, Any] = {
        "nombre": config["nombre"].strip(),
        "idioma": str(config.get("idioma") or "es_MX"),
        "categoria": str(config.get("categoria") or "MARKETING").upper(),
    }
    if limpia["categoria"] not in CATEGORIAS:
        raise ConfiguracionInvalida(f"plantilla_oficial.categoria: usa {', '.join(CATEGORIAS)}.")
    parametros = config.get("parametros") or []
    nombrados = config.get("parametros_nombrados") or {}
    if parametros and nombrados:
        raise ConfiguracionInvalida(
            "plantilla_oficial.parametros: usa parámetros posicionales o nombrados, no ambos (como en Meta)."
        )
    if not isinstance(parametros, list) or not all(isinstance(p, str) and p for p in parametros):
        raise ConfiguracionInvalida("plantilla_oficial.parametros debe ser una lista de columnas de la cartera.")
    if not isinstance(nombrados, dict) or not all(
        isinstance(k, str) and k.replace("_", "").isalnum() and k.islower() for k in nombrados
    ):
        raise ConfiguracionInvalida(
            "plantilla_oficial.parametros_nombrados: un objeto {nombre_en_meta: columna}; nombres en minúsculas, "
            "letras, números y guion bajo."
        )
    limpia["parametros"] = list(parametros)
    limpia["parametros_nombrados"] = {k: _columna(v, f"parametros_nombrados.{k}") for k, v in nombrados.items()}
    encabezado = config.get("encabezado")
    if encabezado is not None:
        if not isinstance(encabezado, dict) or encabezado.get("tipo") not in TIPOS_ENCABEZADO:
            raise ConfiguracionInvalida("plantilla_oficial.encabezado.tipo: usa text, image o document.")
        if encabezado["tipo"] == "text":
            if not encabezado.get("texto") and not encabezado.get("columna"):
                raise ConfiguracionInvalida("plantilla_oficial.encabezado: indica texto o columna.")
        elif not str(encabezado.get("url", "")).startswith("https://"):
            raise ConfiguracionInvalida(
                "plantilla_oficial.encabezado.url: Meta descarga la imagen o el documento de una URL https://."
            )
        limpia["encabezado"] = dict(encabezado)
    botones = config.get("botones") or []
    if not isinstance(botones, list) or len(botones) > 10:
        raise ConfiguracionInvalida("plantilla_oficial.botones: una lista de hasta 10 botones.")
    limpios = []
    for i, b in enumerate(botones):
        if not isinstance(b, dict) or b.get("tipo") not in ("quick_reply", "url"):
            raise ConfiguracionInvalida(f"plantilla_oficial.botones[{i}].tipo: usa quick_reply o url.")
        if b["tipo"] == "quick_reply":
            if b.get("accion") is not None and b["accion"] not in ACCIONES:
                raise ConfiguracionInvalida(f"plantilla_oficial.botones[{i}].accion: usa baja o no_interesado.")
            payload = ACCIONES.get(b.get("accion") or "") or b.get("payload")
            if not payload:
                raise ConfiguracionInvalida(f"plantilla_oficial.botones[{i}]: indica accion o payload.")
            limpios.append({"tipo": "quick_reply", "payload": str(payload)})
        else:
            limpios.append({"tipo": "url", "columna": _columna(b.get("columna"), f"botones[{i}].columna")})
    limpia["botones"] = limpios
    return limpia


def componentes(config: dict[str, Any], valor: Callable[[str], str]) -> list[dict[str, Any]]:
    """The Cloud API `template.components` for one contact; `valor(columna)` renders a cartera column."""
    salida: list[dict[str, Any]] = []
    encabezado = config.get("encabezado")
    if encabezado:
        tipo = encabezado["tipo"]
        if tipo == "text":
            texto = encabezado.get("texto") or valor(encabezado["columna"])
            parametro: dict[str, Any] = {"type": "text", "text": texto}
        else:
            medio: dict[str, Any] = {"link": encabezado["url"]}
            if tipo == "document" and encabezado.get("nombre_archivo"):
                medio["filename"] = encabezado["nombre_archivo"]
            parametro = {"type": tipo, tipo: medio}
        salida.append({"type": "header", "parameters": [parametro]})
    if config.get("parametros_nombrados"):
        salida.append(
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "parameter_name": nombre, "text": valor(columna)}
                    for nombre, columna in config["parametros_nombrados"].items()
                ],
            }
        )
    elif config.get("parametros"):
        salida.append(
            {"type": "body", "parameters": [{"type": "text", "text": valor(c)} for c in config["parametros"]]}
        )
    for i, b in enumerate(config.get("botones") or []):
        if b["tipo"] == "quick_reply":
            salida.append(
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(i),
                    "parameters": [{"type": "payload", "payload": b["payload"]}],
                }
            )
        else:
            salida.append(
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": str(i),
                    "parameters": [{"type": "text", "text": valor(b["columna"])}],
                }
            )
    return salida
