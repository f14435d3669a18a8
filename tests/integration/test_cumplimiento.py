"""Compliance on a real database: opt-outs in one transaction, the gate's checks, lists, consent, ARCO, retention."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.campanas.models import Campana
from enlace.carteras.models import Contacto, IdentificadorContacto
from enlace.comun.actor import Actor
from enlace.comun.horario import Ventana
from enlace.comun.models import Auditoria
from enlace.cumplimiento import service
from enlace.cumplimiento.ajustes import cambiar_ajuste
from enlace.cumplimiento.models import Supresion
from enlace.cumplimiento.puerta import revisar_envio, revisar_suprimido
from enlace.errores import EntradaInvalida, NoEncontrado
from enlace.mensajes.models import EventoEntrega, MensajeEnviado, MensajeRecibido

CDMX = "America/Mexico_City"
# RelojManual starts on Monday 2026-11-23 15:00 UTC = 09:00 in Mexico City.
AHORA = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


# ---- data helpers (also used by the other cumplimiento/auditoria test files) ---------------------


def telefono_nuevo() -> str:
    return "+5255" + "".join(secrets.choice("0123456789") for _ in range(8))


async def nuevo_agente(crear_usuario: Any) -> int:
    return int((await crear_usuario("agente"))["agente_id"])


async def nuevo_contacto(
    session: AsyncSession, telefono: str, agente_id: int | None, *, estado_mx: str | None = None, **extra: Any
) -> Contacto:
    fila = Contacto(telefono=telefono, agente_id=agente_id, nombre="Persona de prueba", estado_mx=estado_mx, **extra)
    session.add(fila)
    await session.flush()
    return fila


async def nueva_campana(session: AsyncSession, agente_id: int) -> int:
    fila = Campana(agente_id=agente_id, nombre=f"Campaña {secrets.token_hex(2)}", zona_horaria=CDMX, estado="activa")
    session.add(fila)
    await session.flush()
    return fila.id


async def nuevo_mensaje(
    session: AsyncSession,
    agente_id: int,
    telefono: str,
    *,
    campana_id: int | None = None,
    contacto_id: int | None = None,
    estado: str = "pendiente",
    origen: str = "campana",
    intentado_at: datetime | None = None,
    mensaje: str = "Hola, le escribimos por su crédito.",
) -> MensajeEnviado:
    fila = MensajeEnviado(
        agente_id=agente_id,
        campana_id=campana_id,
        contacto_id=contacto_id,
        origen=origen,
        numero_destino=telefono,
        mensaje=mensaje,
        wa_message_id="3EB0" + secrets.token_hex(9).upper(),
        estado=estado,
        intentado_at=intentado_at,
        enviado_at=intentado_at if estado not in ("pendiente", "enviando") else None,
    )
    session.add(fila)
    await session.flush()
    return fila


async def nuevo_recibido(
    session: AsyncSession, agente_id: int, telefono: str, texto: str, *, contacto_id: int | None = None
) -> MensajeRecibido:
    fila = MensajeRecibido(
        agente_id=agente_id,
        contacto_id=contacto_id,
        numero_origen=telefono,
        chat_jid=telefono[1:] + "@s.whatsapp.net",
        mensaje=texto,
        wa_message_id="3EB0" + secrets.token_hex(9).upper(),
        recibido_at=AHORA,
    )
    session.add(fila)
    await session.flush()
    return fila


async def gate(session: AsyncSession, agente_id: int, telefono: str, contacto_id: int | None, **kw: Any) -> Any:
    valores: dict[str, Any] = {
        "agente_id": agente_id,
        "contacto_id": contacto_id,
        "telefono": telefono,
        "campana_id": None,
        "zona_horaria": CDMX,
        "estado_mx": None,
        "ahora": AHORA,
        "es_campana": True,
    }
    valores.update(kw)
    return await revisar_envio(session, **valores)


async def filas_auditoria(session: AsyncSession, accion: str) -> list[Auditoria]:
    return list((await session.scalars(select(Auditoria).where(Auditoria.accion == accion))).all())


async def campo(session: AsyncSession, columna: Any, fila_id: int) -> Any:
    """Fresh value of one column of one row (never a stale identity-map copy)."""
    return await session.scalar(select(columna).where(columna.class_.id == fila_id))


ADMIN = Actor(usuario_id=0, rol="admin", nombre="prueba")


async def actor_admin(crear_usuario: Any) -> Actor:
    datos = await crear_usuario("admin")
    return Actor(usuario_id=datos["id"], rol="admin", nombre=datos["usuario"])


# ---- opt-out ------------------------------------------------------------------------------------


async def test_baja_suprime_y_cancela_todo_lo_pendiente_en_una_transaccion(
    db: AsyncSession, crear_usuario: Any
) -> None:
    a1, a2 = await nuevo_agente(crear_usuario), await nuevo_agente(crear_usuario)
    tel, otro = telefono_nuevo(), telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a1)
    c1, c2 = await nueva_campana(db, a1), await nueva_campana(db, a2)
    pendiente_1 = await nuevo_mensaje(db, a1, tel, campana_id=c1, contacto_id=contacto.id)
    pendiente_2 = await nuevo_mensaje(db, a2, tel, campana_id=c2)
    respuesta_pendiente = await nuevo_mensaje(db, a2, tel, origen="respuesta")
    enviado = await nuevo_mensaje(db, a1, tel, campana_id=c1, estado="enviado", intentado_at=AHORA - timedelta(hours=1))
    ajeno = await nuevo_mensaje(db, a1, otro, campana_id=c1)
    recibido = await nuevo_recibido(db, a1, tel, "YA NO ME MANDEN MENSAJES!!", contacto_id=contacto.id)
    await db.commit()

    clasificacion = await service.evaluar_respuesta(
        db,
        mensaje_recibido_id=recibido.id,
        telefono=tel,
        texto=recibido.mensaje,
        contacto_id=contacto.id,
        agente_id=a1,
        ahora=AHORA,
    )
    await db.commit()

    assert clasificacion.clase == "baja" and clasificacion.regla == "no_escribir"
    assert clasificacion.cancelados == 3
    supresion = await db.scalar(select(Supresion).where(Supresion.telefono == tel))
    assert supresion is not None
    assert (supresion.fuente, supresion.regla, supresion.mensaje_recibido_id) == ("baja", "no_escribir", recibido.id)
    assert "no_escribir" in supresion.motivo
    assert supresion.created_at == AHORA  # the core's clock, not the database's
    estados = {
        m.id: m.estado
        for m in (await db.scalars(select(MensajeEnviado).execution_options(populate_existing=True))).all()
    }
    assert estados[pendiente_1.id] == estados[pendiente_2.id] == estados[respuesta_pendiente.id] == "cancelado"
    assert estados[enviado.id] == "enviado"
    assert estados[ajeno.id] == "pendiente"
    assert await campo(db, Contacto.estado, contacto.id) == "baja"
    guardado = await db.get(MensajeRecibido, recibido.id, populate_existing=True)
    assert guardado is not None and (guardado.clasificacion, guardado.regla) == ("baja", "no_escribir")
    # Every agent, campaign or not, is now stopped at the gate.
    for agente in (a1, a2):
        for es_campana in (True, False):
            bloqueo = await gate(db, agente, tel, contacto.id, es_campana=es_campana)
            assert bloqueo is not None and bloqueo.codigo == "suprimido" and bloqueo.reintentar_en is None
    await db.rollback()


async def test_baja_se_revierte_entera_si_la_transaccion_falla(db: AsyncSession, crear_usuario: Any) -> None:
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    pendiente = await nuevo_mensaje(db, a1, tel)
    pendiente_id = pendiente.id
    recibido = await nuevo_recibido(db, a1, tel, "baja")
    await db.commit()
    await service.evaluar_respuesta(
        db, mensaje_recibido_id=recibido.id, telefono=tel, texto="baja", contacto_id=None, agente_id=a1, ahora=AHORA
    )
    await db.rollback()
    assert await db.scalar(select(func.count()).select_from(Supresion)) == 0
    assert await campo(db, MensajeEnviado.estado, pendiente_id) == "pendiente"


async def test_no_interesado_marca_el_contacto_sin_suprimir(db: AsyncSession, crear_usuario: Any) -> None:
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a1)
    pendiente = await nuevo_mensaje(db, a1, tel)
    recibido = await nuevo_recibido(db, a1, tel, "No me interesa por ahora, gracias", contacto_id=contacto.id)
    r = await service.evaluar_respuesta(
        db,
        mensaje_recibido_id=recibido.id,
        telefono=tel,
        texto=recibido.mensaje,
        contacto_id=contacto.id,
        agente_id=a1,
        ahora=AHORA,
    )
    await db.commit()
    assert (r.clase, r.regla, r.supresion_id) == ("no_interesado", "no_me_interesa", None)
    assert await campo(db, Contacto.estado, contacto.id) == "no_interesado"
    assert await campo(db, MensajeEnviado.estado, pendiente.id) == "pendiente"
    assert await db.scalar(select(func.count()).select_from(Supresion)) == 0
    guardado = await db.get(MensajeRecibido, recibido.id, populate_existing=True)
    assert guardado is not None and guardado.clasificacion == "no_interesado"


async def test_otro_solo_guarda_la_decision(db: AsyncSession, crear_usuario: Any) -> None:
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a1)
    recibido = await nuevo_recibido(db, a1, tel, "¿Cómo doy de baja mi crédito anterior?", contacto_id=contacto.id)
    r = await service.evaluar_respuesta(
        db,
        mensaje_recibido_id=recibido.id,
        telefono=tel,
        texto=recibido.mensaje,
        contacto_id=contacto.id,
        agente_id=a1,
        ahora=AHORA,
    )
    await db.commit()
    assert (r.clase, r.regla) == ("otro", "baja_de_producto")
    assert await campo(db, Contacto.estado, contacto.id) == "pendiente"
    guardado = await db.get(MensajeRecibido, recibido.id, populate_existing=True)
    assert guardado is not None and (guardado.clasificacion, guardado.regla) == ("otro", "baja_de_producto")


async def test_confirmacion_de_baja_una_sola_y_solo_ella_pasa(db: AsyncSession, crear_usuario: Any) -> None:
    admin = await actor_admin(crear_usuario)
    await cambiar_ajuste(db, admin, "confirmar_baja", True)
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a1)
    pendiente = await nuevo_mensaje(db, a1, tel, contacto_id=contacto.id)
    r1 = await nuevo_recibido(db, a1, tel, "STOP")
    r2 = await nuevo_recibido(db, a1, tel, "STOP!!!")
    c1 = await service.evaluar_respuesta(
        db, mensaje_recibido_id=r1.id, telefono=tel, texto="STOP", contacto_id=contacto.id, agente_id=a1, ahora=AHORA
    )
    c2 = await service.evaluar_respuesta(
        db,
        mensaje_recibido_id=r2.id,
        telefono=tel,
        texto="STOP!!!",
        contacto_id=contacto.id,
        agente_id=a1,
        ahora=AHORA,
    )
    await db.commit()
    assert c1.confirmacion_id is not None and c2.confirmacion_id is None
    sistema = (await db.scalars(select(MensajeEnviado).where(MensajeEnviado.origen == "sistema"))).all()
    assert len(sistema) == 1
    confirmacion = sistema[0]
    assert (confirmacion.estado, confirmacion.numero_destino, confirmacion.agente_id) == ("pendiente", tel, a1)
    assert confirmacion.destino_jid == tel[1:] + "@s.whatsapp.net"
    # The gate lets exactly the confirmation through; the old campaign row was cancelled.
    assert await gate(db, a1, tel, contacto.id, es_campana=False, mensaje_id=confirmacion.id) is None
    # Even a dispatcher that treats it as a campaign row lets it through: no cap, no assignment for it.
    await nuevo_mensaje(db, a1, tel, estado="entregado", intentado_at=AHORA - timedelta(hours=2))
    assert await gate(db, a1, tel, contacto.id, es_campana=True, mensaje_id=confirmacion.id) is None
    assert (
        await gate(
            db, a1, tel, contacto.id, es_campana=True, mensaje_id=confirmacion.id, ahora=AHORA + timedelta(hours=14)
        )
        is not None
    )  # 23:00 in Mexico City: hours still apply
    assert await revisar_suprimido(db, telefono=tel, mensaje_id=confirmacion.id) is None
    bloqueo = await gate(db, a1, tel, contacto.id, es_campana=False, mensaje_id=pendiente.id)
    assert bloqueo is not None and bloqueo.codigo == "suprimido"
    assert await campo(db, MensajeEnviado.estado, pendiente.id) == "cancelado"
    await db.rollback()


async def test_baja_sin_telefono_conocido_guarda_la_decision(db: AsyncSession, crear_usuario: Any) -> None:
    a1 = await nuevo_agente(crear_usuario)
    recibido = await nuevo_recibido(db, a1, telefono_nuevo(), "BAJA")
    r = await service.evaluar_respuesta(
        db, mensaje_recibido_id=recibido.id, telefono=None, texto="BAJA", contacto_id=None, agente_id=a1, ahora=AHORA
    )
    await db.commit()
    assert r.clase == "baja" and r.supresion_id is None
    assert await campo(db, MensajeRecibido.clasificacion, recibido.id) == "baja"


# ---- gate ---------------------------------------------------------------------------------------


async def test_tope_de_frecuencia_entre_agentes(db: AsyncSession, crear_usuario: Any) -> None:
    a1, a2 = await nuevo_agente(crear_usuario), await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a2)
    hace_un_dia = AHORA - timedelta(days=1)
    await nuevo_mensaje(db, a1, tel, estado="entregado", intentado_at=hace_un_dia)
    bloqueo = await gate(db, a2, tel, contacto.id)
    assert bloqueo is not None and bloqueo.codigo == "frecuencia"
    # Free again 7 days after the earlier message, at the next allowed hour (09:00 CDMX is inside).
    assert bloqueo.reintentar_en == hace_un_dia + timedelta(days=7)
    # Replies are not campaign messages: the cap does not apply to them.
    assert await gate(db, a2, tel, contacto.id, es_campana=False) is None
    # Seven days later the cap has cleared.
    assert await gate(db, a2, tel, contacto.id, ahora=AHORA + timedelta(days=6)) is None
    # Cancelled, failed and pending rows do not count.
    tel2 = telefono_nuevo()
    c2 = await nuevo_contacto(db, tel2, a2)
    for estado in ("cancelado", "fallido", "pendiente", "suprimido"):
        await nuevo_mensaje(db, a1, tel2, estado=estado, intentado_at=hace_un_dia)
    assert await gate(db, a2, tel2, c2.id) is None
    await db.rollback()


@pytest.fixture
def pisos_legales(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the operator's legal floors (environment) for one test."""
    from enlace.settings import get_settings

    def poner(**valores: Any) -> None:
        for clave, valor in valores.items():
            monkeypatch.setenv(f"ENLACE_{clave.upper()}", str(valor))
        get_settings.cache_clear()

    yield poner
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_tope_configurable_por_ajustes(db: AsyncSession, crear_usuario: Any, pisos_legales: Any) -> None:
    # The operator's floor allows 3 per 2 days; the admin makes it stricter: 2 per 3 days.
    pisos_legales(frecuencia_max_mensajes=3, frecuencia_dias=2)
    admin = await actor_admin(crear_usuario)
    await cambiar_ajuste(db, admin, "frecuencia_max_mensajes", 2)
    await cambiar_ajuste(db, admin, "frecuencia_dias", 3)
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a1)
    await nuevo_mensaje(db, a1, tel, estado="enviado", intentado_at=AHORA - timedelta(days=2))
    assert await gate(db, a1, tel, contacto.id) is None
    await nuevo_mensaje(db, a1, tel, estado="leido", intentado_at=AHORA - timedelta(hours=5))
    bloqueo = await gate(db, a1, tel, contacto.id)
    assert bloqueo is not None and bloqueo.codigo == "frecuencia"
    assert bloqueo.reintentar_en == AHORA - timedelta(days=2) + timedelta(days=3)
    await db.rollback()


