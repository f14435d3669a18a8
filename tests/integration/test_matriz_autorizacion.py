"""Authorization matrix: every route × role × someone else's resource proves the denial.

Each route of the app must appear here: in PUBLICAS (no login), PROPIAS (acts only on the caller)
or MATRIZ with a `preparar` that builds a resource owned by an agent of ANOTHER team. Then:
anonymous → 401; an agent and a supervisor of the other team → 403/404 (or, for list routes, a
response that does not contain the other agent's data); an admin → allowed.
Domains add their routes to MATRIZ; the first test fails when a route is missing.

Scope axis: each route's declared area (enlace.comun.alcances_token) is checked with API tokens too —
an admin token naming another area (or only reading, for a write) is refused; an agent's token with
every scope gets no more than the agent; the admin's token with exactly the route's scope passes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from enlace.comun.alcances_token import AREAS, alcance_necesario, area_de_ruta, rutas_de

PUBLICAS = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/auth/login"),
    # Meta's webhook: authenticated by the X-Hub-Signature-256 of the raw body (tests/integration/test_oficial.py).
    ("GET", "/api/webhooks/whatsapp"),
    ("POST", "/api/webhooks/whatsapp"),
    # A BSP's unsigned webhook: the secret URL is the line's credential (tests/integration/test_oficial_lineas.py).
    ("POST", "/api/webhooks/whatsapp/bsp/{clave}"),
}
# Routes that act only on the caller (no other agent's resource can be named).
PROPIAS = {
    ("GET", "/api/auth/yo"),
    ("GET", "/api/reloj"),  # the server's clock; the same for everyone
    ("GET", "/api/cartera/pool"),  # how many pool contacts are free (a count, no one's data)
    ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/password"),
    ("POST", "/api/cumplimiento/clasificar"),  # explains a text; reads no stored data
    ("GET", "/api/captura/alcance"),  # the capture setting and the caller's own scoped out-of-scope count
    ("GET", "/api/cumplimiento/horario"),  # contact-hours rules: company policy, no agent's data
}


@dataclass
class Contexto:
    """What `preparar` gets: the other team's agent and helpers to build resources."""

    nucleo: Any
    ajeno: dict[str, Any]  # the other agent's user dict (with agente_id)
    equipo_ajeno: int
    admin: Any  # logged-in admin client
    extra: dict[str, Any] = field(default_factory=dict)


Preparar = Callable[[Contexto], Awaitable[dict[str, Any]]]


@dataclass
class Caso:
    preparar: Preparar
    # 'recurso': must be denied to agent/supervisor. 'lista': must not contain the other agent's data.
    # 'admin': admin-only (denied to agent and supervisor whatever the resource).
    tipo: str = "recurso"
    contiene_ajeno: Callable[[Any, Contexto], bool] | None = None
    cuerpo: Callable[[Contexto, dict[str, Any]], Any] | None = None
    # multipart routes (file uploads): returns httpx kwargs {"data": {...}, "files": {...}} instead of JSON.
    multipart: Callable[[Contexto, dict[str, Any]], dict[str, Any]] | None = None


async def _nada(ctx: Contexto) -> dict[str, Any]:
    return {}


async def _agente_ajeno(ctx: Contexto) -> dict[str, Any]:
    return {"agente_id": ctx.ajeno["agente_id"], "agenteId": ctx.ajeno["agente_id"]}


async def _usuario_ajeno(ctx: Contexto) -> dict[str, Any]:
    return {"usuario_id": ctx.ajeno["id"]}


async def _token_ajeno(ctx: Contexto) -> dict[str, Any]:
    r = await ctx.admin.post("/api/tokens", json={"nombre": "crm", "usuario_id": ctx.ajeno["id"], "alcances": ["*"]})
    assert r.status_code == 201, r.text
    return {"token_id": r.json()["id"]}


async def _equipo_ajeno(ctx: Contexto) -> dict[str, Any]:
    return {"equipo_id": ctx.equipo_ajeno}


def _ids_en(lista: Any, clave: str, valor: Any) -> bool:
    return any(isinstance(x, dict) and x.get(clave) == valor for x in (lista or []))


