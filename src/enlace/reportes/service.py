"""Report decisions: filters validated into queries, keyset cursors, dashboard figures, snapshot, exports."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enlace.comun.actor import Actor
from enlace.comun.alcance import exigir_agente, exigir_rol
from enlace.comun.eventos import SupervisionAviso
from enlace.comun.telefonos import Rechazo, normalizar
from enlace.db.texto import digitos_de_busqueda
from enlace.errores import EntradaInvalida, NoEncontrado
from enlace.mensajes.models import ESTADOS_MENSAJE
from enlace.reportes import repository as repo
from enlace.reportes.exportar import csv_en_flujo, xlsx_en_flujo
from enlace.reportes.schemas import (
    AgenteSnapshot,
    AvisoCrear,
    CampanaActiva,
    Contadores,
    ContadoresHoy,
    EmbudoCampana,
    FilaAgenteDia,
    FilaEquipo,
    MensajeReporte,
    PaginaMensajes,
    ParadaActiva,
    SesionResumen,
    Snapshot,
)
from enlace.tiempo_real.bus import emitir
from enlace.tiempo_real.salas import salas_permitidas

LIMITE_POR_DEFECTO = 50
LIMITE_MAXIMO = 500
MAX_DIAS_TABLERO = 400
# XLSX sheets stop at 1,048,576 rows; CSV exports share the cap so both formats agree.
MAX_FILAS_EXPORTACION = 1_000_000

# Column titles a supervisor reads; the JSON API keeps its field names (id, agente_id, …) in the same order.
ENCABEZADOS_EXPORTACION = (
    "Folio",
    "ID de agente",
    "Agente",
    "ID de campaña",
    "ID de contacto",
    "Origen",
    "Número que envió",
    "Número destino",
    "Mensaje",
    "Tipo",
    "Estado",
    "ID de WhatsApp",
    "Creado",
    "Enviado",
    "Entregado",
    "Leído",
    "Falló",
    "Código de error",
    "Fecha del reporte",
)


# ---- filters -------------------------------------------------------------------------------------


def _dia(texto: str, campo: str) -> date:
    try:
        return date.fromisoformat(texto.strip())
    except ValueError:
        raise EntradaInvalida(f"{campo}: «{texto}» no es una fecha válida (AAAA-MM-DD).") from None


def rango_dias(fecha: str | None, desde: str | None, hasta: str | None) -> tuple[date, date] | None:
    """`fecha` = one day or 'AAAA-MM-DD..AAAA-MM-DD'; or `desde`/`hasta`. Inclusive local days."""
    if fecha:
        if ".." in fecha:
            a, _, b = fecha.partition("..")
            inicio, fin = _dia(a, "fecha"), _dia(b, "fecha")
        else:
            inicio = fin = _dia(fecha, "fecha")
    elif desde or hasta:
        inicio = _dia(desde, "desde") if desde else date(2000, 1, 1)
        fin = _dia(hasta, "hasta") if hasta else date(2100, 1, 1)
    else:
        return None
    if fin < inicio:
        raise EntradaInvalida("fecha: el final del rango es anterior al inicio.")
    return inicio, fin


def limites_utc(inicio: date, fin: date, zona: ZoneInfo) -> tuple[datetime, datetime]:
    """Local days [inicio, fin] → UTC instants [desde, hasta)."""
    return (
        datetime.combine(inicio, time.min, tzinfo=zona),
        datetime.combine(fin + timedelta(days=1), time.min, tzinfo=zona),
    )


def numero_canonico(numero: str) -> str:
    resultado = normalizar(numero)
    if isinstance(resultado, Rechazo):
        raise EntradaInvalida(f"numero: {resultado.motivo}.")
    return resultado.canonico


# Fewer digits than this match too many numbers to be a search.
MIN_DIGITOS_NUMERO = 4


def filtro_numero(numero: str) -> tuple[str | None, str | None]:
    """(exact canonical number, digits to find inside numbers): a whole number is exact, a part is searched."""
    resultado = normalizar(numero)
    if not isinstance(resultado, Rechazo):
        return resultado.canonico, None
    digitos = digitos_de_busqueda(numero, minimo=1)
    if digitos is None:
        raise EntradaInvalida("numero: escribe solo dígitos (espacios y guiones valen), por ejemplo 55 1234.")
    if len(digitos) < MIN_DIGITOS_NUMERO:
        raise EntradaInvalida(f"numero: escribe al menos {MIN_DIGITOS_NUMERO} dígitos para buscar por número.")
    return None, digitos


def estados_validos(estado: str | None) -> tuple[str, ...]:
    if not estado:
        return ()
    estados = tuple(dict.fromkeys(e.strip() for e in estado.split(",") if e.strip()))
    invalidos = [e for e in estados if e not in ESTADOS_MENSAJE]
    if invalidos:
        raise EntradaInvalida(f"estado: «{invalidos[0]}» no es un estado; usa uno de: {', '.join(ESTADOS_MENSAJE)}.")
    return estados


async def construir_filtro(
    session: AsyncSession,
    actor: Actor,
    zona: ZoneInfo,
    *,
    agente_id: int | None,
    equipo_id: int | None,
    campana_id: int | None,
    numero: str | None,
    estado: str | None,
    fecha: str | None,
    desde: str | None,
    hasta: str | None,
) -> repo.FiltroMensajes:
    """Validate the query (naming the bad field) before anything runs."""
    if agente_id is not None:
        await exigir_agente(session, actor, agente_id)
    if equipo_id is not None and not actor.es_admin and equipo_id not in actor.equipo_ids:
        raise NoEncontrado("El equipo no existe o no tienes acceso a él.")
    filtro = repo.FiltroMensajes(
        agente_id=agente_id,
        equipo_id=equipo_id,
        campana_id=campana_id,
        estados=estados_validos(estado),
    )
    if numero and numero.strip():
        filtro.numero, filtro.numero_parcial = filtro_numero(numero)
    rango = rango_dias(fecha, desde, hasta)
    if rango:
        filtro.desde, filtro.hasta = limites_utc(*rango, zona)
    return filtro


# ---- keyset cursor -------------------------------------------------------------------------------


def codificar_cursor(creado: datetime, ident: int) -> str:
    return base64.urlsafe_b64encode(f"{creado.isoformat()}|{ident}".encode()).decode().rstrip("=")


def decodificar_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        texto = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        creado, _, ident = texto.partition("|")
        momento = datetime.fromisoformat(creado)
        if momento.tzinfo is None:
            raise ValueError
        return momento, int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise EntradaInvalida("cursor: no es válido; vuelve a pedir la primera página.") from None


async def pagina_mensajes(
    session: AsyncSession, actor: Actor, filtro: repo.FiltroMensajes, limite: int, cursor: str | None
) -> PaginaMensajes:
    if not 1 <= limite <= LIMITE_MAXIMO:
        raise EntradaInvalida(f"limite: debe estar entre 1 y {LIMITE_MAXIMO}.")
    despues = decodificar_cursor(cursor) if cursor else None
    filas = await repo.pagina_mensajes(session, actor, filtro, limite, despues)
    items = [MensajeReporte.model_validate(dict(f._mapping)) for f in filas[:limite]]
    siguiente = codificar_cursor(items[-1].fecha_reporte, items[-1].id) if len(filas) > limite and items else None
    return PaginaMensajes(items=items, siguiente=siguiente)


# ---- exports -------------------------------------------------------------------------------------


async def exportar(
    fabrica: async_sessionmaker[AsyncSession],
    actor: Actor,
    filtro: repo.FiltroMensajes,
    formato: str,
    zona: ZoneInfo,
    maximo: int = MAX_FILAS_EXPORTACION,
) -> AsyncIterator[bytes]:
    """The export body, streamed from its own session (the request's has committed by then)."""

    async def lotes() -> AsyncIterator[list[tuple[Any, ...]]]:
        async with fabrica() as session:
            async for lote in repo.flujo_mensajes(session, actor, filtro, maximo):
                yield lote

    if formato == "xlsx":
        flujo = xlsx_en_flujo(ENCABEZADOS_EXPORTACION, lotes(), zona=zona, hoja="Mensajes", por_lotes=True)
    else:
        flujo = csv_en_flujo(ENCABEZADOS_EXPORTACION, lotes(), zona=zona, por_lotes=True)
    async for bloque in flujo:
        yield bloque


# ---- dashboards ----------------------------------------------------------------------------------


def _contadores(fila: dict[str, Any]) -> dict[str, Any]:
    enviados = int(fila.get("enviados") or 0)
    respondidos = int(fila.get("respondidos") or 0)
    mediana = fila.get("mediana")
    return {
        "enviados": enviados,
        "entregados": int(fila.get("entregados") or 0),
        "leidos": int(fila.get("leidos") or 0),
        "respondidos": respondidos,
        "bajas": int(fila.get("bajas") or 0),
        "fallidos": int(fila.get("fallidos") or 0),
        "tasa_respuesta": round(respondidos / enviados, 4) if enviados else None,
        "mediana_respuesta_s": float(mediana) if mediana is not None else None,
    }


def dia_local(ahora: datetime, zona: ZoneInfo) -> date:
    return ahora.astimezone(zona).date()


async def filtro_tablero(
    session: AsyncSession,
    actor: Actor,
    *,
    hoy: date,
    fecha: str | None,
    desde: str | None,
    hasta: str | None,
    agente_id: int | None,
    equipo_id: int | None,
) -> repo.FiltroTablero:
    rango = rango_dias(fecha, desde, hasta) or (hoy, hoy)
    if (rango[1] - rango[0]).days > MAX_DIAS_TABLERO:
        raise EntradaInvalida(f"fecha: el rango del tablero no puede pasar de {MAX_DIAS_TABLERO} días.")
    if agente_id is not None:
        await exigir_agente(session, actor, agente_id)
    if equipo_id is not None and not actor.es_admin and equipo_id not in actor.equipo_ids:
        raise NoEncontrado("El equipo no existe o no tienes acceso a él.")
    return repo.FiltroTablero(desde=rango[0], hasta=rango[1], agente_id=agente_id, equipo_id=equipo_id)


async def tablero_agentes(session: AsyncSession, actor: Actor, filtro: repo.FiltroTablero) -> list[FilaAgenteDia]:
    filas = await repo.tablero_agentes_dia(session, actor, filtro)
    return [
        FilaAgenteDia(
            agente_id=f["agente_id"],
            agente_nombre=f["agente_nombre"],
            equipo_id=f["equipo_id"],
            dia=f["dia"],
            **_contadores(f),
        )
        for f in filas
    ]


async def tablero_equipos(session: AsyncSession, actor: Actor, filtro: repo.FiltroTablero) -> list[FilaEquipo]:
    exigir_rol(actor, "admin", "supervisor")
    filas = await repo.tablero_equipos(session, actor, filtro)
    return [
        FilaEquipo(equipo_id=f["equipo_id"], equipo_nombre=f["equipo_nombre"], agentes=f["agentes"], **_contadores(f))
        for f in filas
    ]


async def embudo_campana(session: AsyncSession, actor: Actor, campana_id: int) -> EmbudoCampana:
    campana = await repo.campana_visible(session, actor, campana_id)
    if campana is None:
        raise NoEncontrado("La campaña no existe o no tienes acceso a ella.")
    figuras, por_estado = await repo.embudo_campana(session, campana_id)
    return EmbudoCampana(
        campana_id=campana.id,
        nombre=campana.nombre,
        agente_id=campana.agente_id,
        estado=campana.estado,
        total_mensajes=max(campana.total_mensajes, sum(por_estado.values())),
        por_estado=por_estado,
        sin_whatsapp=por_estado.get("sin_whatsapp", 0),
        sin_acuse=int(figuras.get("sin_acuse") or 0),
        **_contadores(figuras),
    )


async def contadores_hoy(session: AsyncSession, actor: Actor, hoy: date) -> ContadoresHoy:
    filtro = repo.FiltroTablero(desde=hoy, hasta=hoy)
    por_agente = await tablero_agentes(session, actor, filtro)
    return ContadoresHoy(
        dia=hoy, totales=Contadores(**_contadores(await repo.totales(session, actor, filtro))), por_agente=por_agente
    )


# ---- supervision ---------------------------------------------------------------------------------


async def snapshot(session: AsyncSession, actor: Actor, ahora: datetime, zona: ZoneInfo) -> Snapshot:
    """Everything the supervision panel paints first; afterwards it applies realtime events."""
    hoy = dia_local(ahora, zona)
    hoy_por_agente = await repo.contadores_dia_por_agente(session, actor, hoy)
    agentes = []
    for agente, sesion in await repo.agentes_con_sesion(session, actor):
        agentes.append(
            AgenteSnapshot(
                id=agente.id,
                nombre=agente.nombre,
                equipo_id=agente.equipo_id,
                activo=agente.activo,
                sesion=SesionResumen(
                    estado=sesion.estado,
                    numero_wa=sesion.numero_wa,
                    nodo_id=sesion.nodo_id,
                    conectada_at=sesion.conectada_at,
                    ultima_actividad_at=sesion.ultima_actividad_at,
                    motivo=sesion.motivo,
                )
                if sesion is not None
                else None,
                hoy=Contadores(**_contadores(hoy_por_agente.get(agente.id, {}))),
            )
        )
    totales = await repo.totales(session, actor, repo.FiltroTablero(desde=hoy, hasta=hoy))
    return Snapshot(
        generado_at=ahora,
        dia=hoy,
        agentes=agentes,
        totales_hoy=Contadores(**_contadores(totales)),
        campanas_activas=[
            CampanaActiva(
                id=c.id,
                nombre=c.nombre,
                agente_id=c.agente_id,
                estado=c.estado,
                total_mensajes=c.total_mensajes,
                enviados=c.enviados,
                fallidos=c.fallidos,
                iniciada_at=c.iniciada_at,
            )
            for c in await repo.campanas_activas(session, actor)
        ],
        paradas=[
            ParadaActiva(id=p.id, agente_id=p.agente_id, motivo=p.motivo, detalle=p.detalle, created_at=p.created_at)
            for p in await repo.paradas_activas(session, actor)
        ],
        salas=salas_permitidas(actor),
    )


async def enviar_aviso(session: AsyncSession, actor: Actor, datos: AvisoCrear, ahora: datetime) -> list[str]:
    """A supervisor's notice to one agent or a whole team, shown live on their panels."""
    exigir_rol(actor, "admin", "supervisor")
    if (datos.agente_id is None) == (datos.equipo_id is None):
        raise EntradaInvalida("agenteId/equipoId: indica exactamente uno de los dos.")
    if datos.agente_id is not None:
        await exigir_agente(session, actor, datos.agente_id)
        salas = [f"agente:{datos.agente_id}"]
    else:
        assert datos.equipo_id is not None
        if not actor.es_admin and datos.equipo_id not in actor.equipo_ids:
            raise NoEncontrado("El equipo no existe o no tienes acceso a él.")
        agentes = await repo.agentes_de_equipo(session, datos.equipo_id)
        salas = [f"equipo:{datos.equipo_id}", *(f"agente:{a}" for a in agentes)]
    salas.append("supervision")
    emitir(
        session,
        SupervisionAviso(
            texto=datos.texto,
            de=actor.nombre,
            de_usuario_id=actor.usuario_id,
            at=ahora,
            agente_id=datos.agente_id,
            equipo_id=datos.equipo_id,
        ),
        None,
        salas,
    )
    return salas
