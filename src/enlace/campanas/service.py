"""Campaign decisions: create, start (render every message into the outbox), pause/resume/cancel, progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente
from enlace.campanas import repository as repo
from enlace.campanas.models import Campana, PerfilEnvio
from enlace.campanas.ritmo import ErrorPerfil, Ritmo
from enlace.campanas.schemas import (
    CampanaCambioEstado,
    CampanaCrear,
    CampanaEstado,
    CampanaIniciar,
    CampanaSalida,
    ErrorContacto,
    InicioSalida,
    LanzamientoPrevia,
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


def validar_inicio(datos: CampanaCrear, ahora: datetime) -> datetime | None:
    """A scheduled start must lie ahead; a date without zone is read in the campaign's time zone."""
    inicio = datos.inicio_programado
    if inicio is None:
        return None
    try:
        zona = ZoneInfo(datos.zona_horaria)
    except (ValueError, KeyError) as exc:
        raise EntradaInvalida(
            f"zonaHoraria: «{datos.zona_horaria}» no es una zona horaria (ej. America/Mexico_City).",
            campos=["zonaHoraria"],
        ) from exc
    if inicio.tzinfo is None:
        inicio = inicio.replace(tzinfo=zona)
    if inicio <= ahora:
        local = inicio.astimezone(zona)
        raise EntradaInvalida(
            f"inicioProgramado: el inicio ({local:%d/%m/%Y %H:%M}) ya pasó. Elige una fecha y hora futuras, "
            "o deja el campo vacío para lanzarla cuando quieras.",
            campos=["inicioProgramado"],
        )
    return inicio


async def crear(session: AsyncSession, actor: Actor, datos: CampanaCrear, *, ahora: datetime | None = None) -> Campana:
    inicio = validar_inicio(datos, ahora) if ahora is not None else datos.inicio_programado
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
        estado="programada" if inicio else "borrador",
        zona_horaria=datos.zona_horaria,
        canal=datos.canal,
        config_delay={},
        inicio_programado=inicio,
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
                ErrorContacto(
                    contacto_id=c.id,
                    nombre=c.nombre,
                    telefono=c.telefono,
                    campos=[{"campo": e.campo, "motivo": e.motivo} for e in errores],
                )
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
        n = len(omitidos)
        raise EntradaInvalida(
            f"{n} {'contacto no tiene' if n == 1 else 'contactos no tienen'} los datos que pide la plantilla: "
            f"{_describir_omitidos(omitidos)}. Corrige la cartera, o lanza solo a los "
            f"{len(filas)} {'contacto completo' if len(filas) == 1 else 'contactos completos'}.",
            codigo="datos_incompletos",
            contactos=[o.model_dump() for o in omitidos[:200]],
            listos=len(filas),
        )
    if not filas:
        raise EntradaInvalida(
            "Ningún contacto tiene los datos que pide la plantilla: corrige la cartera o elige otra plantilla.",
            codigo="datos_incompletos",
        )


def _describir_omitidos(omitidos: list[ErrorContacto]) -> str:
    """«María López (monto: está vacío); Juan Pérez (fecha: …)» — names, not ids; at most five."""
    partes = []
    for o in omitidos[:5]:
        quien = o.nombre or "un contacto sin nombre"
        faltas = "; ".join(f"{e['campo']}: {e['motivo']}" for e in o.campos) or "datos incompletos"
        partes.append(f"{quien} ({faltas})")
    resto = len(omitidos) - len(partes)
    return "; ".join(partes) + (f" y {resto} más" if resto > 0 else "")


async def previa_lanzamiento(
    session: AsyncSession, actor: Actor, campana_id: int, plantilla_id: int | None, ahora: datetime
) -> LanzamientoPrevia:
    """Exactly what «Lanzar» would queue now: the same steps as `iniciar` up to the write, nothing written."""
    campana = await _campana(session, actor, campana_id)
    if campana.estado not in INICIABLES:
        raise Conflicto(f"La campaña está {campana.estado}; solo se inicia una campaña en borrador o programada.")
    datos = CampanaIniciar(campanaId=campana_id, plantillaId=plantilla_id)
    plantilla, variantes = await _plantilla_para_iniciar(session, actor, campana, datos)
    await _validar_perfil(session, campana, datos)
    contactos, no_interesados = await _contactos_a_enviar(session, campana, ahora)
    filas, omitidos = await _renderizar_filas(session, campana, plantilla, variantes, contactos, ahora, lambda _a: "")
    return LanzamientoPrevia(
        listos=len(filas),
        incompletos=len(omitidos),
        en_supresion=await repo.contar_suprimidos(session, [f["numero_destino"] for f in filas]),
        no_interesados=len(no_interesados),
        errores=omitidos[:200],
    )


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


# Simulating more sends than this for an ETA costs more than it tells; beyond it the hourly rate is used.
MAX_SIMULACION_ETA = 5000
DIAS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