async def test_contacto_ya_no_asignado(db: AsyncSession, crear_usuario: Any) -> None:
    a1, a2 = await nuevo_agente(crear_usuario), await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a2)
    bloqueo = await gate(db, a1, tel, contacto.id)
    assert bloqueo is not None and bloqueo.codigo == "no_asignado" and bloqueo.reintentar_en is None
    assert await gate(db, a2, tel, contacto.id) is None
    await db.rollback()


async def test_consentimiento_requerido(db: AsyncSession, crear_usuario: Any) -> None:
    admin = await actor_admin(crear_usuario)
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a1)
    assert await gate(db, a1, tel, contacto.id) is None
    await cambiar_ajuste(db, admin, "requerir_consentimiento", True)
    bloqueo = await gate(db, a1, tel, contacto.id)
    assert bloqueo is not None and bloqueo.codigo == "sin_consentimiento"
    await service.registrar_consentimiento(
        db,
        contacto=contacto,
        fuente="formulario web",
        fecha=AHORA - timedelta(days=30),
        evidencia="Acepto recibir información por WhatsApp (aviso de privacidad v3)",
        actor=admin,
        ahora=AHORA,
    )
    assert await gate(db, a1, tel, contacto.id) is None
    auditoria = await filas_auditoria(db, "contacto.consentimiento")
    assert len(auditoria) == 1 and auditoria[0].objeto_id == str(contacto.id)
    with pytest.raises(EntradaInvalida, match="fecha"):
        await service.registrar_consentimiento(
            db, contacto=contacto, fuente="x", fecha=AHORA + timedelta(days=1), evidencia="y", actor=admin, ahora=AHORA
        )
    await db.rollback()


