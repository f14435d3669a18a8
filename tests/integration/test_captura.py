"""Capture against real PostgreSQL: shuffled, duplicated, out-of-order streams end in one correct row each."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from enlace.captura.estados import Resumen
from enlace.captura.service import Captura
from enlace.mensajes.estados import RANGO
from enlace.motores.base import (
    EstadoEntrega,
    EventoEstado,
    EventoMapeoIdentificador,
    EventoMensaje,
    Medio,
    TipoContenido,
)
from enlace.settings import AlcanceCaptura

pytestmark = pytest.mark.asyncio


async def sql(nucleo: Any, consulta: str, **params: Any) -> list[Any]:
    async with nucleo.fabrica() as s:
        resultado = await s.execute(text(consulta), params)
        filas = list(resultado.all()) if resultado.returns_rows else []
        await s.commit()
        return filas


async def crear_agente(nucleo: Any, numero: str = "+525500000001") -> int:
    filas = await sql(nucleo, "INSERT INTO agentes (nombre, numero_wa) VALUES ('Agente', :n) RETURNING id", n=numero)
    return int(filas[0][0])


async def crear_contacto(nucleo: Any, agente_id: int, telefono: str) -> int:
    filas = await sql(
        nucleo,
        "INSERT INTO contactos (agente_id, nombre, telefono, estado) VALUES (:a, 'Persona', :t, 'contactado')"
        " RETURNING id",
        a=agente_id,
        t=telefono,
    )
    return int(filas[0][0])


async def crear_campana(nucleo: Any, agente_id: int) -> int:
    filas = await sql(
        nucleo,
        "INSERT INTO campanas (agente_id, nombre, estado, zona_horaria)"
        " VALUES (:a, 'Prueba', 'activa', 'America/Mexico_City') RETURNING id",
        a=agente_id,
    )
    return int(filas[0][0])


async def crear_enviado(
    nucleo: Any,
    agente_id: int,
    campana_id: int,
    contacto_id: int,
    telefono: str,
    wa: str,
    estado: str,
    momento: datetime,
) -> int:
    filas = await sql(
        nucleo,
        "INSERT INTO mensajes_enviados (campana_id, agente_id, contacto_id, origen, numero_destino, mensaje,"
        " wa_message_id, estado, intentado_at, enviado_at) VALUES (:c, :a, :k, 'campana', :t, 'Hola', :w, :e, :m,"
        " :ea) RETURNING id",
        c=campana_id,
        a=agente_id,
        k=contacto_id,
        t=telefono,
        w=wa,
        e=estado,
        m=momento,
        ea=momento if estado == "enviado" else None,
    )
    return int(filas[0][0])


def captura(nucleo: Any, alcance: AlcanceCaptura = AlcanceCaptura.negocio, **kw: Any) -> Captura:
    ajustes = nucleo.settings.model_copy(update={"alcance_captura": alcance})
    return Captura(nucleo.fabrica, nucleo.reloj, ajustes, **kw)


def jid(telefono: str) -> str:
    return f"521{telefono[3:]}@s.whatsapp.net"


@dataclass
class Escenario:
    """A campaign of N messages plus phone-typed ones, and the full expected outcome."""

    agente_id: int
    campana_id: int
    eventos: list[Any] = field(default_factory=list)
    esperado: dict[str, Resumen] = field(default_factory=dict)  # wa id -> merged receipts (+ echo)
    tecleados: set[str] = field(default_factory=set)
    respuestas: dict[str, tuple[str, int]] = field(default_factory=dict)  # reply wa -> (origin wa, contacto)
    fila_por_wa: dict[str, int] = field(default_factory=dict)
    contactos: dict[str, int] = field(default_factory=dict)  # telefono -> contacto


async def armar(nucleo: Any, rnd: random.Random, n: int = 25, tecleados: int = 8) -> Escenario:
    t0 = nucleo.reloj.ahora()
    agente_id = await crear_agente(nucleo, f"+5255{rnd.randrange(10**8):08d}")
    campana_id = await crear_campana(nucleo, agente_id)
    esc = Escenario(agente_id, campana_id)
    for i in range(n + tecleados):
        tel = f"+5233{agente_id:03d}{i:05d}"
        esc.contactos[tel] = await crear_contacto(nucleo, agente_id, tel)
        wa = f"3EB0{agente_id:04d}{i:06d}"
        lid = f"{agente_id}{i:06d}77@lid"
        enviado = t0 + timedelta(seconds=i)
        if i < n:
            estado_inicial = rnd.choice(["enviando", "enviado"])
            esc.fila_por_wa[wa] = await crear_enviado(
                nucleo, agente_id, campana_id, esc.contactos[tel], tel, wa, estado_inicial, enviado
            )
        else:
            esc.tecleados.add(wa)
        # The echo (the socket's own send, or a message typed on the phone).
        esc.eventos.append(
            EventoMensaje(agente_id, wa, True, jid(tel), None, enviado, TipoContenido.texto, texto=f"Hola {i}")
        )
        resumen = Resumen()
        resumen.agregar("enviado", enviado)
        pasos = ["enviado", "entregado", "leido", "reproducido"][: rnd.randint(0, 4)]
        if rnd.random() < 0.15:
            pasos.append("fallido")
        for k, tipo in enumerate(pasos):
            momento = enviado + timedelta(seconds=10 * (k + 1))
            codigo = 463 if tipo == "fallido" else None
            esc.eventos.append(EventoEstado(agente_id, wa, EstadoEntrega(tipo), momento, codigo_error=codigo))
            resumen.agregar(tipo, momento, codigo)
        esc.esperado[wa] = resumen
        if i < n and rnd.random() < 0.5:
            respuesta = f"R{agente_id:04d}{i:06d}"
            momento = enviado + timedelta(minutes=5)
            if rnd.random() < 0.4:  # addressed by LID; the map comes as its own event or as remoteJidAlt
                if rnd.random() < 0.5:
                    esc.eventos.append(EventoMapeoIdentificador(agente_id, lid, jid(tel)))
                    ev = EventoMensaje(agente_id, respuesta, False, lid, None, momento, TipoContenido.texto, "Sí")
                else:
                    ev = EventoMensaje(agente_id, respuesta, False, lid, jid(tel), momento, TipoContenido.texto, "Sí")
            else:
                ev = EventoMensaje(agente_id, respuesta, False, jid(tel), None, momento, TipoContenido.texto, "Info")
            esc.eventos.append(ev)
            esc.respuestas[respuesta] = (wa, esc.contactos[tel])
    return esc


def revolver(rnd: random.Random, eventos: list[Any]) -> list[Any]:
    """Duplicate some events, shuffle everything (mapping events stay before the messages that need them)."""
    mapas = [e for e in eventos if isinstance(e, EventoMapeoIdentificador)]
    resto = [e for e in eventos if not isinstance(e, EventoMapeoIdentificador)]
    resto += [rnd.choice(resto) for _ in range(len(resto) // 3)]
    rnd.shuffle(resto)
    return mapas + resto


async def comprobar(nucleo: Any, esc: Escenario, recibos_entregados: int) -> None:
    filas = await sql(
        nucleo,
        "SELECT wa_message_id, estado, origen, enviado_at, entregado_at, leido_at, codigo_error, contacto_id,"
        " numero_destino FROM mensajes_enviados WHERE agente_id = :a",
        a=esc.agente_id,
    )
    por_wa = {f.wa_message_id: f for f in filas}
    assert len(filas) == len(esc.esperado)  # one row per message: nothing duplicated, nothing lost
    for wa, r in esc.esperado.items():
        f = por_wa[wa]
        assert f.estado == r.estado, wa
        assert f.entregado_at == r.entregado_at, wa
        assert f.leido_at == r.leido_at, wa
        if r.codigo_error is not None:
            assert f.codigo_error == r.codigo_error
        assert f.origen == ("telefono" if wa in esc.tecleados else "campana")
        assert f.contacto_id is not None and f.numero_destino is not None
    eventos = await sql(
        nucleo,
        "SELECT count(*) FROM eventos_entrega e JOIN mensajes_enviados m ON m.id = e.mensaje_id WHERE m.agente_id = :a",
        a=esc.agente_id,
    )
    assert eventos[0][0] == recibos_entregados  # every receipt appended, duplicates included
    pendientes = await sql(nucleo, "SELECT count(*) FROM recibos_pendientes WHERE agente_id = :a", a=esc.agente_id)
    assert pendientes[0][0] == 0
    recibidas = await sql(
        nucleo,
        "SELECT r.wa_message_id, r.contacto_id, r.campana_id, m.wa_message_id AS origen_wa, r.numero_origen"
        " FROM mensajes_recibidos r LEFT JOIN mensajes_enviados m ON m.id = r.mensaje_origen_id"
        " WHERE r.agente_id = :a",
        a=esc.agente_id,
    )
    assert {f.wa_message_id for f in recibidas} == set(esc.respuestas)
    for f in recibidas:
        origen_wa, contacto = esc.respuestas[f.wa_message_id]
        assert f.origen_wa == origen_wa
        assert f.contacto_id == contacto
        assert f.campana_id == esc.campana_id
        assert f.numero_origen is not None and f.numero_origen.startswith("+52")
    estados = await sql(
        nucleo,
        "SELECT c.id, c.estado FROM contactos c WHERE c.agente_id = :a",
        a=esc.agente_id,
    )
    respondieron = {c for _, c in esc.respuestas.values()}
    for contacto_id, estado in estados:
        assert (estado == "respondio") == (contacto_id in respondieron)


@pytest.mark.parametrize("semilla", [1, 2, 3, 4])
async def test_flujo_revuelto_termina_en_filas_correctas(nucleo: Any, semilla: int) -> None:
    rnd = random.Random(semilla)
    esc = await armar(nucleo, rnd)
    eventos = revolver(rnd, esc.eventos)
    c = captura(nucleo)
    vistos: dict[str, int] = {}
    i = 0
    while i < len(eventos):
        tam = rnd.randint(1, 40)
        await c.procesar(eventos[i : i + tam])
        i += tam
        # Statuses never move backwards between batches.
        for wa, estado in await sql(
            nucleo, "SELECT wa_message_id, estado FROM mensajes_enviados WHERE agente_id = :a", a=esc.agente_id
        ):
            assert RANGO[estado] >= vistos.get(wa, 0), (wa, estado)
            vistos[wa] = RANGO[estado]
    await comprobar(nucleo, esc, sum(isinstance(e, EventoEstado) for e in eventos))


async def test_por_el_consumidor_y_el_nucleo(nucleo: Any) -> None:
    """The real path: core fan-out → queue → batches; the same stream replayed twice changes nothing."""
    rnd = random.Random(99)
    esc = await armar(nucleo, rnd, n=40, tecleados=10)
    eventos = revolver(rnd, esc.eventos)
    c = captura(nucleo, max_lote=16, ventana_s=0.002)
    c.suscribir_en(nucleo)
    await c.iniciar()
    try:
        for ev in eventos:
            await nucleo.recibir_evento(ev)
        await c.vaciar()
        await comprobar(nucleo, esc, sum(isinstance(e, EventoEstado) for e in eventos))
        # A replay (e.g. history sync after relinking) of messages adds nothing.
        for ev in eventos:
            if isinstance(ev, EventoMensaje):
                await nucleo.recibir_evento(ev)
        await c.vaciar()
        await comprobar(nucleo, esc, sum(isinstance(e, EventoEstado) for e in eventos))
        assert c.consumidor.estadisticas.items_perdidos == 0
        assert c.consumidor.estadisticas.lotes < len(eventos)
    finally:
        await c.detener()


async def test_recibo_antes_que_el_mensaje_espera_y_se_aplica(nucleo: Any) -> None:
    agente = await crear_agente(nucleo)
    tel = "+525512340000"
    await crear_contacto(nucleo, agente, tel)
    t0 = nucleo.reloj.ahora()
    c = captura(nucleo)
    await c.procesar([EventoEstado(agente, "TECLEADO1", EstadoEntrega.leido, t0 + timedelta(seconds=9))])
    assert (await sql(nucleo, "SELECT count(*) FROM recibos_pendientes"))[0][0] == 1
    await c.procesar([EventoEstado(agente, "TECLEADO1", EstadoEntrega.entregado, t0 + timedelta(seconds=4))])
    await c.procesar([EventoMensaje(agente, "TECLEADO1", True, jid(tel), None, t0, TipoContenido.texto, "hola")])
    fila = (await sql(nucleo, "SELECT estado, entregado_at, leido_at, origen FROM mensajes_enviados"))[0]
    assert fila.estado == "leido" and fila.origen == "telefono"
    assert fila.entregado_at == t0 + timedelta(seconds=4)
    assert fila.leido_at == t0 + timedelta(seconds=9)
    assert (await sql(nucleo, "SELECT count(*) FROM recibos_pendientes"))[0][0] == 0
    assert (await sql(nucleo, "SELECT count(*) FROM eventos_entrega"))[0][0] == 2


async def test_recibo_pendiente_para_fila_escrita_por_otro_se_aplica_en_el_barrido(nucleo: Any) -> None:
    agente = await crear_agente(nucleo)
    tel = "+525512340001"
    contacto = await crear_contacto(nucleo, agente, tel)
    campana = await crear_campana(nucleo, agente)
    t0 = nucleo.reloj.ahora()
    c = captura(nucleo)
    await c.procesar([EventoEstado(agente, "wamid.X", EstadoEntrega.entregado, t0)])
    # The row appears by other means (e.g. the Cloud API id written by the dispatcher after the send).
    await crear_enviado(nucleo, agente, campana, contacto, tel, "wamid.X", "enviado", t0)
    assert await c.aplicar_recibos_pendientes() == 1
    fila = (await sql(nucleo, "SELECT estado FROM mensajes_enviados"))[0]
    assert fila.estado == "entregado"


async def test_fallido_con_codigo_y_luego_entregado(nucleo: Any) -> None:
    agente = await crear_agente(nucleo)
    tel = "+525512340002"
    contacto = await crear_contacto(nucleo, agente, tel)
    campana = await crear_campana(nucleo, agente)
    t0 = nucleo.reloj.ahora()
    await crear_enviado(nucleo, agente, campana, contacto, tel, "W1", "enviado", t0)
    c = captura(nucleo)
    await c.procesar([EventoEstado(agente, "W1", EstadoEntrega.fallido, t0, codigo_error=463)])
    await c.procesar([EventoEstado(agente, "W1", EstadoEntrega.enviado, t0)])  # late ack: stays failed
    fila = (await sql(nucleo, "SELECT estado, codigo_error, fallido_at FROM mensajes_enviados"))[0]
    assert (fila.estado, fila.codigo_error, fila.fallido_at) == ("fallido", 463, t0)
    await c.procesar([EventoEstado(agente, "W1", EstadoEntrega.entregado, t0 + timedelta(seconds=3))])
    fila = (await sql(nucleo, "SELECT estado, codigo_error FROM mensajes_enviados"))[0]
    assert (fila.estado, fila.codigo_error) == ("entregado", 463)


async def test_alcance_negocio_solo_cuenta_chats_personales(nucleo: Any) -> None:
    agente = await crear_agente(nucleo)
    contacto_tel = "+525512340003"
    await crear_contacto(nucleo, agente, contacto_tel)
    t0 = nucleo.reloj.ahora()
    eventos = [
        EventoMensaje(agente, "P1", False, "5215599999999@s.whatsapp.net", None, t0, TipoContenido.texto, "¿Cenamos?"),
        EventoMensaje(agente, "P2", True, "5215599999999@s.whatsapp.net", None, t0, TipoContenido.texto, "Sí"),
        EventoMensaje(agente, "G1", False, "1203630@g.us", None, t0, TipoContenido.texto, "grupo", es_grupo=True),
        EventoMensaje(agente, "S1", False, "status@broadcast", None, t0, TipoContenido.imagen),
        EventoMensaje(agente, "C1", False, jid(contacto_tel), None, t0, TipoContenido.texto, "Me interesa"),
    ]
    await captura(nucleo).procesar(eventos)
    assert [f[0] for f in await sql(nucleo, "SELECT wa_message_id FROM mensajes_recibidos")] == ["C1"]
    assert (await sql(nucleo, "SELECT count(*) FROM mensajes_enviados"))[0][0] == 0
    conteo = (await sql(nucleo, "SELECT entrantes, salientes FROM conteos_fuera_alcance"))[0]
    assert (conteo.entrantes, conteo.salientes) == (2, 1)
    texto = (await sql(nucleo, "SELECT count(*) FROM mensajes_recibidos WHERE mensaje = '¿Cenamos?'"))[0][0]
    assert texto == 0  # the private chat's content is nowhere


async def test_alcance_todo_guarda_todo_y_completa_lid(nucleo: Any) -> None:
    agente = await crear_agente(nucleo)
    t0 = nucleo.reloj.ahora()
    c = captura(nucleo, AlcanceCaptura.todo)
    await c.procesar(
        [
            EventoMensaje(agente, "P1", False, "5215599999999@s.whatsapp.net", None, t0, TipoContenido.texto, "hola"),
            EventoMensaje(agente, "L1", False, "4242@lid", None, t0, TipoContenido.texto, "soy lid"),
        ]
    )
    filas = await sql(nucleo, "SELECT wa_message_id, numero_origen FROM mensajes_recibidos ORDER BY wa_message_id")
    assert [(f[0], f[1]) for f in filas] == [("L1", None), ("P1", "+525599999999")]
    await c.procesar([EventoMapeoIdentificador(agente, "4242@lid", "5215588888888@s.whatsapp.net")])
    filas = await sql(nucleo, "SELECT numero_origen FROM mensajes_recibidos WHERE wa_message_id = 'L1'")
    assert filas[0][0] == "+525588888888"


async def test_medios_ediciones_y_borrados(nucleo: Any, tmp_path: Any) -> None:
    agente = await crear_agente(nucleo)
    tel = "+525512340004"
    await crear_contacto(nucleo, agente, tel)
    t0 = nucleo.reloj.ahora()
    descargas: list[tuple[int, str]] = []

    class MotorConMedios:
        async def descargar_medio(self, agente_id: int, referencia: str) -> bytes:
            descargas.append((agente_id, referencia))
            return b"\x89PNG..."

    ajustes = nucleo.settings.model_copy(update={"directorio_medios": tmp_path})
    c = Captura(nucleo.fabrica, nucleo.reloj, ajustes, motor=lambda: MotorConMedios())  # type: ignore[arg-type,return-value]
    await c.iniciar()
    try:
        await c.procesar(
            [
                EventoMensaje(
                    agente,
                    "IMG1",
                    False,
                    jid(tel),
                    None,
                    t0,
                    TipoContenido.imagen,
                    "mi INE",
                    medio=Medio("image/png", 2048, None, "ref-img"),
                ),
                EventoMensaje(agente, "T1", False, jid(tel), None, t0, TipoContenido.texto, "Hola"),
            ]
        )
        await c.procesar(
            [
                EventoMensaje(
                    agente,
                    "E1",
                    False,
                    jid(tel),
                    None,
                    t0 + timedelta(seconds=5),
                    TipoContenido.edicion,
                    "Hola, buenas tardes",
                    referencia_id="T1",
                ),
                EventoMensaje(
                    agente,
                    "D1",
                    False,
                    jid(tel),
                    None,
                    t0 + timedelta(seconds=9),
                    TipoContenido.borrado,
                    None,
                    referencia_id="IMG1",
                ),
            ]
        )
        from enlace.db.sesion import esperar_post_commit

        await esperar_post_commit()
        assert c.descargador is not None
        await c.descargador.vaciar()
    finally:
        await c.detener()
    filas = {
        f.wa_message_id: f
        for f in await sql(
            nucleo, "SELECT wa_message_id, mensaje, tipo, medio, editado_at, borrado_at FROM mensajes_recibidos"
        )
    }
    assert set(filas) == {"IMG1", "T1"}
    assert filas["T1"].mensaje == "Hola, buenas tardes" and filas["T1"].editado_at == t0 + timedelta(seconds=5)
    img = filas["IMG1"]
    assert img.tipo == "imagen" and img.mensaje == "mi INE" and img.borrado_at == t0 + timedelta(seconds=9)
    assert img.medio["mime"] == "image/png" and img.medio["tamano"] == 2048
    assert descargas == [(agente, "ref-img")]
    assert img.medio["ruta"].endswith("IMG1.png")
    assert (tmp_path / str(agente)).exists()


async def test_historial_no_marca_no_leidos_ni_respondio(nucleo: Any) -> None:
    agente = await crear_agente(nucleo)
    tel = "+525512340005"
    contacto = await crear_contacto(nucleo, agente, tel)
    t0 = nucleo.reloj.ahora() - timedelta(days=30)
    eventos = [
        EventoMensaje(
            agente,
            f"H{i}",
            i % 2 == 0,
            jid(tel),
            None,
            t0 + timedelta(minutes=i),
            TipoContenido.texto,
            f"m{i}",
            historial=True,
        )
        for i in range(300)
    ]
    c = captura(nucleo, max_lote=100)
    await c.iniciar()
    for ev in eventos:
        await c.recibir(ev)
    await c.vaciar()
    await c.detener()
    assert (await sql(nucleo, "SELECT count(*) FROM mensajes_recibidos"))[0][0] == 150
    assert (await sql(nucleo, "SELECT count(*) FROM mensajes_enviados WHERE origen = 'telefono'"))[0][0] == 150
    conv = (await sql(nucleo, "SELECT no_leidos, contacto_id, ultimo_texto FROM conversaciones"))[0]
    assert (conv.no_leidos, conv.contacto_id, conv.ultimo_texto) == (0, contacto, "m299")
    assert (await sql(nucleo, "SELECT estado FROM contactos"))[0][0] == "contactado"
    assert c.consumidor.estadisticas.lotes <= 10


async def test_respuestas_pasan_por_cumplimiento(nucleo: Any) -> None:
    """A `BAJA` reply suppresses the phone and cancels what was pending; an ordinary one is only classified."""
    agente = await crear_agente(nucleo)
    campana = await crear_campana(nucleo, agente)
    t0 = nucleo.reloj.ahora()
    tel_baja, tel_otro = "+525512340006", "+525512340007"
    for tel in (tel_baja, tel_otro):
        contacto = await crear_contacto(nucleo, agente, tel)
        await crear_enviado(nucleo, agente, campana, contacto, tel, f"ENV{tel[-1]}", "enviado", t0)
        await crear_enviado(nucleo, agente, campana, contacto, tel, f"PEND{tel[-1]}", "pendiente", t0)
    await captura(nucleo).procesar(
        [
            EventoMensaje(
                agente,
                "RB",
                False,
                jid(tel_baja),
                None,
                t0 + timedelta(minutes=1),
                TipoContenido.texto,
                "BAJA por favor",
            ),
            EventoMensaje(
                agente,
                "RO",
                False,
                jid(tel_otro),
                None,
                t0 + timedelta(minutes=1),
                TipoContenido.texto,
                "¿Cuánto me prestan?",
            ),
        ]
    )
    clasif = {
        f.wa_message_id: f.clasificacion
        for f in await sql(nucleo, "SELECT wa_message_id, clasificacion FROM mensajes_recibidos")
    }
    assert clasif == {"RB": "baja", "RO": "otro"}
    supresiones = await sql(nucleo, "SELECT telefono FROM supresiones")
    assert [s[0] for s in supresiones] == [tel_baja]
    pendientes = {
        f.wa_message_id: f.estado
        for f in await sql(
            nucleo, "SELECT wa_message_id, estado FROM mensajes_enviados WHERE wa_message_id LIKE 'PEND%'"
        )
    }
    assert pendientes == {f"PEND{tel_baja[-1]}": "cancelado", f"PEND{tel_otro[-1]}": "pendiente"}


async def test_preferencia_de_marketing_suprime(nucleo: Any) -> None:
    """Cloud API `user_preferences` stop: the phone is suppressed through compliance (by phone or by user id)."""
    from enlace.motores.base import EventoPreferencia

    agente = await crear_agente(nucleo)
    t0 = nucleo.reloj.ahora()
    await sql(
        nucleo,
        "INSERT INTO mapeos_identificador (valor, tipo, telefono, actualizado_at) VALUES ('MX.123', 'bsuid',"
        " '+525512340009', :t)",
        t=t0,
    )
    await captura(nucleo).procesar(
        [
            EventoPreferencia(agente, "5215512340008", None, True, t0),
            EventoPreferencia(agente, None, "MX.123", True, t0),
            EventoPreferencia(agente, "5215512340010", None, False, t0),  # resumed: nothing to suppress
        ]
    )
    filas = await sql(nucleo, "SELECT telefono, fuente FROM supresiones ORDER BY telefono")
    assert [(f[0], f[1]) for f in filas] == [("+525512340008", "marketing"), ("+525512340009", "marketing")]


async def test_eventos_en_tiempo_real_despues_del_commit(nucleo: Any) -> None:
    from enlace.db.sesion import esperar_post_commit
    from enlace.tiempo_real import bus

    recibidos: list[tuple[str, dict[str, Any], list[str]]] = []

    async def observar(evento: str, datos: dict[str, Any], salas: list[str]) -> None:
        recibidos.append((evento, datos, salas))

    agente = await crear_agente(nucleo)
    campana = await crear_campana(nucleo, agente)
    tel = "+525512340011"
    contacto = await crear_contacto(nucleo, agente, tel)
    t0 = nucleo.reloj.ahora()
    await crear_enviado(nucleo, agente, campana, contacto, tel, "W11", "enviando", t0)
    bus.observadores.append(observar)
    try:
        await captura(nucleo).procesar(
            [
                EventoMensaje(agente, "W11", True, jid(tel), None, t0, TipoContenido.texto, "Hola"),
                EventoEstado(agente, "W11", EstadoEntrega.entregado, t0 + timedelta(seconds=2)),
                EventoMensaje(
                    agente,
                    "R11",
                    False,
                    jid(tel),
                    None,
                    t0 + timedelta(seconds=9),
                    TipoContenido.texto,
                    "Sí me interesa",
                ),
            ]
        )
        await esperar_post_commit()
    finally:
        bus.observadores.remove(observar)
    nombres = [e for e, _, _ in recibidos]
    assert nombres.count("mensaje.estado") == 2 and nombres.count("mensaje.recibido") == 1
    estados = [d["estado"] for e, d, _ in recibidos if e == "mensaje.estado"]
    assert set(estados) == {"enviado", "entregado"}
    _, datos, salas = next(r for r in recibidos if r[0] == "mensaje.recibido")
    assert datos["contacto_id"] == contacto and datos["campana_id"] == campana
    assert {f"agente:{agente}", "supervision", f"campana:{campana}"} <= set(salas)