async def _contacto_ajeno(ctx: Contexto) -> dict[str, Any]:
    """A contact assigned to the other team's agent (cumplimiento)."""
    from enlace.carteras.models import Contacto

    async with ctx.nucleo.fabrica() as session:
        fila = Contacto(telefono="+525598765432", nombre="Ajeno", agente_id=ctx.ajeno["agente_id"])
        session.add(fila)
        await session.commit()
        return {"contacto_id": fila.id}


async def _conversacion_ajena(ctx: Contexto) -> dict[str, Any]:
    """A reply captured on the other team's agent's number, from one of its contacts (captura)."""
    from enlace.captura.service import Captura
    from enlace.motores.base import EventoMensaje, TipoContenido

    datos = await _contacto_ajeno(ctx)
    captura = Captura(ctx.nucleo.fabrica, ctx.nucleo.reloj, ctx.nucleo.settings, evaluar_respuestas=False)
    await captura.procesar(
        [
            EventoMensaje(
                ctx.ajeno["agente_id"],
                "MATRIZ1",
                False,
                "5215598765432@s.whatsapp.net",
                None,
                ctx.nucleo.reloj.ahora(),
                TipoContenido.texto,
                "Hola",
            )
        ]
    )
    return datos


MATRIZ: dict[tuple[str, str], Caso] = {
    # sesiones de WhatsApp (+ controles del simulador)
    ("POST", "/api/sesion/conectar/{agente_id}"): Caso(_agente_ajeno),
    ("POST", "/api/sesion/{agente_id}/codigo-emparejamiento"): Caso(
        _agente_ajeno, cuerpo=lambda c, p: {"telefono": "55 1234 5678"}
    ),
    ("POST", "/api/sesion/desconectar/{agente_id}"): Caso(_agente_ajeno),
    ("GET", "/api/sesion/{agente_id}"): Caso(_agente_ajeno),
    ("GET", "/api/sesiones/estado"): Caso(
        _nada, tipo="lista", contiene_ajeno=lambda r, ctx: _ids_en(r, "agente_id", ctx.ajeno["agente_id"])
    ),
    ("POST", "/api/simulador/{agente_id}/escanear"): Caso(_agente_ajeno, cuerpo=lambda c, p: {}),
    ("POST", "/api/simulador/{agente_id}/confirmar-codigo"): Caso(
        _agente_ajeno, cuerpo=lambda c, p: {"codigo": "ABCD1234"}
    ),
    ("POST", "/api/simulador/{agente_id}/fallo"): Caso(_agente_ajeno, cuerpo=lambda c, p: {"tipo": "desconexion"}),
    ("POST", "/api/simulador/{agente_id}/telefono"): Caso(
        _agente_ajeno, cuerpo=lambda c, p: {"telefono": "5512345678", "texto": "Hola"}
    ),
    ("POST", "/api/simulador/{agente_id}/recibir"): Caso(
        _agente_ajeno, cuerpo=lambda c, p: {"telefono": "5512345678", "texto": "Hola"}
    ),
    ("GET", "/api/simulador/ledger"): Caso(_nada, tipo="admin"),
    ("GET", "/api/oficial/numeros"): Caso(_nada, tipo="admin"),
    ("POST", "/api/oficial/transferir"): Caso(
        _contacto_ajeno, cuerpo=lambda ctx, p: {"contactoId": p["contacto_id"], "agenteId": ctx.ajeno["agente_id"]}
    ),
    ("GET", "/api/usuarios"): Caso(_nada, tipo="admin"),
    ("POST", "/api/usuarios"): Caso(
        _nada,
        tipo="admin",
        cuerpo=lambda ctx, p: {
            "usuario": "nuevo_x",
            "nombre": "N",
            "rol": "agente",
            "password": "sol-de-otoño-en-puebla",
        },
    ),
    ("PATCH", "/api/usuarios/{usuario_id}"): Caso(_usuario_ajeno, tipo="admin", cuerpo=lambda c, p: {"nombre": "Z"}),
    ("GET", "/api/tokens"): Caso(
        _token_ajeno, tipo="lista", contiene_ajeno=lambda r, ctx: _ids_en(r, "usuario_id", ctx.ajeno["id"])
    ),
    ("POST", "/api/tokens"): Caso(
        _nada, tipo="admin", cuerpo=lambda c, p: {"nombre": "t", "alcances": ["usuarios:leer"]}
    ),
    ("DELETE", "/api/tokens/{token_id}"): Caso(_token_ajeno, tipo="admin"),
    ("GET", "/api/tokens/alcances"): Caso(_nada, tipo="admin"),
    ("GET", "/api/agentes"): Caso(
        _nada, tipo="lista", contiene_ajeno=lambda r, ctx: _ids_en(r, "id", ctx.ajeno["agente_id"])
    ),
    ("GET", "/api/agentes/{agente_id}"): Caso(_agente_ajeno),
    ("PATCH", "/api/agentes/{agente_id}"): Caso(_agente_ajeno, tipo="admin", cuerpo=lambda c, p: {"activo": True}),
    ("GET", "/api/equipos"): Caso(
        _nada, tipo="lista", contiene_ajeno=lambda r, ctx: _ids_en(r, "id", ctx.equipo_ajeno)
    ),
    ("POST", "/api/equipos"): Caso(_nada, tipo="admin", cuerpo=lambda c, p: {"nombre": "Equipo nuevo"}),
    ("PATCH", "/api/equipos/{equipo_id}"): Caso(_equipo_ajeno, tipo="admin", cuerpo=lambda c, p: {"nombre": "Otro"}),
    # cumplimiento (admins only; consent also for supervisors of the contact's team)
    ("GET", "/api/supresiones"): Caso(_nada, tipo="admin"),
    ("POST", "/api/supresiones"): Caso(
        _nada, tipo="admin", cuerpo=lambda c, p: {"telefono": "5512345678", "motivo": "Prueba de matriz"}
    ),
    ("POST", "/api/supresiones/quitar"): Caso(
        _nada, tipo="admin", cuerpo=lambda c, p: {"telefono": "5512345678", "motivo": "Prueba de matriz"}
    ),
    ("POST", "/api/supresiones/importar"): Caso(_nada, tipo="admin"),
    ("GET", "/api/supresiones/exportar"): Caso(_nada, tipo="admin"),
    ("GET", "/api/auditoria"): Caso(_nada, tipo="admin"),
    ("PUT", "/api/cumplimiento/consentimiento/{contacto_id}"): Caso(
        _contacto_ajeno,
        cuerpo=lambda c, p: {"fuente": "formulario", "fecha": "2026-11-01T10:00:00-06:00", "evidencia": "Acepto"},
    ),
    ("POST", "/api/arco/exportar"): Caso(_nada, tipo="admin", cuerpo=lambda c, p: {"telefono": "5512345678"}),
    ("POST", "/api/arco/cancelar"): Caso(_nada, tipo="admin", cuerpo=lambda c, p: {"telefono": "5512345678"}),
    ("GET", "/api/cumplimiento/ajustes"): Caso(_nada, tipo="admin"),
    ("PUT", "/api/cumplimiento/ajustes"): Caso(_nada, tipo="admin", cuerpo=lambda c, p: {"frecuencia_dias": 7}),
    ("POST", "/api/cumplimiento/retencion"): Caso(_nada, tipo="admin"),
    # captura / conversaciones (inbox)
    ("GET", "/api/conversaciones"): Caso(
        _conversacion_ajena,
        tipo="lista",
        contiene_ajeno=lambda r, ctx: _ids_en(r, "agente_id", ctx.ajeno["agente_id"]),
    ),
    ("GET", "/api/conversaciones/{contacto_id}/mensajes"): Caso(_conversacion_ajena),
    ("POST", "/api/conversaciones/{contacto_id}/responder"): Caso(
        _conversacion_ajena, cuerpo=lambda c, p: {"texto": "Hola, ¿en qué le ayudo?"}
    ),
    ("POST", "/api/conversaciones/{contacto_id}/leida"): Caso(_conversacion_ajena),
    ("PUT", "/api/captura/alcance"): Caso(_nada, tipo="admin", cuerpo=lambda c, p: {"alcance": "negocio"}),
}