@pytest.mark.parametrize(
    ("estado_mx", "ahora", "reintentar"),
    [
        (None, AHORA, None),  # 09:00 in Mexico City
        ("Baja California", AHORA, None),  # 07:00 sharp in Tijuana: open
        ("Baja California", AHORA - timedelta(minutes=30), AHORA),  # 06:30 in Tijuana: wait until 07:00
        # 22:05 in Cancún (21:05 in Mexico City): next morning 07:00 Cancún = 12:00 UTC.
        ("Quintana Roo", datetime(2026, 11, 24, 3, 5, tzinfo=UTC), datetime(2026, 11, 24, 12, 0, tzinfo=UTC)),
        ("Sonora", datetime(2026, 11, 24, 4, 30, tzinfo=UTC), None),  # 21:30 in Hermosillo
    ],
)
async def test_horario_en_la_zona_del_destinatario(
    db: AsyncSession, crear_usuario: Any, estado_mx: str | None, ahora: datetime, reintentar: datetime | None
) -> None:
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a1, estado_mx=estado_mx)
    # The state comes from the contact row when the caller does not pass one.
    bloqueo = await gate(db, a1, tel, contacto.id, ahora=ahora)
    if reintentar is None:
        assert bloqueo is None
    else:
        assert bloqueo is not None and bloqueo.codigo == "fuera_de_horario"
        assert bloqueo.reintentar_en == reintentar
        assert "horario" in bloqueo.mensaje
    await db.rollback()


