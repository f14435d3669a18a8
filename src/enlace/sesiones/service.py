"""Reads of session state for the API: the stored row plus what the holding node knows (QR, code)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente
from enlace.comun.actor import Actor
from enlace.comun.alcance import exigir_agente
from enlace.sesiones import repository as repo
from enlace.sesiones.models import SesionWA
from enlace.sesiones.schemas import SesionesEstado, SesionSalida

if TYPE_CHECKING:
    from enlace.sesiones.manager import SessionManager


def _salida(
    agente: Agente | None,
    agente_id: int,
    fila: SesionWA | None,
    gestor: SessionManager | None,
    vinculadas: set[int],
) -> SesionSalida:
    salida = SesionSalida(
        agente_id=agente_id,
        agente_nombre=agente.nombre if agente else None,
        estado=fila.estado if fila else "desconectada",
        motivo=fila.motivo if fila else None,
        numero_wa=fila.numero_wa if fila else None,
        wa_jid=fila.wa_jid if fila else None,
        nodo_id=fila.nodo_id if fila else None,
        conectada_at=fila.conectada_at if fila else None,
        ultima_actividad_at=fila.ultima_actividad_at if fila else None,
        tiene_credenciales=agente_id in vinculadas,
    )
    vivo = gestor.vivo(agente_id) if gestor else None
    if vivo is not None:
        salida.en_este_nodo = True
        salida.capping = vivo.capping
        if vivo.estado == "esperando_qr":
            salida.qr = vivo.qr
            salida.qr_expira_at = vivo.qr_expira
            salida.codigo_emparejamiento = vivo.codigo
            salida.codigo_expira_at = vivo.codigo_expira if vivo.codigo else None
    return salida


async def estado_de(session: AsyncSession, actor: Actor, agente_id: int, gestor: SessionManager | None) -> SesionSalida:
    await exigir_agente(session, actor, agente_id)
    fila = await repo.obtener(session, agente_id)
    if fila is not None:
        await session.refresh(fila)  # the manager wrote it through another connection
    agente = await session.get(Agente, agente_id)
    return _salida(agente, agente_id, fila, gestor, await repo.agentes_con_credenciales(session, [agente_id]))


async def listar(session: AsyncSession, actor: Actor, gestor: SessionManager | None) -> SesionesEstado:
    filas = await repo.listar_con_agentes(session, actor)
    vinculadas = await repo.agentes_con_credenciales(session, [agente.id for agente, _ in filas])
    items = [_salida(agente, agente.id, fila, gestor, vinculadas) for agente, fila in filas]
    resumen: dict[str, int] = {}
    for item in items:
        resumen[item.estado] = resumen.get(item.estado, 0) + 1
    return SesionesEstado(
        items=items,
        resumen=resumen,
        en_este_nodo=gestor.sesiones_en_nodo if gestor else 0,
        capacidad_nodo=gestor.max_sesiones if gestor else 0,
    )