# ---- reportes, supervisión y webhooks (tiempo_real / reportes / webhooks) ----


async def _mensaje_ajeno(ctx: Contexto) -> dict[str, Any]:
    """A sent message (and its campaign) of the other team's agent, today: rows and rollup both exist."""
    from enlace.campanas.models import Campana
    from enlace.mensajes.models import MensajeEnviado

    async with ctx.nucleo.fabrica() as session:
        campana = Campana(agente_id=ctx.ajeno["agente_id"], nombre="Ajena", estado="activa")
        session.add(campana)
        await session.flush()
        ahora = ctx.nucleo.reloj.ahora()
        session.add(
            MensajeEnviado(
                agente_id=ctx.ajeno["agente_id"],
                campana_id=campana.id,
                numero_destino="+525598765432",
                wa_message_id="3EB0MATRIZ",
                estado="enviado",
                created_at=ahora,
                enviado_at=ahora,
            )
        )
        await session.commit()
        return {"campana_id": campana.id}


async def _suscripcion_webhook(ctx: Contexto) -> dict[str, Any]:
    r = await ctx.admin.post("/api/webhooks", json={"url": "http://127.0.0.1:9/crm", "eventos": ["*"]})
    assert r.status_code == 201, r.text
    return {"suscripcion_id": r.json()["id"]}