async def test_la_zona_propia_del_contacto_gana_como_en_el_despachador(db: AsyncSession, crear_usuario: Any) -> None:
    """One precedence (enlace.comun.horario): the contact's own zone, then its state, then the campaign's."""
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    # 14:30 UTC: 06:30 in Tijuana (its state) but 09:30 in Cancún (the zone stored on the contact).
    contacto = await nuevo_contacto(db, tel, a1, estado_mx="Baja California", zona_horaria="America/Cancun")
    assert await gate(db, a1, tel, contacto.id, ahora=AHORA - timedelta(minutes=30)) is None
    await db.rollback()


async def test_la_ventana_del_perfil_cierra_al_minuto(db: AsyncSession, crear_usuario: Any) -> None:
    """A profile ending at 20:30 closes at 20:30 (it used to be rounded to 21:00)."""
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a1)
    ventana = Ventana.de_texto("08:00", "20:30")
    abierta = datetime(2026, 11, 24, 2, 29, tzinfo=UTC)  # 20:29 in Mexico City
    assert await gate(db, a1, tel, contacto.id, ahora=abierta, ventana=ventana) is None
    bloqueo = await gate(db, a1, tel, contacto.id, ahora=abierta + timedelta(minutes=11), ventana=ventana)
    assert bloqueo is not None and bloqueo.codigo == "fuera_de_horario"
    assert "08:00–20:30" in bloqueo.mensaje and "20:40" in bloqueo.mensaje
    assert bloqueo.reintentar_en == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 08:00 in Mexico City
    await db.rollback()