def _cuando(momento: datetime, ahora: datetime, zona: ZoneInfo) -> str:
    """«a las 09:00», «mañana a las 08:00», «el lunes 30/11 a las 08:00» in the profile's zone."""
    local, hoy = momento.astimezone(zona), ahora.astimezone(zona).date()
    hora = f"a las {local:%H:%M}"
    if local.date() == hoy:
        return hora
    if local.date() == hoy + timedelta(days=1):
        return f"mañana {hora}"
    return f"el {DIAS_ES[local.weekday()]} {local:%d/%m} {hora}"


async def _ritmo_y_espera(
    session: AsyncSession, campana: Campana, ahora: datetime
) -> tuple[Ritmo, datetime, ZoneInfo] | None:
    """The number's pacing rebuilt as the dispatcher does, and the next moment it may send."""
    try:
        perfil = await repo.perfil_de_campana(session, campana)
        zona = ZoneInfo(perfil.zona_horaria)
        medianoche = datetime.combine(ahora.astimezone(zona).date(), time(), zona) - timedelta(days=1)
        historial = await repo.momentos_enviados(session, campana.agente_id, medianoche)
        ritmo = Ritmo.desde_historial(perfil, f"agente:{campana.agente_id}", historial)
        return ritmo, ritmo.siguiente_envio(ahora), zona
    except ErrorPerfil:
        return None


def _motivo_ventana(ritmo: Ritmo, siguiente: datetime, ahora: datetime, zona: ZoneInfo) -> str:
    """Why the number waits until `siguiente`: outside hours, a day off, or a cap reached."""
    local = ahora.astimezone(zona)
    cuando = _cuando(siguiente, ahora, zona)
    if not ritmo.es_dia_habil(local.date()):
        return f"Hoy no es día de envío en el perfil; reanuda {cuando}."
    inicio, fin = ritmo.perfil.hora_inicio, ritmo.perfil.hora_fin
    hhmm = f"{local:%H:%M}"
    if hhmm < inicio or hhmm >= fin:
        return f"Fuera de horario (envía de {inicio} a {fin}); reanuda {cuando}."
    # The caps are rolling windows (any 24 h, any 60 min), as the dispatcher applies them.
    if ritmo.en_ventana(ahora, timedelta(days=1)) >= ritmo.cap_dia(local.date()):
        return f"Llegó al máximo de mensajes en 24 horas para este número; reanuda {cuando}."
    if ritmo.en_ventana(ahora, timedelta(hours=1)) >= ritmo.cap_hora(local.date(), local.hour):
        return f"Llegó al máximo de mensajes por hora; reanuda {cuando}."
    return f"Pausa entre mensajes para parecer humano; el siguiente sale {cuando}."


def _eta(ritmo: Ritmo, desde: datetime, pendientes: int) -> datetime | None:
    """When the last pending message would leave if nothing else stops it: the same pacing, windows and caps."""
    if pendientes > MAX_SIMULACION_ETA:
        return None
    t = desde
    try:
        for _ in range(pendientes):
            t = ritmo.siguiente_envio(t)
            ritmo.registrar_envio(t)
    except ErrorPerfil:
        return None
    return t


async def estado(session: AsyncSession, actor: Actor, campana_id: int, ahora: datetime) -> CampanaEstado:
    campana = await _campana(session, actor, campana_id)
    cuentas = await repo.contar_por_estado(session, campana.id)
    enviados = sum(cuentas.get(e, 0) for e in ENVIADOS)
    pendientes = cuentas.get("pendiente", 0)
    ultima_hora = await repo.enviados_desde(session, campana.id, repo.hace_una_hora(ahora))
    eta: datetime | None = None
    motivo: str | None = None
    reanuda: datetime | None = None
    if campana.estado == "programada" and campana.inicio_programado:
        motivo = f"Programada: empieza {_cuando(campana.inicio_programado, ahora, ZoneInfo(campana.zona_horaria))}."
        reanuda = campana.inicio_programado
    elif campana.estado == "borrador":
        motivo = "Aún no se lanza."
    elif campana.estado == "pausada":
        motivo = "Pausada: no sale ningún mensaje hasta que alguien la reanude."
    elif campana.estado == "activa" and (pendientes or cuentas.get("enviando", 0)):
        paradas = await repo.paradas_activas(session, campana.agente_id)
        sesion = await repo.estado_sesion(session, campana.agente_id)
        calculo = await _ritmo_y_espera(session, campana, ahora)
        if paradas:
            detalle = paradas[0].detalle or paradas[0].motivo
            motivo = f"Detenida por seguridad: {detalle}. Un supervisor debe reanudar los envíos."
        elif sesion != "conectada":
            motivo = "El WhatsApp del agente no está conectado; los mensajes salen en cuanto se conecte."
        elif calculo is not None and calculo[1] > ahora + timedelta(minutes=1):
            ritmo, siguiente, zona = calculo
            motivo = _motivo_ventana(ritmo, siguiente, ahora, zona)
            reanuda = siguiente
        if calculo is not None and pendientes:
            ritmo, siguiente, _zona = calculo
            eta = _eta(ritmo, max(siguiente, ahora), pendientes)
        if eta is None and pendientes and ultima_hora:
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
        motivo=motivo,
        reanuda_at=reanuda,
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