async def _entrega_webhook(ctx: Contexto) -> dict[str, Any]:
    datos = await _suscripcion_webhook(ctx)
    assert (await ctx.admin.post(f"/api/webhooks/{datos['suscripcion_id']}/probar")).status_code == 202
    entregas = (await ctx.admin.get(f"/api/webhooks/{datos['suscripcion_id']}/entregas")).json()
    return {**datos, "entrega_id": entregas[0]["id"]}


def _csv_tiene_agente(texto: Any, ctx: Contexto) -> bool:
    import csv
    import io

    filas = list(csv.reader(io.StringIO(str(texto).lstrip("\ufeff"))))
    return any(f[1:2] == [str(ctx.ajeno["agente_id"])] for f in filas[1:])


MATRIZ.update(
    {
        ("GET", "/api/reportes/mensajes"): Caso(
            _mensaje_ajeno, tipo="lista", contiene_ajeno=lambda r, ctx: _ids_en(r, "agente_id", ctx.ajeno["agente_id"])
        ),
        ("GET", "/api/reportes/mensajes/exportar"): Caso(
            _mensaje_ajeno, tipo="lista", contiene_ajeno=_csv_tiene_agente
        ),
        ("GET", "/api/reportes/tablero/agentes"): Caso(
            _mensaje_ajeno, tipo="lista", contiene_ajeno=lambda r, ctx: _ids_en(r, "agente_id", ctx.ajeno["agente_id"])
        ),
        ("GET", "/api/reportes/tablero/equipos"): Caso(
            _mensaje_ajeno, tipo="lista", contiene_ajeno=lambda r, ctx: _ids_en(r, "equipo_id", ctx.equipo_ajeno)
        ),
        ("GET", "/api/reportes/tablero/hoy"): Caso(
            _mensaje_ajeno,
            tipo="lista",
            contiene_ajeno=lambda r, ctx: _ids_en(r.get("por_agente"), "agente_id", ctx.ajeno["agente_id"]),
        ),
        ("GET", "/api/reportes/tablero/campanas/{campana_id}"): Caso(_mensaje_ajeno),
        ("GET", "/api/supervision/snapshot"): Caso(
            _mensaje_ajeno,
            tipo="lista",
            contiene_ajeno=lambda r, ctx: _ids_en(r.get("agentes"), "id", ctx.ajeno["agente_id"]),
        ),
        ("POST", "/api/supervision/avisos"): Caso(
            _agente_ajeno, cuerpo=lambda c, p: {"agenteId": p["agente_id"], "texto": "Aviso"}
        ),
        ("GET", "/api/webhooks"): Caso(_nada, tipo="admin"),
        ("POST", "/api/webhooks"): Caso(
            _nada, tipo="admin", cuerpo=lambda c, p: {"url": "https://crm.ejemplo.mx/enlace", "eventos": ["*"]}
        ),
        ("PATCH", "/api/webhooks/{suscripcion_id}"): Caso(
            _suscripcion_webhook, tipo="admin", cuerpo=lambda c, p: {"activa": False}
        ),
        ("DELETE", "/api/webhooks/{suscripcion_id}"): Caso(_suscripcion_webhook, tipo="admin"),
        ("POST", "/api/webhooks/{suscripcion_id}/probar"): Caso(_suscripcion_webhook, tipo="admin"),
        ("GET", "/api/webhooks/{suscripcion_id}/entregas"): Caso(_suscripcion_webhook, tipo="admin"),
        ("POST", "/api/webhooks/entregas/{entrega_id}/reenviar"): Caso(_entrega_webhook, tipo="admin"),
    }
)