async def test_reclamos_simultaneos_solo_uno_pasa_el_tope(nucleo: Any, crear_usuario: Any) -> None:
    """Several campaigns of the agent claim the same person at the same instant; the phone lock serializes them."""
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    async with nucleo.fabrica() as s:
        contacto = await nuevo_contacto(s, tel, a1)
        contacto_id = contacto.id
        ids = []
        for _ in range(4):
            campana = await nueva_campana(s, a1)
            ids.append((await nuevo_mensaje(s, a1, tel, campana_id=campana, contacto_id=contacto_id)).id)
        await s.commit()
    pasaron: list[int] = []

    async def reclamar(mensaje_id: int) -> None:
        async with nucleo.fabrica() as s:
            fila = await s.get(MensajeEnviado, mensaje_id, with_for_update=True)
            assert fila is not None
            bloqueo = await gate(s, a1, tel, contacto_id, mensaje_id=mensaje_id)
            if bloqueo is None:
                fila.estado, fila.intentado_at = "enviando", AHORA
                pasaron.append(mensaje_id)
            else:
                assert bloqueo.codigo == "frecuencia"
            await asyncio.sleep(0.05)  # keep the transaction (and the lock) open a little
            await s.commit()

    await asyncio.gather(*(reclamar(i) for i in ids))
    assert len(pasaron) == 1


# ---- suppression list ---------------------------------------------------------------------------


async def test_suprimir_es_idempotente_y_quitar_se_audita(db: AsyncSession, crear_usuario: Any) -> None:
    admin = await actor_admin(crear_usuario)
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a1)
    p1 = await nuevo_mensaje(db, a1, tel)
    primero = await service.suprimir(db, telefono=tel, motivo="Pidió por teléfono", fuente="manual", actor=admin)
    p2 = await nuevo_mensaje(db, a1, tel)
    segundo = await service.suprimir(db, telefono=tel, motivo="Otra vez", fuente="manual", actor=admin)
    assert primero.nueva and not segundo.nueva
    assert primero.supresion.id == segundo.supresion.id and segundo.supresion.motivo == "Pidió por teléfono"
    assert [c[0] for c in primero.cancelados] == [p1.id] and [c[0] for c in segundo.cancelados] == [p2.id]
    assert len(await filas_auditoria(db, "supresion.agregar")) == 1
    await service.quitar_supresion(db, telefono=tel, motivo="Solicitó volver a recibir información", actor=admin)
    assert await db.scalar(select(Supresion).where(Supresion.telefono == tel)) is None
    await db.refresh(contacto)
    assert contacto.estado == "pendiente"
    quitadas = await filas_auditoria(db, "supresion.quitar")
    assert len(quitadas) == 1 and quitadas[0].detalle["motivo"] == "Solicitó volver a recibir información"
    assert quitadas[0].usuario_id == admin.usuario_id
    assert tel not in str(quitadas[0].detalle)  # masked
    with pytest.raises(NoEncontrado):
        await service.quitar_supresion(db, telefono=tel, motivo="otra vez", actor=admin)
    with pytest.raises(EntradaInvalida, match="fuente"):
        await service.suprimir(db, telefono=tel, motivo="x", fuente="inventada", actor=admin)
    await db.rollback()


