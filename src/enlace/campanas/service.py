"""Campaign decisions: create, start (render every message into the outbox), pause/resume/cancel, progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente
from enlace.campanas import repository as repo
from enlace.campanas.models import Campana, PerfilEnvio
from enlace.campanas.ritmo import ErrorPerfil
from enlace.campanas.schemas import (
    CampanaCambioEstado,
    CampanaCrear,
    CampanaEstado,
    CampanaIniciar,
    CampanaSalida,
    ErrorContacto,
    InicioSalida,
    NoInteresadoRetenido,
)
from enlace.carteras.models import Cartera, Contacto
from enlace.comun.actor import Actor
from enlace.comun.alcance import exigir_agente, puede_ver_agente
from enlace.comun.eventos import CampanaProgreso
from enlace.cumplimiento.ajustes import ajustes_cumplimiento
from enlace.cumplimiento.service import no_interesados_vigentes
from enlace.errores import Conflicto, EntradaInvalida, NoEncontrado, Prohibido
from enlace.mensajes.estados import ENTREGADOS, ENVIADOS
from enlace.plantillas import oficial as plantillas_oficial
from enlace.plantillas import service as plantillas
from enlace.plantillas.render import ErrorPlantilla, elegir_variante, renderizar
from enlace.tiempo_real.bus import emitir, salas_agente

INICIABLES = ("borrador", "programada")
TRANSICIONES = {
    "pausada": ("activa",),
    "activa": ("pausada",),
    "cancelada": ("borrador", "programada", "activa", "pausada"),
}


async def _campana(session: AsyncSession, actor: Actor, campana_id: int, *, bloquear: bool = False) -> Campana:
    campana = await repo.obtener(session, actor, campana_id, bloquear=bloquear)
    if campana is None:
        raise NoEncontrado("La campaña no existe o no tienes acceso a ella.")
    return campana


async def _exigir_cartera_del_agente(session: AsyncSession, cartera: Cartera, agente_id: int) -> None:
    """Refuse at creation a campaign whose agent owns nothing in the cartera (it could never send)."""
    if cartera.agente_id == agente_id:
        return
    propios = await session.scalar(
        select(func.count())
        .select_from(Contacto)
        .where(Contacto.cartera_id == cartera.id, Contacto.agente_id == agente_id)
    )
    if propios:
        return  # contacts of this cartera were reassigned to the agent: they are theirs to contact
    if cartera.agente_id is None:
        duenio = "es de la bolsa común"
    else:
        nombre = await session.scalar(select(Agente.nombre).where(Agente.id == cartera.agente_id))
        duenio = f"es del agente «{nombre or cartera.agente_id}»"
    raise EntradaInvalida(
        f"carteraId: la cartera «{cartera.nombre}» (id {cartera.id}) {duenio} y el agente de la campaña no tiene "
        "contactos en ella. Elige una cartera del agente que enviará la campaña.",
        campos=["carteraId"],
    )


async def crear(session: AsyncSession, actor: Actor, datos: CampanaCrear) -> Campana:
    if actor.es_agente and datos.agente_id not in (None, actor.agente_id):
        raise Prohibido("Solo puedes crear campañas para tu propio número.")
    agente_id = actor.agente_id if actor.es_agente else datos.agente_id
    if agente_id is None:
        raise EntradaInvalida("agenteId: indica el agente que enviará la campaña.", campos=["agenteId"])
    await exigir_agente(session, actor, agente_id)
    cartera = await session.get(Cartera, datos.cartera_id)
    if cartera is None or (
        cartera.agente_id is not None and not await puede_ver_agente(session, actor, cartera.agente_id)
    ):
        raise NoEncontrado(f"carteraId: la cartera {datos.cartera_id} no existe o no tienes acceso a ella.")
    await _exigir_cartera_del_agente(session, cartera, agente_id)
    if datos.plantilla_id is not None:
        await plantillas.obtener(session, actor, datos.plantilla_id)
    if datos.perfil_id is not None and await session.get(PerfilEnvio, datos.perfil_id) is None:
        raise EntradaInvalida(f"perfilId: el perfil de envío {datos.perfil_id} no existe.", campos=["perfilId"])
    campana = Campana(
        agente_id=agente_id,
        cartera_id=datos.cartera_id,
        nombre=datos.nombre.strip(),
        plantilla_id=datos.plantilla_id,
        perfil_id=datos.perfil_id,
        estado="programada" if datos.inicio_programado else "borrador",
        zona_horaria=datos.zona_horaria,
        canal=datos.canal,
        config_delay={},
        inicio_programado=datos.inicio_programado,
        creada_por=actor.usuario_id or None,
    )
    session.add(campana)
    await session.flush()
    return campana


async def iniciar(
    session: AsyncSession, actor: Actor, datos: CampanaIniciar, *, ahora: datetime, nuevo_id: Callable[[int], str]
) -> InicioSalida:
    """Render every message and write it as `pendiente` with a pre-assigned id, in this one transaction."""
    campana = await _campana(session, actor, datos.campana_id, bloquear=True)
    if campana.estado not in INICIABLES:
        raise Conflicto(f"La campaña está {campana.estado}; solo se inicia una campaña en borrador o programada.")
    plantilla, variantes = await _plantilla_para_iniciar(session, actor, campana, datos)
    await _validar_perfil(session, campana, datos)
    contactos, no_interesados = await _contactos_a_enviar(session, campana, ahora)
    filas, omitidos = await _renderizar_filas(session, campana, plantilla, variantes, contactos, ahora, nuevo_id)
    _exigir_datos_completos(filas, omitidos, datos.omitir_errores)
    await _activar(session, campana, plantilla.id, filas, ahora)
    return InicioSalida(
        campana=CampanaSalida.model_validate(campana),
        mensajes=len(filas),
        omitidos=omitidos[:200],
        no_interesados=no_interesados[:200],
        total_no_interesados=len(no_interesados),
    )


async def _plantilla_para_iniciar(
    session: AsyncSession, actor: Actor, campana: Campana, datos: CampanaIniciar
) -> tuple[Any, list[str]]:
    """The active template the campaign will use and its validated variants."""
    plantilla_id = datos.plantilla_id or campana.plantilla_id
    if plantilla_id is None:
        raise EntradaInvalida("plantillaId: elige la plantilla de la campaña.", campos=["plantillaId"])
    plantilla = await plantillas.obtener(session, actor, plantilla_id)
    if not plantilla.activa:
        raise EntradaInvalida("plantillaId: la plantilla está desactivada.", campos=["plantillaId"])
    return plantilla, plantillas.validar(plantilla.variantes)


async def _validar_perfil(session: AsyncSession, campana: Campana, datos: CampanaIniciar) -> None:
    """The sending profile (with the request's overrides) must be consistent before anything is written."""
    if datos.config_delay is not None:
        campana.config_delay = datos.config_delay
    try:
        await repo.perfil_de_campana(session, campana)
    except ErrorPerfil as exc:
        raise EntradaInvalida(f"configDelay.{exc.campo}: {exc.mensaje}", campos=[f"configDelay.{exc.campo}"]) from exc


async def _contactos_a_enviar(
    session: AsyncSession, campana: Campana, ahora: datetime
) -> tuple[list[Contacto], list[NoInteresadoRetenido]]:
    """The contacts to message, minus those held by a recent «no me interesa» (returned apart)."""
    contactos = await repo.contactos_de_campana(session, campana)
    if not contactos:
        raise EntradaInvalida(
            "campanaId: la cartera no tiene contactos asignados a este agente que se puedan contactar.",
            campos=["campanaId"],
        )
    dias = (await ajustes_cumplimiento(session)).dias_no_interesado
    retenidos = await no_interesados_vigentes(session, (c.telefono for c in contactos), ahora=ahora, dias=dias)
    no_interesados = [
        NoInteresadoRetenido(contacto_id=c.id, hasta=retenidos[c.telefono])
        for c in contactos
        if c.telefono in retenidos
    ]
    if no_interesados:
        contactos = [c for c in contactos if c.telefono not in retenidos]
        if not contactos:
            raise EntradaInvalida(
                f"campanaId: los {len(no_interesados)} contactos de la cartera dijeron «no me interesa» en los "
                f"últimos {dias} días; no se les envían campañas nuevas hasta entonces.",
                codigo="no_interesados",
                campos=["campanaId"],
            )
    return contactos, no_interesados


async def _renderizar_filas(
    session: AsyncSession,
    campana: Campana,
    plantilla: Any,
    variantes: list[str],
    contactos: list[Contacto],
    ahora: datetime,
    nuevo_id: Callable[[int], str],
) -> tuple[list[dict[str, Any]], list[ErrorContacto]]:
    """One outgoing row per contact (rendered text, pre-assigned id); contacts missing template data apart."""
    oficial = _plantilla_oficial(plantilla.plantilla_oficial) if campana.canal == "oficial" else None
    inicio = max(ahora, campana.inicio_programado or ahora)
    origen = await session.scalar(select(Agente.numero_wa).where(Agente.id == campana.agente_id))
    filas: list[dict[str, Any]] = []
    omitidos: list[ErrorContacto] = []
    for c in contactos:
        idx = elegir_variante(len(variantes), campana.id, c.id)
        try:
            r = renderizar(
                variantes,
                plantillas.datos_contacto(c),
                variante=idx,
                momento=inicio,
                zona=plantillas.zona_contacto(c, campana.zona_horaria),
            )
            extra = _fila_oficial(oficial, c, inicio, campana.zona_horaria) if oficial else {}
        except ErrorPlantilla as exc:
            raise EntradaInvalida(f"plantillaId: {exc.mensaje}", campos=["plantillaId"]) from exc
        except ValueError as exc:
            errores = getattr(exc, "errores", [])
            omitidos.append(
                ErrorContacto(contacto_id=c.id, campos=[{"campo": e.campo, "motivo": e.motivo} for e in errores])
            )
            continue
        filas.append(
            {
                "campana_id": campana.id,
                "agente_id": campana.agente_id,
                "contacto_id": c.id,
                "origen": "campana",
                "numero_origen": origen,
                "numero_destino": c.telefono,
                "destino_jid": c.telefono_wa,
                "mensaje": r.texto,
                "mensaje_base": r.base_saludo,
                "variante": r.variante,
                "wa_message_id": nuevo_id(campana.agente_id),
                "estado": "pendiente",
                "programado_para": inicio,
                "created_at": ahora,
                **extra,
            }
        )
    return filas, omitidos


def _exigir_datos_completos(filas: list[dict[str, Any]], omitidos: list[ErrorContacto], omitir_errores: bool) -> None:
    """Contacts without the template's data stop the start unless the user chose to skip them."""
    if omitidos and not omitir_errores:
        detalle = "; ".join(
            f"contacto {o.contacto_id}: " + ", ".join(f"{e['campo']} {e['motivo']}" for e in o.campos)
            for o in omitidos[:5]
        )
        raise EntradaInvalida(
            f"{len(omitidos)} contacto(s) no tienen los datos que pide la plantilla ({detalle}). Corrige la cartera "
            "o inicia con omitirErrores para enviar solo a los demás.",
            codigo="datos_incompletos",
            contactos=[o.model_dump() for o in omitidos[:200]],
        )
    if not filas:
        raise EntradaInvalida("Ningún contacto tiene los datos que pide la plantilla.", codigo="datos_incompletos")


async def _activar(
    session: AsyncSession, campana: Campana, plantilla_id: int, filas: list[dict[str, Any]], ahora: datetime
) -> None:
    """The mutation: every row and the campaign's new state in this transaction, then the progress event."""
    await repo.insertar_mensajes(session, filas)
    campana.plantilla_id = plantilla_id
    campana.estado = "activa"
    campana.iniciada_at = ahora
    campana.total_mensajes = len(filas)
    campana.enviados = campana.fallidos = 0
    await session.flush()
    await _emitir_progreso(session, campana, ahora)


def _plantilla_oficial(config: dict[str, Any] | None) -> dict[str, Any]:
    """An official-line campaign needs the approved template: name, language, body/header/button parameters."""
    try:
        return plantillas_oficial.validar(config)
    except plantillas_oficial.ConfiguracionInvalida as exc:
        raise EntradaInvalida(f"plantillaId: {exc}", campos=["plantillaId"]) from exc


def _fila_oficial(oficial: dict[str, Any], contacto: Any, momento: datetime, zona: str) -> dict[str, Any]:
    """The template's components for this contact, values formatted like the text (money as $25,000.00)."""

    def valor(campo: str) -> str:
        return renderizar(
            ["{" + campo + "}"],
            plantillas.datos_contacto(contacto),
            variante=0,
            momento=momento,
            zona=plantillas.zona_contacto(contacto, zona),
        ).texto

    componentes = plantillas_oficial.componentes(oficial, valor)
    parametros = [valor(c) for c in oficial["parametros"]]
    return {
        "tipo": "plantilla",
        "medio": {"plantilla": {**oficial, "parametros": parametros, "componentes": componentes}},
    }


async def cambiar_estado(
    session: AsyncSession, actor: Actor, campana_id: int, datos: CampanaCambioEstado, ahora: datetime
) -> Campana:
    campana = await _campana(session, actor, campana_id, bloquear=True)
    if campana.estado == datos.estado:
        return campana
    if campana.estado not in TRANSICIONES[datos.estado]:
        raise Conflicto(f"No se puede pasar una campaña {campana.estado} a {datos.estado}.")
    campana.estado = datos.estado
    if datos.estado == "cancelada":
        await repo.cancelar_pendientes(session, campana.id)
        campana.completada_at = ahora
    await session.flush()
    await repo.sincronizar_contadores(session, campana.id, ahora)
    await session.refresh(campana)
    await _emitir_progreso(session, campana, ahora)
    return campana


async def estado(session: AsyncSession, actor: Actor, campana_id: int, ahora: datetime) -> CampanaEstado:
    campana = await _campana(session, actor, campana_id)
    cuentas = await repo.contar_por_estado(session, campana.id)
    enviados = sum(cuentas.get(e, 0) for e in ENVIADOS)
    pendientes = cuentas.get("pendiente", 0)
    ultima_hora = await repo.enviados_desde(session, campana.id, repo.hace_una_hora(ahora))
    eta = None
    if pendientes and ultima_hora and campana.estado == "activa":
        eta = ahora + timedelta(hours=pendientes / ultima_hora)
    return CampanaEstado(
        campana_id=campana.id,
        estado=campana.estado,
        total=sum(cuentas.values()),
        pendientes=pendientes,
        enviando=cuentas.get("enviando", 0),
        enviados=enviados,
        entregados=sum(cuentas.get(e, 0) for e in ENTREGADOS),
        leidos=cuentas.get("leido", 0),
        respondidos=await repo.respondidos(session, campana.id),
        fallidos=cuentas.get("fallido", 0),
        suprimidos=cuentas.get("suprimido", 0),
        cancelados=cuentas.get("cancelado", 0),
        inciertos=cuentas.get("incierto", 0),
        sin_whatsapp=cuentas.get("sin_whatsapp", 0),
        sin_acuse=await repo.contar_sin_acuse(session, campana.id),
        por_hora=float(ultima_hora),
        eta=eta,
        no_interesados=len(
            await no_interesados_vigentes(
                session,
                (c.telefono for c in await repo.contactos_de_campana(session, campana)),
                ahora=ahora,
                dias=(await ajustes_cumplimiento(session)).dias_no_interesado,
            )
        ),
    )


async def _emitir_progreso(session: AsyncSession, campana: Campana, ahora: datetime) -> None:
    cuentas = await repo.contar_por_estado(session, campana.id)
    equipo = await session.scalar(select(Agente.equipo_id).where(Agente.id == campana.agente_id))
    emitir(
        session,
        CampanaProgreso(
            campana_id=campana.id, agente_id=campana.agente_id, estado=campana.estado, cuentas=cuentas, momento=ahora
        ),
        None,
        [f"campana:{campana.id}", *salas_agente(campana.agente_id, equipo)],
    )