# ---- carteras (uploads, imports, pool assignment, listings) ----

_CSV_MATRIZ = b"telefono,nombre\n5512340001,Uno\n5512340002,Dos\n"


async def _importacion_ajena(ctx: Contexto) -> dict[str, Any]:
    """The admin uploads a cartera for the other team's agent."""
    r = await ctx.admin.post(
        "/api/cartera/subir",
        files={"archivo": ("c.csv", _CSV_MATRIZ)},
        data={"nombre": "Ajena", "agenteId": str(ctx.ajeno["agente_id"])},
    )
    assert r.status_code == 201, r.text
    return {"importacion_id": r.json()["id"], "cartera_id": r.json()["cartera_id"]}


def _subida_ajena(ctx: Contexto, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "files": {"archivo": ("c.csv", b"telefono\n5512349999\n")},
        "data": {"nombre": "Intento", "agenteId": str(ctx.ajeno["agente_id"])},
    }


MATRIZ.update(
    {
        ("POST", "/api/cartera/subir"): Caso(_agente_ajeno, multipart=_subida_ajena),
        ("GET", "/api/cartera/importaciones"): Caso(
            _importacion_ajena,
            tipo="lista",
            contiene_ajeno=lambda r, ctx: _ids_en(r, "agente_id", ctx.ajeno["agente_id"]),
        ),
        ("GET", "/api/cartera/importaciones/{importacion_id}"): Caso(_importacion_ajena),
        ("GET", "/api/cartera/importaciones/{importacion_id}/reporte"): Caso(_importacion_ajena),
        ("POST", "/api/cartera/auto-asignar"): Caso(
            _agente_ajeno, cuerpo=lambda c, p: {"agenteId": p["agente_id"], "cantidad": 1}
        ),
        ("POST", "/api/cartera/reasignar"): Caso(
            _contacto_ajeno, cuerpo=lambda c, p: {"contactoIds": [p["contacto_id"]], "agenteId": None}
        ),
        ("GET", "/api/carteras"): Caso(
            _importacion_ajena,
            tipo="lista",
            contiene_ajeno=lambda r, ctx: _ids_en(r, "agente_id", ctx.ajeno["agente_id"]),
        ),
        ("GET", "/api/carteras/{cartera_id}"): Caso(_importacion_ajena),
        ("GET", "/api/contactos"): Caso(
            _contacto_ajeno,
            tipo="lista",
            contiene_ajeno=lambda r, ctx: _ids_en(r, "agente_id", ctx.ajeno["agente_id"]),
        ),
        ("GET", "/api/contactos/{contacto_id}"): Caso(_contacto_ajeno),
    }
)


# ---- plantillas, campañas y envíos (campanas / envios) ----