async def test_importar_lista_repep(db: AsyncSession, crear_usuario: Any) -> None:
    admin = await actor_admin(crear_usuario)
    a1 = await nuevo_agente(crear_usuario)
    pendiente = await nuevo_mensaje(db, a1, "+525512345678")
    await service.suprimir(db, telefono="+525511112222", motivo="previo", fuente="manual", actor=admin)
    csv = (
        b"telefono;nombre\n"
        b"55 1234 5678;Ana\n"
        b"+52 1 55 1111 2222;Beto\n"
        b"5.51234E+09;Excel\n"
        b"(33) 3333-4444;Caro\n"
        b"5512345678;Ana otra vez\n"
        b"123;corto\n"
    )
    r = await service.importar_lista(
        db, contenido=csv, fuente="repep", motivo=None, nombre_archivo="repep.csv", actor=admin
    )
    assert (r.filas, r.agregados, r.ya_existian, r.duplicados_en_archivo, r.total_rechazados) == (6, 2, 1, 1, 2)
    assert [x["fila"] for x in r.rechazados] == [4, 7]
    assert r.cancelados == 1
    assert await campo(db, MensajeEnviado.estado, pendiente.id) == "cancelado"
    fila = await db.scalar(select(Supresion).where(Supresion.telefono == "+523333334444"))
    assert fila is not None and fila.fuente == "repep" and "repep.csv" in fila.motivo
    auditoria = await filas_auditoria(db, "supresion.importar")
    assert len(auditoria) == 1 and auditoria[0].detalle["agregados"] == 2
    exportado = await service.exportar_csv(db, actor=admin, fuente="repep")
    assert exportado.splitlines()[0] == "telefono,fuente,motivo,regla,creada_at"
    assert len(exportado.splitlines()) == 3
    assert len(await filas_auditoria(db, "supresion.exportar")) == 1
    with pytest.raises(EntradaInvalida):
        await service.importar_lista(db, contenido=b"", fuente="repep", motivo=None, nombre_archivo="x", actor=admin)
    await db.rollback()


# ---- ARCO and retention -------------------------------------------------------------------------


