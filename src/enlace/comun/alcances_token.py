"""API token scopes: the catalogue, each route's declared area, and the deny-by-default check."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, params

from enlace.comun.actor import Actor
from enlace.errores import EntradaInvalida, Prohibido

# One area per domain; a token gets `area:leer` (safe methods) or `area:escribir` (everything, reading included).
AREAS: dict[str, str] = {
    "sesiones": "Sesiones de WhatsApp: conectar, desconectar y ver su estado",
    "carteras": "Carteras, importaciones y contactos",
    "campanas": "Plantillas, campañas, perfiles de envío y paradas de seguridad",
    "conversaciones": "Bandeja de conversaciones y respuestas a contactos",
    "reportes": "Reportes, tableros y supervisión",
    "cumplimiento": "Supresiones, consentimiento, ARCO y auditoría",
    "agentes": "Agentes y equipos",
    "usuarios": "Usuarios y tokens de API",
    "webhooks": "Webhooks hacia el CRM",
    "oficial": "Números oficiales (Cloud API) y traspasos",
}
TODO = "*"
METODOS_LECTURA = frozenset({"GET", "HEAD", "OPTIONS"})


def catalogo() -> list[dict[str, str]]:
    """Every scope a token may carry, with a Spanish description (what the panel's selector shows)."""
    lista = [{"alcance": TODO, "descripcion": "Todo lo que permite el rol del dueño del token"}]
    for area, descripcion in AREAS.items():
        lista.append({"alcance": f"{area}:leer", "descripcion": f"{descripcion} (solo lectura)"})
        lista.append({"alcance": f"{area}:escribir", "descripcion": f"{descripcion} (lectura y cambios)"})
    return lista


ALCANCES_VALIDOS = frozenset(a["alcance"] for a in catalogo())


def validar_alcances(alcances: list[str]) -> list[str]:
    """Refuse free text: every scope must come from the catalogue; duplicates are dropped, order kept."""
    if not alcances:
        raise EntradaInvalida("alcances: elige al menos un alcance de la lista (GET /api/tokens/alcances).")
    desconocidos = [a for a in alcances if a not in ALCANCES_VALIDOS]
    if desconocidos:
        raise EntradaInvalida(
            f"alcances: «{desconocidos[0]}» no es un alcance válido; elige uno de la lista (GET /api/tokens/alcances)."
        )
    return list(dict.fromkeys(alcances))


def _declarar(area: str) -> Any:
    async def alcance_declarado() -> None:
        """Marker only: the check runs where the actor is built (`verificar_alcance_token`)."""

    alcance_declarado.area = area  # type: ignore[attr-defined]
    return alcance_declarado


def requiere(area: str) -> params.Depends:
    """Declare the scope area of a router or a route (`dependencies=[requiere("carteras")]`)."""
    if area not in AREAS:
        raise ValueError(f"área de alcance desconocida: {area}")
    return Depends(_declarar(area))


def area_de_ruta(ruta: Any) -> str | None:
    """The area a route declared; the route's own declaration overrides its router's (it comes last)."""
    area = None
    for dependencia in getattr(ruta, "dependencies", None) or ():
        area = getattr(dependencia.dependency, "area", area)
    return area


def alcance_necesario(area: str, metodo: str) -> str:
    return f"{area}:leer" if metodo.upper() in METODOS_LECTURA else f"{area}:escribir"


def token_permite(alcances: tuple[str, ...] | list[str], area: str | None, metodo: str) -> bool:
    """Deny by default: a route without a declared area is closed to tokens; `escribir` includes `leer`."""
    if area is None:
        return False
    if TODO in alcances:
        return True
    necesario = alcance_necesario(area, metodo)
    return necesario in alcances or f"{area}:escribir" in alcances


def verificar_alcance_token(actor: Actor, ruta: Any, metodo: str) -> None:
    """Sessions carry no scopes (all their role allows); a token reaches only what its scopes name."""
    if not actor.via_token:
        return
    area = area_de_ruta(ruta)
    if not token_permite(actor.alcances, area, metodo):
        if area is None:
            raise Prohibido("Esta ruta no se puede usar con un token de API.", codigo="alcance_insuficiente")
        raise Prohibido(
            f"El token no tiene el alcance «{alcance_necesario(area, metodo)}».", codigo="alcance_insuficiente"
        )


def tokens_que_puede_dar(actor: Actor, pedidos: list[str]) -> None:
    """A token may mint tokens only with scopes it holds itself: never more than it has."""
    if not actor.via_token or TODO in actor.alcances:
        return
    for alcance in pedidos:
        area = alcance.split(":", 1)[0]
        if alcance == TODO or not token_permite(actor.alcances, area, "GET" if alcance.endswith(":leer") else "POST"):
            raise Prohibido(
                f"El token no puede dar el alcance «{alcance}», que no tiene.", codigo="alcance_insuficiente"
            )


def rutas_de(app_o_router: Any) -> list[Any]:
    """Every route of an app, walking included routers (FastAPI keeps them nested, not flattened)."""
    rutas = []
    for ruta in app_o_router.routes:
        interno = getattr(ruta, "original_router", None)
        rutas.extend(rutas_de(interno) if interno is not None else [ruta])
    return rutas


def documentar(app: Any) -> None:
    """Show each route's scope in the OpenAPI schema (`x-alcance`), for integrators."""
    for ruta in rutas_de(app):
        area = area_de_ruta(ruta)
        if area is not None and hasattr(ruta, "openapi_extra"):
            extra = dict(ruta.openapi_extra or {})
            extra["x-alcance"] = sorted({alcance_necesario(area, m) for m in ruta.methods or ()})
            ruta.openapi_extra = extra