async def _plantilla_ajena(ctx: Contexto) -> dict[str, Any]:
    """A template, a cartera with one contact, a campaign and a safety stop of the other team's agent."""
    from enlace.campanas.models import Campana, ParadaSeguridad, PerfilEnvio
    from enlace.carteras.models import Cartera, Contacto
    from enlace.plantillas.models import Plantilla

    agente_id = ctx.ajeno["agente_id"]
    async with ctx.nucleo.fabrica() as session:
        plantilla = Plantilla(nombre="Ajena", agente_id=agente_id, variantes=["Hola {nombre}"])
        cartera = Cartera(agente_id=agente_id, nombre="Ajena", fuente="manual")
        perfil = PerfilEnvio(nombre="Perfil matriz", config={})
        session.add_all([plantilla, cartera, perfil])
        await session.flush()
        session.add(Contacto(cartera_id=cartera.id, agente_id=agente_id, nombre="Ajeno", telefono="+525598760000"))
        campana = Campana(agente_id=agente_id, cartera_id=cartera.id, nombre="Ajena", plantilla_id=plantilla.id)
        parada = ParadaSeguridad(agente_id=agente_id, motivo="capping", detalle="Prueba de matriz")
        session.add_all([campana, parada])
        await session.commit()
        return {
            "plantilla_id": plantilla.id,
            "cartera_id": cartera.id,
            "campana_id": campana.id,
            "parada_id": parada.id,
            "perfil_id": perfil.id,
            "agente_id": agente_id,
        }


def _de_ajeno(r: Any, ctx: Contexto) -> bool:
    return _ids_en(r, "agente_id", ctx.ajeno["agente_id"])


PROPIAS.add(("GET", "/api/perfiles-envio"))  # sending profiles are company data, not any agent's

MATRIZ.update(
    {
        ("GET", "/api/plantillas"): Caso(_plantilla_ajena, tipo="lista", contiene_ajeno=_de_ajeno),
        ("POST", "/api/plantillas"): Caso(
            _plantilla_ajena, cuerpo=lambda c, p: {"nombre": "X", "variantes": ["Hola"], "agente_id": p["agente_id"]}
        ),
        ("POST", "/api/plantillas/previa"): Caso(
            _plantilla_ajena, cuerpo=lambda c, p: {"plantilla_id": p["plantilla_id"], "cartera_id": p["cartera_id"]}
        ),
        ("GET", "/api/plantillas/{plantilla_id}"): Caso(_plantilla_ajena),
        ("PATCH", "/api/plantillas/{plantilla_id}"): Caso(_plantilla_ajena, cuerpo=lambda c, p: {"nombre": "Z"}),
        ("DELETE", "/api/plantillas/{plantilla_id}"): Caso(_plantilla_ajena),
        ("GET", "/api/campanas"): Caso(_plantilla_ajena, tipo="lista", contiene_ajeno=_de_ajeno),
        ("POST", "/api/campana"): Caso(
            _plantilla_ajena,
            cuerpo=lambda c, p: {"nombre": "C", "carteraId": p["cartera_id"], "agenteId": p["agente_id"]},
        ),
        ("POST", "/api/campana/iniciar"): Caso(_plantilla_ajena, cuerpo=lambda c, p: {"campanaId": p["campana_id"]}),
        ("PATCH", "/api/campana/{campana_id}/estado"): Caso(
            _plantilla_ajena, cuerpo=lambda c, p: {"estado": "cancelada"}
        ),
        ("GET", "/api/campana/{campana_id}/estado"): Caso(_plantilla_ajena),
        ("GET", "/api/campana/{campana_id}/previa-lanzamiento"): Caso(_plantilla_ajena),
        ("POST", "/api/perfiles-envio"): Caso(_nada, tipo="admin", cuerpo=lambda c, p: {"nombre": "Lento"}),
        ("PATCH", "/api/perfiles-envio/{perfil_id}"): Caso(
            _plantilla_ajena, tipo="admin", cuerpo=lambda c, p: {"config": {"por_dia_max": 180}}
        ),
        ("GET", "/api/envios/paradas"): Caso(_plantilla_ajena, tipo="lista", contiene_ajeno=_de_ajeno),
        ("POST", "/api/envios/paradas/{parada_id}/reanudar"): Caso(_plantilla_ajena),
    }
)


# ---- líneas oficiales (oficial) ----