async def test_arco_exporta_todo_y_cancela_dejando_supresion(db: AsyncSession, crear_usuario: Any) -> None:
    admin = await actor_admin(crear_usuario)
    a1 = await nuevo_agente(crear_usuario)
    tel, otro = telefono_nuevo(), telefono_nuevo()
    contacto = await nuevo_contacto(db, tel, a1, datos_credito={"nss": "12345678901", "monto": 25000})
    db.add(IdentificadorContacto(contacto_id=contacto.id, tipo="wa_jid", valor=tel[1:] + "@s.whatsapp.net"))
    enviado = await nuevo_mensaje(
        db, a1, tel, contacto_id=contacto.id, estado="entregado", intentado_at=AHORA, mensaje="Hola Ana"
    )
    db.add(EventoEntrega(mensaje_id=enviado.id, tipo="entregado", timestamp=AHORA))
    pendiente = await nuevo_mensaje(db, a1, tel, contacto_id=contacto.id)
    recibido = await nuevo_recibido(db, a1, tel, "¿Qué datos tienen míos?", contacto_id=contacto.id)
    ajeno = await nuevo_mensaje(db, a1, otro, mensaje="Hola Beto")
    await db.flush()

    datos = await service.arco_exportar(db, telefono=tel, actor=admin, canal="api")
    assert [c["id"] for c in datos["contactos"]] == [contacto.id]
    assert datos["contactos"][0]["datos_credito"]["monto"] == 25000
    assert len(datos["identificadores"]) == 1
    assert {m["id"] for m in datos["mensajes_enviados"]} == {enviado.id, pendiente.id}
    assert [m["id"] for m in datos["mensajes_recibidos"]] == [recibido.id]
    assert [e["tipo"] for e in datos["eventos_entrega"]] == ["entregado"]
    assert datos["supresion"] is None
    exportacion = await filas_auditoria(db, "arco.exportar")
    assert len(exportacion) == 1 and exportacion[0].detalle["mensajes_enviados"] == 2
    assert tel not in str(exportacion[0].objeto_id)

    conteos = await service.arco_cancelar(db, telefono=tel, actor=admin, canal="api")
    assert conteos == {
        "contactos": 1,
        "identificadores": 1,
        "mensajes_enviados": 2,
        "mensajes_recibidos": 1,
        "cancelados": 1,
    }
    c = await db.get(Contacto, contacto.id, populate_existing=True)
    assert c is not None and c.estado == "anonimizado" and c.nombre is None and c.telefono != tel
    assert c.datos_credito == {}
    for mensaje_id in (enviado.id, pendiente.id):
        m = await db.get(MensajeEnviado, mensaje_id, populate_existing=True)
        assert m is not None and m.mensaje is None and m.numero_destino is None
    assert await campo(db, MensajeEnviado.estado, pendiente.id) == "cancelado"
    r = await db.get(MensajeRecibido, recibido.id, populate_existing=True)
    assert r is not None and r.mensaje is None and r.numero_origen is None
    assert await campo(db, MensajeEnviado.mensaje, ajeno.id) == "Hola Beto"
    supresion = await db.scalar(select(Supresion).where(Supresion.telefono == tel))
    assert supresion is not None and supresion.fuente == "arco"
    # Nothing personal is left to export, and the person stays unreachable.
    despues = await service.arco_exportar(db, telefono=tel, actor=admin, canal="api")
    assert despues["contactos"] == [] and despues["mensajes_enviados"] == [] and despues["mensajes_recibidos"] == []
    assert despues["supresion"]["fuente"] == "arco"
    bloqueo = await gate(db, a1, tel, None, es_campana=False)
    assert bloqueo is not None and bloqueo.codigo == "suprimido"
    cancelacion = await filas_auditoria(db, "arco.cancelar")
    assert len(cancelacion) == 1 and cancelacion[0].detalle["mensajes_recibidos"] == 1
    assert "12345678901" not in str(cancelacion[0].detalle)
    await db.rollback()


async def test_retencion_borra_cuerpos_antiguos(db: AsyncSession, crear_usuario: Any) -> None:
    admin = await actor_admin(crear_usuario)
    await cambiar_ajuste(db, admin, "retencion_dias", 30)
    a1 = await nuevo_agente(crear_usuario)
    tel = telefono_nuevo()
    viejo = await nuevo_mensaje(db, a1, tel, estado="enviado", intentado_at=AHORA - timedelta(days=40))
    nuevo = await nuevo_mensaje(db, a1, tel, estado="enviado", intentado_at=AHORA)
    viejo_pendiente = await nuevo_mensaje(db, a1, tel)
    recibido_viejo = await nuevo_recibido(db, a1, tel, "hola")
    recibido_viejo.recibido_at = AHORA - timedelta(days=31)
    recibido_nuevo = await nuevo_recibido(db, a1, tel, "hola de nuevo")
    await db.flush()
    # created_at comes from the database clock; age the old rows explicitly.
    await db.execute(
        text("UPDATE mensajes_enviados SET created_at = :t WHERE id = ANY(:ids)"),
        {"t": AHORA - timedelta(days=40), "ids": [viejo.id, viejo_pendiente.id]},
    )
    resultado = await service.aplicar_retencion(db, ahora=AHORA, actor=None)
    assert (resultado["mensajes_enviados"], resultado["mensajes_recibidos"]) == (1, 1)
    assert await campo(db, MensajeEnviado.mensaje, viejo.id) is None
    assert await campo(db, MensajeEnviado.mensaje, nuevo.id) is not None
    # A row still waiting to be sent keeps its text: deleting it would send an empty message.
    assert await campo(db, MensajeEnviado.mensaje, viejo_pendiente.id) is not None
    assert await campo(db, MensajeRecibido.mensaje, recibido_viejo.id) is None
    assert await campo(db, MensajeRecibido.mensaje, recibido_nuevo.id) == "hola de nuevo"
    auditoria = await filas_auditoria(db, "retencion.aplicar")
    assert len(auditoria) == 1 and auditoria[0].usuario_id is None and auditoria[0].detalle["mensajes_enviados"] == 1
    # Running it again finds nothing and writes no audit row.
    otra = await service.aplicar_retencion(db, ahora=AHORA, actor=None)
    assert (otra["mensajes_enviados"], otra["mensajes_recibidos"]) == (0, 0)
    assert len(await filas_auditoria(db, "retencion.aplicar")) == 1
    await db.rollback()


