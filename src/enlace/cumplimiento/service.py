"""Compliance decisions: opt-outs from replies, the suppression list, consent, ARCO rights and retention."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.carteras.models import Contacto
from enlace.comun.actor import Actor
from enlace.comun.auditoria import enmascarar_telefono, registrar_auditoria
from enlace.comun.eventos import ContactoBaja
from enlace.comun.telefonos import Rechazo, normalizar
from enlace.cumplimiento import repository as repo
from enlace.cumplimiento.ajustes import ajustes_cumplimiento
from enlace.cumplimiento.bajas import ClaseRespuesta, clasificar
from enlace.cumplimiento.models import Supresion
from enlace.cumplimiento.puerta import bloquear_telefono, bloquear_telefonos
from enlace.errores import EntradaInvalida, NoEncontrado
from enlace.mensajes.models import MensajeRecibido
from enlace.mensajes.repository import encolar_directo
from enlace.settings import Settings

log = structlog.get_logger(__name__)

FUENTES = ("baja", "manual", "repep", "reus", "arco", "marketing")
FUENTES_IMPORTABLES = ("repep", "reus", "manual")
MAX_RECHAZOS_REPORTADOS = 100


@dataclass(frozen=True, slots=True)
class Clasificacion:
    clase: ClaseRespuesta
    regla: str
    fragmento: str | None = None
    descripcion: str = ""
    supresion_id: int | None = None
    cancelados: int = 0
    confirmacion_id: int | None = None


@dataclass(slots=True)
class ResultadoSupresion:
    supresion: Supresion
    nueva: bool
    cancelados: list[tuple[int, int | None, int]] = field(default_factory=list)
    contactos: list[tuple[int, int | None]] = field(default_factory=list)


def telefono_canonico(valor: str, campo: str = "telefono") -> str:
    """Normalise like carteras does, or a 422 naming the field and why."""
    resultado = normalizar(valor)
    if isinstance(resultado, Rechazo):
        raise EntradaInvalida(f"{campo}: {resultado.motivo}.")
    return resultado.canonico


async def _avisar_baja(session: AsyncSession, telefono: str, contactos: list[tuple[int, int | None]]) -> None:
    """Realtime `contacto.baja` to whoever may see each affected contact (after commit)."""
    from enlace.tiempo_real import emitir, salas_de_agente

    for contacto_id, agente_id in contactos:
        salas = await salas_de_agente(session, agente_id) if agente_id is not None else ["supervision"]
        emitir(
            session,
            ContactoBaja(contacto_id=contacto_id, agente_id=agente_id, telefono=enmascarar_telefono(telefono)),
            None,
            salas,
        )


async def suprimir(
    session: AsyncSession,
    *,
    telefono: str,
    motivo: str,
    fuente: str,
    actor: Actor | None,
    ahora: datetime | None = None,
    regla: str | None = None,
    mensaje_recibido_id: int | None = None,
    auditar: bool = True,
) -> ResultadoSupresion:
    """Put a phone on the suppression list and, in the same transaction, cancel everything pending to it.

    Takes the phone's advisory lock first, so it serializes with the gate: once this commits, no claim
    or pre-send check can let a message to this phone through. Idempotent: an existing entry is kept
    (with its first reason) and pending rows are still cancelled.
    """
    if fuente not in FUENTES:
        raise EntradaInvalida(f"fuente: debe ser una de {', '.join(FUENTES)}.")
    if not motivo or not motivo.strip():
        raise EntradaInvalida("motivo: indica por qué se suprime el número.")
    await bloquear_telefono(session, telefono)
    nueva = await repo.insertar_supresion(
        session,
        {
            "telefono": telefono,
            "motivo": motivo.strip()[:1000],
            "fuente": fuente,
            "regla": regla,
            "mensaje_recibido_id": mensaje_recibido_id,
            "creada_por": actor.usuario_id if actor is not None and actor.usuario_id else None,
            # The core's clock when the caller has it (simulator days run fast); else the database's.
            **({"created_at": ahora} if ahora is not None else {}),
        },
    )
    supresion = nueva or await repo.supresion_por_telefono(session, telefono)
    assert supresion is not None
    cancelados = await repo.cancelar_pendientes(
        session, [telefono], f"Cancelado por supresión ({fuente})", excepto_id=supresion.confirmacion_mensaje_id
    )
    contactos = await repo.marcar_contactos(session, [telefono], "baja", salvo=("baja", "anonimizado"))
    if contactos:
        await _avisar_baja(session, telefono, contactos)
    if auditar and actor is not None and nueva is not None:
        await registrar_auditoria(
            session,
            actor,
            "supresion.agregar",
            ("supresion", supresion.id),
            {
                "telefono": enmascarar_telefono(telefono),
                "fuente": fuente,
                "motivo": motivo,
                "cancelados": len(cancelados),
            },
        )
    return ResultadoSupresion(supresion, nueva is not None, cancelados, contactos)


async def quitar_supresion(session: AsyncSession, *, telefono: str, motivo: str, actor: Actor) -> Supresion:
    """Remove a phone from the list (admins, with a reason; audited). Its contacts become contactable again."""
    if not motivo or not motivo.strip():
        raise EntradaInvalida("motivo: indica por qué se quita el número de la lista de supresión.")
    await bloquear_telefono(session, telefono)
    fila = await repo.supresion_por_telefono(session, telefono)
    if fila is None:
        raise NoEncontrado("Ese número no está en la lista de supresión.")
    datos = {"fuente": fila.fuente, "motivo_original": fila.motivo, "creada": fila.created_at}
    await repo.borrar_supresion(session, telefono)
    await repo.marcar_contactos(session, [telefono], "pendiente", solo_desde=("baja",))
    await registrar_auditoria(
        session,
        actor,
        "supresion.quitar",
        ("supresion", fila.id),
        {"telefono": enmascarar_telefono(telefono), "motivo": motivo.strip(), **datos},
    )
    return fila


async def evaluar_respuesta(
    session: AsyncSession,
    *,
    mensaje_recibido_id: int,
    telefono: str | None,
    texto: str | None,
    contacto_id: int | None,
    agente_id: int,
    ahora: datetime,
) -> Clasificacion:
    """Classify one inbound text and act on it, inside the caller's (capture's) transaction.

    baja: the phone enters `supresiones` (reason, rule, source message), every pending message to it
    is cancelled (any agent, any campaign), its contacts are marked, and when `confirmar_baja` is on a
    single confirmation row (origen 'sistema') is queued for the dispatcher. no_interesado: the contact
    is marked, nothing is suppressed. The decision and its rule are stored on the received message.
    """
    resultado = clasificar(texto)
    await repo.guardar_clasificacion(session, mensaje_recibido_id, resultado.clase.value, resultado.regla)
    base = Clasificacion(resultado.clase, resultado.regla, resultado.fragmento, resultado.descripcion)
    if telefono is None and contacto_id is not None:
        contacto = await session.get(Contacto, contacto_id)
        telefono = contacto.telefono if contacto is not None else None

    if resultado.clase == ClaseRespuesta.no_interesado:
        if contacto_id is not None:
            await repo_marcar_no_interesado(session, contacto_id)
        return base
    if resultado.clase != ClaseRespuesta.baja:
        return base
    if telefono is None:
        # An unmapped LID: nothing to suppress by phone yet; the decision is stored for the agent to see.
        log.warning("baja_sin_telefono", mensaje_recibido_id=mensaje_recibido_id, regla=resultado.regla)
        return base

    ajustes = await ajustes_cumplimiento(session)
    hecho = await suprimir(
        session,
        telefono=telefono,
        motivo=f"El contacto pidió la baja por WhatsApp (regla {resultado.regla}).",
        fuente="baja",
        actor=None,
        ahora=ahora,
        regla=resultado.regla,
        mensaje_recibido_id=mensaje_recibido_id,
    )
    confirmacion_id = None
    if ajustes.confirmar_baja and hecho.nueva:
        confirmacion_id = await _encolar_confirmacion(
            session,
            hecho.supresion,
            agente_id,
            contacto_id,
            telefono,
            mensaje_recibido_id,
            ajustes.texto_confirmacion_baja,
            ahora,
        )
    return Clasificacion(
        resultado.clase,
        resultado.regla,
        resultado.fragmento,
        resultado.descripcion,
        supresion_id=hecho.supresion.id,
        cancelados=len(hecho.cancelados),
        confirmacion_id=confirmacion_id,
    )


async def repo_marcar_no_interesado(session: AsyncSession, contacto_id: int) -> None:
    contacto = await session.get(Contacto, contacto_id)
    if contacto is not None and contacto.estado not in ("baja", "anonimizado"):
        contacto.estado = "no_interesado"
        await session.flush()


async def _encolar_confirmacion(
    session: AsyncSession,
    supresion: Supresion,
    agente_id: int,
    contacto_id: int | None,
    telefono: str,
    mensaje_recibido_id: int,
    texto: str,
    ahora: datetime,
) -> int:
    """One 'sistema' row, due now, for the dispatcher; the gate lets exactly this row through the suppression."""
    recibido = await session.get(MensajeRecibido, mensaje_recibido_id)
    fila_id = await encolar_directo(
        session,
        agente_id=agente_id,
        contacto_id=contacto_id,
        origen="sistema",
        numero_destino=telefono,
        destino_jid=recibido.chat_jid if recibido is not None else None,
        numero_origen=recibido.numero_destino if recibido is not None else None,
        mensaje=texto,
        tipo="texto",
        wa_message_id="3EB0" + secrets.token_hex(9).upper(),
        programado_para=ahora,
    )
    assert fila_id is not None  # no idempotency key: the insert always writes
    supresion.confirmacion_mensaje_id = fila_id
    await session.flush()
    return fila_id


# ---- bulk lists --------------------------------------------------------------------------------


@dataclass(slots=True)
class ResultadoImportacion:
    filas: int = 0
    agregados: int = 0
    ya_existian: int = 0
    duplicados_en_archivo: int = 0
    cancelados: int = 0
    rechazados: list[dict[str, Any]] = field(default_factory=list)
    total_rechazados: int = 0


_COLUMNAS_TELEFONO = ("telefono", "teléfono", "numero", "número", "celular", "phone", "movil", "móvil", "tel")


def leer_telefonos_csv(contenido: bytes) -> tuple[list[tuple[int, str]], list[dict[str, Any]]]:
    """[(row number, canonical phone)] and the rejected rows, from a REPEP/REUS-style CSV.

    Accepts one number per line, or a header with a phone column (telefono, numero, celular...). The
    delimiter is sniffed (, ; tab |). Row numbers are 1-based lines of the file, as a spreadsheet shows.
    """
    try:
        texto = contenido.decode("utf-8-sig")
    except UnicodeDecodeError:
        texto = contenido.decode("latin-1")
    lineas = texto.splitlines()
    if not any(linea.strip() for linea in lineas):
        raise EntradaInvalida("archivo: está vacío.")
    try:
        dialecto: Any = csv.Sniffer().sniff("\n".join(lineas[:20]), delimiters=",;\t|")
    except csv.Error:
        dialecto = csv.excel
    lector = csv.reader(lineas, dialecto)
    aceptados: list[tuple[int, str]] = []
    rechazados: list[dict[str, Any]] = []
    columna = 0
    for numero, fila in enumerate(lector, start=1):
        if not fila or not any(c.strip() for c in fila):
            continue
        if numero == 1:
            cabecera = [c.strip().lower() for c in fila]
            encontrada = next((i for i, c in enumerate(cabecera) if c in _COLUMNAS_TELEFONO), None)
            if encontrada is not None:
                columna = encontrada
                continue
        valor = fila[columna].strip() if columna < len(fila) else ""
        resultado = normalizar(valor)
        if isinstance(resultado, Rechazo):
            rechazados.append({"fila": numero, "valor": valor[:40], "motivo": resultado.motivo})
        else:
            aceptados.append((numero, resultado.canonico))
    return aceptados, rechazados


async def importar_lista(
    session: AsyncSession, *, contenido: bytes, fuente: str, motivo: str | None, nombre_archivo: str, actor: Actor
) -> ResultadoImportacion:
    """Bulk-add a REPEP/REUS-style list; pending messages to every new number are cancelled. Audited."""
    if fuente not in FUENTES_IMPORTABLES:
        raise EntradaInvalida(f"fuente: debe ser una de {', '.join(FUENTES_IMPORTABLES)}.")
    aceptados, rechazados = leer_telefonos_csv(contenido)
    resultado = ResultadoImportacion(filas=len(aceptados) + len(rechazados))
    unicos = list(dict.fromkeys(t for _, t in aceptados))
    resultado.duplicados_en_archivo = len(aceptados) - len(unicos)
    texto_motivo = (motivo or f"Lista {fuente.upper()} importada ({nombre_archivo})").strip()[:1000]
    nuevos: list[str] = []
    for inicio in range(0, len(unicos), 5000):
        lote = unicos[inicio : inicio + 5000]
        filas = [
            {"telefono": t, "motivo": texto_motivo, "fuente": fuente, "creada_por": actor.usuario_id or None}
            for t in lote
        ]
        nuevos.extend(await repo.insertar_supresiones(session, filas))
        resultado.cancelados += len(await repo.cancelar_pendientes(session, lote, f"Cancelado por lista {fuente}"))
        # Bulk lists mark the contacts without a realtime event each; the panel reads the new state.
        await repo.marcar_contactos(session, lote, "baja", salvo=("baja", "anonimizado"))
    resultado.agregados = len(nuevos)
    resultado.ya_existian = len(unicos) - len(nuevos)
    resultado.total_rechazados = len(rechazados)
    resultado.rechazados = rechazados[:MAX_RECHAZOS_REPORTADOS]
    await registrar_auditoria(
        session,
        actor,
        "supresion.importar",
        ("supresion", fuente),
        {
            "archivo": nombre_archivo,
            "fuente": fuente,
            "filas": resultado.filas,
            "agregados": resultado.agregados,
            "ya_existian": resultado.ya_existian,
            "rechazados": resultado.total_rechazados,
            "cancelados": resultado.cancelados,
        },
    )
    return resultado


async def exportar_csv(session: AsyncSession, *, actor: Actor, fuente: str | None) -> str:
    """The suppression list as CSV (telefono, fuente, motivo, regla, fecha). Audited."""
    filas = await repo.todas_las_supresiones(session, fuente)
    salida = io.StringIO()
    escritor = csv.writer(salida)
    escritor.writerow(["telefono", "fuente", "motivo", "regla", "creada_at"])
    for f in filas:
        escritor.writerow([f.telefono, f.fuente, f.motivo, f.regla or "", f.created_at.isoformat()])
    await registrar_auditoria(
        session, actor, "supresion.exportar", ("supresion", fuente or "todas"), {"filas": len(filas), "fuente": fuente}
    )
    return salida.getvalue()


# ---- consent -----------------------------------------------------------------------------------


async def registrar_consentimiento(
    session: AsyncSession,
    *,
    contacto: Contacto,
    fuente: str,
    fecha: datetime,
    evidencia: str,
    actor: Actor,
    ahora: datetime,
) -> Contacto:
    """Store consent evidence on a contact (source, date, text or document reference). Audited."""
    if not fuente.strip():
        raise EntradaInvalida("fuente: indica de dónde viene el consentimiento (formulario, llamada grabada...).")
    if not evidencia.strip():
        raise EntradaInvalida("evidencia: pega el texto aceptado o la referencia del documento.")
    if fecha.tzinfo is None:
        raise EntradaInvalida("fecha: incluye la zona horaria (ISO 8601, por ejemplo 2026-11-23T10:00:00-06:00).")
    if fecha > ahora + timedelta(minutes=5):
        raise EntradaInvalida("fecha: el consentimiento no puede tener fecha futura.")
    anterior = contacto.consentimiento_at
    contacto.consentimiento_fuente = fuente.strip()[:100]
    contacto.consentimiento_at = fecha
    contacto.consentimiento_evidencia = evidencia.strip()
    await session.flush()
    await registrar_auditoria(
        session,
        actor,
        "contacto.consentimiento",
        ("contacto", contacto.id),
        {"fuente": contacto.consentimiento_fuente, "fecha": fecha, "anterior": anterior},
    )
    return contacto


# ---- ARCO --------------------------------------------------------------------------------------


def _fila(obj: Any, columnas: tuple[str, ...] | None = None) -> dict[str, Any]:
    nombres = columnas or tuple(c.key for c in obj.__table__.columns)
    datos = {}
    for nombre in nombres:
        valor = getattr(obj, nombre)
        datos[nombre] = valor.isoformat() if isinstance(valor, datetime) else valor
    return datos


async def arco_exportar(session: AsyncSession, *, telefono: str, actor: Actor | None, canal: str) -> dict[str, Any]:
    """Every stored datum about a phone (access right). Audited; the audit row holds no personal data."""
    contactos = await repo.contactos_de_telefono(session, telefono)
    ids = [c.id for c in contactos]
    enviados = await repo.mensajes_enviados_de(session, telefono, ids)
    recibidos = await repo.mensajes_recibidos_de(session, telefono, ids)
    eventos = await repo.eventos_de(session, [m.id for m in enviados])
    supresion = await repo.supresion_por_telefono(session, telefono)
    datos = {
        "telefono": telefono,
        "contactos": [_fila(c) for c in contactos],
        "identificadores": [_fila(i) for i in await repo.identificadores_de(session, ids)],
        "mensajes_enviados": [_fila(m) for m in enviados],
        "mensajes_recibidos": [_fila(m) for m in recibidos],
        "eventos_entrega": [_fila(e) for e in eventos],
        "supresion": _fila(supresion) if supresion is not None else None,
    }
    await registrar_auditoria(
        session,
        actor,
        "arco.exportar",
        ("telefono", enmascarar_telefono(telefono)),
        {
            "canal": canal,
            "contactos": len(contactos),
            "mensajes_enviados": len(enviados),
            "mensajes_recibidos": len(recibidos),
            "eventos_entrega": len(eventos),
        },
    )
    return datos


async def arco_cancelar(
    session: AsyncSession, *, telefono: str, actor: Actor | None, canal: str, motivo: str | None = None
) -> dict[str, int]:
    """Cancellation right: erase the person's data and keep only a suppression entry. Audited.

    Suppress first (under the phone lock, cancelling anything pending), then anonymize contacts and
    messages; one transaction, so a failure leaves everything as it was.
    """
    await bloquear_telefonos(session, [telefono])
    contactos = await repo.contactos_de_telefono(session, telefono)
    ids = [c.id for c in contactos]
    hecho = await suprimir(
        session,
        telefono=telefono,
        motivo=motivo or "Ejercicio del derecho ARCO de cancelación.",
        fuente="arco",
        actor=actor,
        auditar=False,
    )
    conteos = await repo.anonimizar_persona(session, telefono, ids)
    conteos["cancelados"] = len(hecho.cancelados)
    await registrar_auditoria(
        session,
        actor,
        "arco.cancelar",
        ("telefono", enmascarar_telefono(telefono)),
        {"canal": canal, "supresion_id": hecho.supresion.id, **conteos},
    )
    return conteos


# ---- retention ---------------------------------------------------------------------------------


async def aplicar_retencion(
    session: AsyncSession,
    *,
    ahora: datetime,
    actor: Actor | None = None,
    lote: int = 5000,
    max_lotes: int = 1000,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Clear message bodies (and media references) older than `retencion_dias`. Audited when it did work."""
    ajustes = await ajustes_cumplimiento(session, settings)
    antes_de = ahora - timedelta(days=ajustes.retencion_dias)
    total_enviados = total_recibidos = 0
    for _ in range(max_lotes):
        enviados, recibidos = await repo.borrar_cuerpos_antiguos(session, antes_de, lote)
        total_enviados += enviados
        total_recibidos += recibidos
        if enviados < lote and recibidos < lote:
            break
    resultado = {
        "retencion_dias": ajustes.retencion_dias,
        "antes_de": antes_de.isoformat(),
        "mensajes_enviados": total_enviados,
        "mensajes_recibidos": total_recibidos,
    }
    if total_enviados or total_recibidos:
        await registrar_auditoria(session, actor, "retencion.aplicar", ("retencion", antes_de.date()), resultado)
    return resultado


async def no_interesados_vigentes(
    session: AsyncSession, telefonos: Iterable[str], *, ahora: datetime, dias: int
) -> dict[str, datetime]:
    """Phones that answered «no me interesa» in the last `dias` days → until when they are held.

    By phone, not by contact: the hold follows the person across carteras and agents. Only new
    campaigns are held back; an agent can still answer when the person writes.
    """
    lista = sorted({t for t in telefonos if t})
    if not lista:
        return {}
    desde = ahora - timedelta(days=dias)
    filas = await session.execute(
        select(MensajeRecibido.numero_origen, func.max(MensajeRecibido.recibido_at))
        .where(
            MensajeRecibido.numero_origen.in_(lista),
            MensajeRecibido.clasificacion == "no_interesado",
            MensajeRecibido.recibido_at >= desde,
        )
        .group_by(MensajeRecibido.numero_origen)
    )
    return {telefono: ultimo + timedelta(days=dias) for telefono, ultimo in filas.all() if telefono is not None}