async def _linea_ajena(ctx: Contexto) -> dict[str, Any]:
    """An official line bound to the other team's agent, with one priced message of its campaign."""
    from enlace.campanas.models import Campana
    from enlace.mensajes.models import MensajeEnviado
    from enlace.oficial.models import LineaOficial, PrecioMensaje

    agente_id = ctx.ajeno["agente_id"]
    async with ctx.nucleo.fabrica() as session:
        linea = LineaOficial(
            agente_id=agente_id,
            phone_number_id="1900000000001",
            waba_id="2900000000002",
            base_url="https://graph.facebook.com",
            verify_token="matriz",
            secretos=b"x",
            clave_id="k",
        )
        campana = Campana(agente_id=agente_id, nombre="Ajena oficial", canal="oficial")
        session.add_all([linea, campana])
        await session.flush()
        mensaje = MensajeEnviado(
            agente_id=agente_id, campana_id=campana.id, wa_message_id="enl.MATRIZ", estado="enviado"
        )
        session.add(mensaje)
        await session.flush()
        session.add(
            PrecioMensaje(
                mensaje_id=mensaje.id,
                agente_id=agente_id,
                campana_id=campana.id,
                categoria="marketing",
                facturable=True,
                modelo="PMP",
                momento=ctx.nucleo.reloj.ahora(),
            )
        )
        await session.commit()
        return {"linea_id": linea.id, "agente_id": agente_id}


PROPIAS.add(("GET", "/api/oficial/tarifas"))  # the MXN price table is company data, not any agent's

MATRIZ.update(
    {
        ("GET", "/api/oficial/lineas"): Caso(_linea_ajena, tipo="lista", contiene_ajeno=_de_ajeno),
        ("GET", "/api/oficial/lineas/{linea_id}/historial"): Caso(_linea_ajena),
        ("POST", "/api/oficial/lineas"): Caso(
            _linea_ajena,
            tipo="admin",
            cuerpo=lambda c, p: {
                "phone_number_id": "1900000000009",
                "waba_id": "2900000000002",
                "token": "EAAtokenmatriz",
                "app_secret": "s",
                "agente_id": p["agente_id"],
            },
        ),
        ("PATCH", "/api/oficial/lineas/{linea_id}"): Caso(
            _linea_ajena, tipo="admin", cuerpo=lambda c, p: {"activa": False}
        ),
        ("POST", "/api/oficial/lineas/{linea_id}/verificar"): Caso(_linea_ajena, tipo="admin"),
        ("PUT", "/api/oficial/tarifas"): Caso(
            _nada, tipo="admin", cuerpo=lambda c, p: [{"categoria": "marketing", "precio_mxn": "0.6"}]
        ),
        ("GET", "/api/oficial/costos"): Caso(
            _linea_ajena,
            tipo="lista",
            contiene_ajeno=lambda r, ctx: "Ajena oficial" in str(r),
        ),
        ("POST", "/api/oficial/plantillas/sincronizar"): Caso(_nada, tipo="admin"),
    }
)


def _cuerpo(r: Any) -> Any:
    """JSON bodies parsed; anything else (CSV exports) as text for `contiene_ajeno`."""
    return r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text


def _rutas(app: Any) -> set[tuple[str, str]]:
    """Every documented (method, path) of the app, from its OpenAPI schema."""
    rutas = set()
    for ruta, operaciones in app.openapi()["paths"].items():
        for metodo in operaciones:
            if metodo.upper() not in ("HEAD", "OPTIONS"):
                rutas.add((metodo.upper(), ruta))
    return rutas


def _areas(app: Any) -> dict[tuple[str, str], str | None]:
    """(method, path) → the scope area the route declared."""
    return {(m, r.path): area_de_ruta(r) for r in rutas_de(app) for m in getattr(r, "methods", None) or ()}


def test_cada_ruta_esta_en_la_matriz(app: Any) -> None:
    faltan = sorted(_rutas(app) - PUBLICAS - PROPIAS - set(MATRIZ))
    assert not faltan, f"Rutas sin caso en la matriz de autorización: {faltan}"
    sobran = sorted(set(MATRIZ) - _rutas(app))
    assert not sobran, f"Casos de la matriz para rutas que ya no existen: {sobran}"