async def test_ajustes_validan_y_se_auditan(db: AsyncSession, crear_usuario: Any) -> None:
    admin = await actor_admin(crear_usuario)
    with pytest.raises(EntradaInvalida, match="hora_max_contacto"):
        await cambiar_ajuste(db, admin, "hora_max_contacto", 23)
    with pytest.raises(EntradaInvalida, match="frecuencia_dias"):
        await cambiar_ajuste(db, admin, "frecuencia_dias", 0)
    with pytest.raises(EntradaInvalida, match="no es un ajuste"):
        await cambiar_ajuste(db, admin, "apagar_cumplimiento", True)
    # Floors: the cap may not go above the legal one (1 per 7 days by default), nor to 0.
    with pytest.raises(EntradaInvalida, match="frecuencia_max_mensajes: el máximo legal configurado es 1"):
        await cambiar_ajuste(db, admin, "frecuencia_max_mensajes", 10)
    with pytest.raises(EntradaInvalida, match="con 0 ninguna campaña podría enviar"):
        await cambiar_ajuste(db, admin, "frecuencia_max_mensajes", 0)
    with pytest.raises(EntradaInvalida, match="frecuencia_dias: el periodo legal mínimo es de 7"):
        await cambiar_ajuste(db, admin, "frecuencia_dias", 3)
    with pytest.raises(EntradaInvalida, match="retencion_dias: el mínimo es 30"):
        await cambiar_ajuste(db, admin, "retencion_dias", 7)
    nuevos = await cambiar_ajuste(db, admin, "frecuencia_dias", 14)
    assert nuevos.frecuencia_dias == 14
    filas = await filas_auditoria(db, "ajuste.cambiar")
    assert len(filas) == 1 and filas[0].detalle == {"ajuste": "frecuencia_dias", "anterior": 7, "nuevo": 14}
    await db.rollback()


async def test_componente_de_retencion_un_nodo_a_la_vez(nucleo: Any, crear_usuario: Any) -> None:
    from enlace.cumplimiento.tasks import CLAVE_RETENCION, ComponenteRetencion

    a1 = await nuevo_agente(crear_usuario)
    async with nucleo.fabrica() as s:
        viejo = await nuevo_mensaje(s, a1, telefono_nuevo(), estado="enviado", intentado_at=AHORA)
        await s.execute(
            text("UPDATE mensajes_enviados SET created_at = :t WHERE id = :id"),
            {"t": AHORA - timedelta(days=400), "id": viejo.id},
        )
        await s.commit()
    componente = ComponenteRetencion(nucleo)
    async with nucleo.fabrica() as otro_nodo:
        await otro_nodo.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLAVE_RETENCION})
        assert await componente.ejecutar_una_vez() is None
        await otro_nodo.rollback()
    resultado = await componente.ejecutar_una_vez()
    assert resultado is not None and resultado["mensajes_enviados"] == 1
    async with nucleo.fabrica() as s:
        assert await campo(s, MensajeEnviado.mensaje, viejo.id) is None


async def test_baja_avisa_en_tiempo_real_despues_del_commit(db: AsyncSession, crear_usuario: Any) -> None:
    from enlace.db.sesion import esperar_post_commit
    from enlace.tiempo_real import bus

    recibidos: list[tuple[str, dict[str, Any], list[str]]] = []

    async def observar(evento: str, datos: dict[str, Any], salas: list[str]) -> None:
        recibidos.append((evento, datos, salas))

    bus.observadores.append(observar)
    try:
        a1 = await nuevo_agente(crear_usuario)
        tel = telefono_nuevo()
        contacto = await nuevo_contacto(db, tel, a1)
        contacto_id = contacto.id
        recibido = await nuevo_recibido(db, a1, tel, "Dejen de escribirme", contacto_id=contacto_id)
        await service.evaluar_respuesta(
            db,
            mensaje_recibido_id=recibido.id,
            telefono=tel,
            texto=recibido.mensaje,
            contacto_id=contacto_id,
            agente_id=a1,
            ahora=AHORA,
        )
        await esperar_post_commit()
        assert not [r for r in recibidos if r[0] == "contacto.baja"]  # nothing before the commit
        await db.commit()
        await esperar_post_commit()
    finally:
        bus.observadores.remove(observar)
    bajas = [r for r in recibidos if r[0] == "contacto.baja"]
    assert len(bajas) == 1
    _, datos, salas = bajas[0]
    assert datos["contacto_id"] == contacto_id and datos["telefono"] == tel[:3] + "******" + tel[-4:]
    assert f"agente:{a1}" in salas and "supervision" in salas
