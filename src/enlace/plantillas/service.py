"""Template decisions: who may write which template, and previews rendered on real contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from enlace.carteras.models import Contacto
from enlace.comun.actor import Actor
from enlace.comun.alcance import exigir_agente
from enlace.comun.horario import zona_del_contacto
from enlace.cumplimiento.ajustes import ajustes_cumplimiento
from enlace.cumplimiento.service import no_interesados_vigentes
from enlace.errores import EntradaInvalida, NoEncontrado, Prohibido
from enlace.plantillas import repository as repo
from enlace.plantillas.models import Plantilla
from enlace.plantillas.render import ErrorPlantilla, campos, previsualizar, validar_variantes
from enlace.plantillas.schemas import (
    ErrorCampoSalida,
    PlantillaActualizar,
    PlantillaCrear,
    PlantillaSalida,
    PreviaContacto,
    PreviaPeticion,
    PreviaSalida,
)

MAX_PREVIA = 5000


def validar(variantes: list[str]) -> list[str]:
    limpias = [v.strip() for v in variantes]
    try:
        validar_variantes(limpias)
    except ErrorPlantilla as exc:
        raise EntradaInvalida(f"variantes: {exc.mensaje}", campos=["variantes"]) from exc
    return limpias


def salida(p: Plantilla) -> PlantillaSalida:
    s = PlantillaSalida.model_validate(p)
    try:
        s.campos = sorted(campos(p.variantes))
    except ErrorPlantilla:
        s.campos = []
    return s


def datos_contacto(c: Contacto) -> dict[str, Any]:
    """What placeholders can read: the contact's own fields and every cartera column."""
    datos: dict[str, Any] = {str(k).lower(): v for k, v in (c.datos_credito or {}).items()}
    datos.update({"nombre": c.nombre, "telefono": c.telefono})
    if c.estado_mx:
        datos.setdefault("estado", c.estado_mx)
    return datos


def zona_contacto(c: Contacto, zona_campana: str) -> str:
    """The contact's zone name by the one precedence (`enlace.comun.horario`), for the greeting."""
    return zona_del_contacto(c.zona_horaria, c.estado_mx, zona_campana).key


async def _puede_escribir(session: AsyncSession, actor: Actor, p: Plantilla) -> None:
    if p.agente_id is None:
        if not actor.es_admin and not actor.es_supervisor:
            raise Prohibido("Solo supervisores y administradores modifican plantillas compartidas.")
        return
    await exigir_agente(session, actor, p.agente_id)


async def crear(session: AsyncSession, actor: Actor, datos: PlantillaCrear) -> Plantilla:
    variantes = validar(datos.variantes)
    agente_id = datos.agente_id
    if actor.es_agente:
        if agente_id not in (None, actor.agente_id):
            raise Prohibido("Solo puedes crear plantillas propias.")
        agente_id = actor.agente_id
    elif agente_id is not None:
        await exigir_agente(session, actor, agente_id)
    p = Plantilla(
        nombre=datos.nombre.strip(),
        agente_id=agente_id,
        variantes=variantes,
        plantilla_oficial=datos.plantilla_oficial,
        creada_por=actor.usuario_id or None,
    )
    session.add(p)
    await session.flush()
    return p


async def obtener(session: AsyncSession, actor: Actor, plantilla_id: int) -> Plantilla:
    p = await repo.obtener(session, actor, plantilla_id)
    if p is None:
        raise NoEncontrado("La plantilla no existe o no tienes acceso a ella.")
    return p


async def actualizar(session: AsyncSession, actor: Actor, plantilla_id: int, datos: PlantillaActualizar) -> Plantilla:
    p = await obtener(session, actor, plantilla_id)
    await _puede_escribir(session, actor, p)
    if datos.variantes is not None:
        p.variantes = validar(datos.variantes)
    if datos.nombre is not None:
        p.nombre = datos.nombre.strip()
    if datos.activa is not None:
        p.activa = datos.activa
    if datos.plantilla_oficial is not None:
        p.plantilla_oficial = datos.plantilla_oficial
    await session.flush()
    return p


async def eliminar(session: AsyncSession, actor: Actor, plantilla_id: int) -> None:
    """Soft delete: campaigns that used it keep their rendered messages; it just can't be chosen."""
    p = await obtener(session, actor, plantilla_id)
    await _puede_escribir(session, actor, p)
    p.activa = False
    await session.flush()


async def previa(session: AsyncSession, actor: Actor, datos: PreviaPeticion, ahora: datetime) -> PreviaSalida:
    if datos.variantes is not None:
        variantes = validar(datos.variantes)
    elif datos.plantilla_id is not None:
        variantes = (await obtener(session, actor, datos.plantilla_id)).variantes
    else:
        raise EntradaInvalida("plantilla_id: indica una plantilla o escribe variantes.", campos=["plantilla_id"])
    if datos.cartera_id is None and not datos.contacto_ids:
        raise EntradaInvalida("cartera_id: indica una cartera o contactos para la vista previa.", campos=["cartera_id"])
    contactos = await repo.contactos_para_previa(
        session, actor, cartera_id=datos.cartera_id, contacto_ids=datos.contacto_ids, limite=MAX_PREVIA
    )
    nombres = {c.id: c.nombre for c in contactos}
    muestras: list[PreviaContacto] = []
    errores: list[PreviaContacto] = []
    retenidos: list[PreviaContacto] = []
    dias = (await ajustes_cumplimiento(session)).dias_no_interesado
    hasta = await no_interesados_vigentes(session, (c.telefono for c in contactos), ahora=ahora, dias=dias)
    correctos = 0
    for c in contactos:
        if c.telefono in hasta:
            if len(retenidos) < 200:
                retenidos.append(
                    PreviaContacto(
                        contacto_id=c.id,
                        nombre=c.nombre,
                        texto=None,
                        variante=None,
                        no_interesado_hasta=hasta[c.telefono],
                    )
                )
            continue
        (r,) = previsualizar(
            variantes,
            [(c.id, datos_contacto(c))],
            campana_id="previa",
            momento=ahora,
            zona=zona_contacto(c, datos.zona_horaria),
        )
        fila = PreviaContacto(
            contacto_id=c.id,
            nombre=nombres.get(c.id),
            texto=r.texto,
            variante=r.variante,
            errores=[ErrorCampoSalida(campo=e.campo, motivo=e.motivo) for e in r.errores],
        )
        if r.errores:
            if len(errores) < 200:
                errores.append(fila)
        else:
            correctos += 1
            if len(muestras) < datos.limite:
                muestras.append(fila)
    return PreviaSalida(
        total=len(contactos),
        correctos=correctos,
        con_errores=len(contactos) - correctos - sum(1 for c in contactos if c.telefono in hasta),
        muestras=muestras,
        errores=errores,
        no_interesados=sum(1 for c in contactos if c.telefono in hasta),
        retenidos=retenidos,
    )