def _parametros() -> list[Any]:
    return [pytest.param(clave, id=f"{clave[0]} {clave[1]}") for clave in sorted(MATRIZ)]


@pytest.mark.parametrize("clave", _parametros())
async def test_ruta_niega_recursos_ajenos(
    clave: tuple[str, str], app: Any, cliente: Any, cliente_como: Any, crear_usuario: Any, equipo: Any, nucleo: Any
) -> None:
    metodo, plantilla = clave
    caso = MATRIZ[clave]
    equipo_propio = await equipo("Propio")
    equipo_ajeno = await equipo("Ajeno")
    ajeno = await crear_usuario("agente", equipo_id=equipo_ajeno)
    admin = await cliente_como("admin")
    agente = await cliente_como("agente", equipo_id=equipo_propio)
    supervisor = await cliente_como("supervisor", equipo_id=equipo_propio)
    ctx = Contexto(nucleo=nucleo, ajeno=ajeno, equipo_ajeno=equipo_ajeno, admin=admin)
    params = await caso.preparar(ctx)
    ruta = plantilla.format(**params)
    cuerpo = caso.cuerpo(ctx, params) if caso.cuerpo else None

    async def pedir(c: Any, token: str | None = None) -> Any:
        kwargs: dict[str, Any] = {}
        if cuerpo is not None:
            kwargs["json"] = cuerpo
        if caso.multipart is not None:
            kwargs.update(caso.multipart(ctx, params))
        if token is not None:
            kwargs["headers"] = {"Authorization": f"Bearer {token}"}
        return await c.request(metodo, ruta, **kwargs)

    async def token(alcances: list[str], usuario_id: int | None = None) -> str:
        r = await admin.post("/api/tokens", json={"nombre": "matriz", "alcances": alcances, "usuario_id": usuario_id})
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    anonima = await pedir(cliente)
    assert anonima.status_code == 401, f"{metodo} {ruta} sin sesión dio {anonima.status_code}"
    area = _areas(app)[clave]
    assert area is not None, f"{metodo} {plantilla} no declara su alcance"
    necesario = alcance_necesario(area, metodo)
    otra_area = next(a for a in AREAS if a != area)
    negados = [[f"{otra_area}:escribir"]] + ([[f"{area}:leer"]] if necesario.endswith(":escribir") else [])
    for alcances in negados:
        r = await pedir(cliente, await token(alcances))
        assert r.status_code == 403, f"token {alcances} obtuvo {r.status_code} en {metodo} {ruta}: {r.text}"
    token_agente = await token(["*"], usuario_id=agente.usuario["id"])
    for nombre, c, t in (("agente", agente, None), ("supervisor", supervisor, None), ("token*", cliente, token_agente)):
        r = await pedir(c, t)
        if caso.tipo == "lista":
            assert r.status_code in (200, 403), f"{nombre}: {r.status_code} {r.text}"
            if r.status_code == 200:
                datos = _cuerpo(r)
                datos = datos.get("items", datos) if isinstance(datos, dict) else datos
                assert caso.contiene_ajeno is not None
                assert not caso.contiene_ajeno(datos, ctx), f"{nombre} ve datos ajenos en {metodo} {ruta}"
        else:
            assert r.status_code in (403, 404), f"{nombre} obtuvo {r.status_code} en {metodo} {ruta}: {r.text}"
    token_justo = await token([necesario])
    if metodo == "GET":
        r = await pedir(cliente, token_justo)
        assert r.status_code not in (401, 403), f"token {necesario} negado en {metodo} {ruta}: {r.text}"
        r_admin = await pedir(admin)
    else:
        # A write runs once: through the admin's token holding exactly the route's scope.
        r_admin = await pedir(cliente, token_justo)
    assert r_admin.status_code not in (401, 403), f"admin negado en {metodo} {ruta}: {r_admin.text}"
    if caso.tipo == "lista" and r_admin.status_code == 200 and caso.contiene_ajeno:
        datos = _cuerpo(r_admin)
        datos = datos.get("items", datos) if isinstance(datos, dict) else datos
        assert caso.contiene_ajeno(datos, ctx), f"el admin debería ver los datos del otro agente en {ruta}"
