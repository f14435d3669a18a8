"""Pure parts of capture: JID matching, the receipt merge, batch planning, scope and media paths."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from enlace.captura import alcance, estados, medios, plan
from enlace.captura.alcance import Contexto, Decision
from enlace.comun import telefonos as jid
from enlace.mensajes import estados as estados_mensaje
from enlace.motores.base import (
    EstadoEntrega,
    EventoEstado,
    EventoMapeoIdentificador,
    EventoMensaje,
    Medio,
    TipoContenido,
)
from enlace.settings import AlcanceCaptura

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
# ASCII digits only: WhatsApp ids are ASCII, and the gateway (JavaScript `\d`) reads them the same way.
nacionales = st.from_regex(r"[1-9][0-9]{9}", fullmatch=True)


# ---- JIDs -------------------------------------------------------------------------------------


@given(nacionales, st.integers(min_value=0, max_value=99))
def test_variantes_mexicanas_dan_el_mismo_telefono(n: str, dispositivo: int) -> None:
    esperado = "+52" + n
    for variante in (
        f"521{n}@s.whatsapp.net",
        f"52{n}@s.whatsapp.net",
        f"521{n}:{dispositivo}@s.whatsapp.net",
        f"52{n}.0:{dispositivo}@s.whatsapp.net",
        f"521{n}@c.us",
        f"521{n}",  # Cloud API `from`
        f"52{n}",
        f"+52{n}",
    ):
        assert jid.telefono_de_jid(variante) == esperado, variante
    for candidato in jid.jids_candidatos(esperado):
        assert jid.telefono_de_jid(candidato) == esperado


def test_jids_que_no_son_una_persona() -> None:
    assert jid.analizar_jid("120363025246125486@g.us").tipo == jid.TipoJid.grupo
    assert jid.analizar_jid("status@broadcast").tipo == jid.TipoJid.difusion
    assert jid.analizar_jid("123@newsletter").tipo == jid.TipoJid.difusion
    assert jid.analizar_jid(None).tipo == jid.TipoJid.invalido
    assert jid.analizar_jid("hola@s.whatsapp.net").tipo == jid.TipoJid.invalido
    # A Mexican prefix with a wrong length matches nobody instead of a wrong person.
    assert jid.telefono_de_jid("5255123@s.whatsapp.net") is None
    assert jid.telefono_de_jid("52155123456789@s.whatsapp.net") is None
    lid = jid.analizar_jid("214748364712345:3@lid")
    assert lid.tipo == jid.TipoJid.lid and lid.telefono is None
    assert jid.lid_normalizado("214748364712345:3@lid") == "214748364712345@lid"


def test_numeros_extranjeros_conservan_su_pais() -> None:
    assert jid.telefono_de_jid("14155550123@s.whatsapp.net") == "+14155550123"
    assert jid.telefono_de_jid("34612345678:2@s.whatsapp.net") == "+34612345678"


def test_resolver_telefono_por_lid() -> None:
    mapa = {"999@lid": "+525512345678"}
    assert jid.resolver_telefono("999@lid", None, mapa) == "+525512345678"
    assert jid.resolver_telefono("999:2@lid", None, mapa) == "+525512345678"
    assert jid.resolver_telefono("888@lid", "5215587654321@s.whatsapp.net", mapa) == "+525587654321"
    assert jid.resolver_telefono("888@lid", None, mapa) is None
    assert jid.jid_para_enviar("+525512345678") == "5215512345678@s.whatsapp.net"
    assert jid.jid_para_enviar("+525512345678", "525512345678@s.whatsapp.net") == "525512345678@s.whatsapp.net"


# ---- the receipt merge -----------------------------------------------------------------------

tipos_recibo = st.sampled_from([e.value for e in EstadoEntrega])
recibos_st = st.lists(
    st.tuples(tipos_recibo, st.integers(min_value=0, max_value=600), st.sampled_from([None, 463, 479])),
    min_size=1,
    max_size=12,
)


def _resumen(recibos: list[tuple[str, int, int | None]]) -> estados.Resumen:
    r = estados.Resumen()
    for tipo, seg, codigo in recibos:
        r.agregar(tipo, T0 + timedelta(seconds=seg), codigo if tipo == "fallido" else None)
    return r


@given(recibos_st, st.randoms(use_true_random=False))
def test_resumen_no_depende_del_orden_ni_de_duplicados(recibos: list, rnd: random.Random) -> None:
    # Same code per failure instant, as an engine repeating one failure would send.
    recibos = [(t, s, (463 if t == "fallido" else None)) for t, s, _ in recibos]
    base = _resumen(recibos)
    revuelto = recibos + [rnd.choice(recibos) for _ in range(rnd.randint(0, 5))]
    rnd.shuffle(revuelto)
    assert _resumen(revuelto) == base


@given(recibos_st, st.sampled_from(list(estados_mensaje.RANGO)))
def test_estado_nunca_retrocede(recibos: list, inicial: str) -> None:
    fila: dict[str, object] = {"estado": inicial}
    for tipo, seg, codigo in recibos:
        r = estados.Resumen()
        r.agregar(tipo, T0 + timedelta(seconds=seg), codigo)
        nueva = r.aplicar_a(fila)
        assert estados_mensaje.RANGO[str(nueva["estado"])] >= estados_mensaje.RANGO[str(fila["estado"])]
        fila = nueva
    # Applying them one by one equals applying their summary at once.
    assert fila["estado"] == _resumen(recibos).aplicar_a({"estado": inicial})["estado"]


def test_reglas_de_estado() -> None:
    assert estados.estado_de_recibo("reproducido") == "leido"
    assert estados_mensaje.fusionar("leido", "entregado") == "leido"
    assert estados_mensaje.fusionar("enviado", "fallido") == "fallido"
    assert estados_mensaje.fusionar("fallido", "enviado") == "fallido"  # a late server ack does not undo a failure
    assert estados_mensaje.fusionar("fallido", "entregado") == "entregado"  # delivery is proof it arrived
    assert estados_mensaje.fusionar("incierto", "enviado") == "enviado"  # an echo/receipt proves the send
    r = estados.Resumen()
    r.agregar("leido", T0 + timedelta(seconds=30))
    r.agregar("entregado", T0 + timedelta(seconds=10))  # read arrived before delivered
    assert r.estado == "leido"
    assert r.entregado_at == T0 + timedelta(seconds=10)
    assert r.leido_at == T0 + timedelta(seconds=30)
    solo_leido = estados.Resumen()
    solo_leido.agregar("leido", T0)
    assert solo_leido.entregado_at == T0  # Cloud API may skip `delivered`
    assert "CASE estado WHEN 'pendiente' THEN 0" in estados_mensaje.sql_rango("estado")


# ---- batch planning --------------------------------------------------------------------------


def _msg(
    wa: str,
    *,
    de_mi: bool = False,
    chat: str = "5215512345678@s.whatsapp.net",
    tel: str | None = None,
    tipo: TipoContenido = TipoContenido.texto,
    ref: str | None = None,
    agente: int = 1,
) -> EventoMensaje:
    return EventoMensaje(
        agente_id=agente,
        wa_message_id=wa,
        de_mi=de_mi,
        chat_jid=chat,
        telefono_jid=tel,
        momento=T0,
        tipo=tipo,
        texto="hola",
        referencia_id=ref,
    )


def test_plan_deduplica_y_agrupa() -> None:
    eventos: list[object] = [
        _msg("A", de_mi=True),
        _msg("A", de_mi=True),
        _msg("B"),
        _msg("B"),
        _msg("B", agente=2),  # another agent's session: another message
        EventoEstado(1, "A", EstadoEntrega.leido, T0 + timedelta(seconds=5)),
        EventoEstado(1, "A", EstadoEntrega.entregado, T0 + timedelta(seconds=2)),
        _msg("C", tipo=TipoContenido.edicion, ref="B"),
    ]
    p = plan.planificar(eventos)
    assert list(p.salientes) == [(1, "A")]
    assert list(p.entrantes) == [(1, "B"), (2, "B")]
    assert p.duplicados == 2
    assert len(p.recibos) == 2
    assert p.resumenes[(1, "A")].estado == "leido"
    assert [m.evento.wa_message_id for m in p.modificaciones] == ["C"]
    assert p.entrantes[(1, "B")].telefono == "+525512345678"


def test_plan_mapea_lids_del_mismo_lote_y_de_fuera() -> None:
    eventos: list[object] = [
        _msg("X", chat="111@lid"),  # before its map in the same batch: still resolved
        EventoMapeoIdentificador(1, "111@lid", "5215511111111@s.whatsapp.net"),
        _msg("Y", chat="222@lid", tel="525522222222@s.whatsapp.net"),  # remoteJidAlt
        _msg("Z", chat="333@lid"),
    ]
    p = plan.planificar(eventos)
    assert p.entrantes[(1, "X")].telefono == "+525511111111"
    assert p.entrantes[(1, "Y")].telefono == "+525522222222"
    assert p.mapeos == {"111@lid": "+525511111111", "222@lid": "+525522222222"}
    assert p.lids_sin_resolver() == {"333@lid"}
    p.resolver_lids({"333@lid": "+525533333333"})
    assert p.entrantes[(1, "Z")].telefono == "+525533333333"
    assert p.lids_sin_resolver() == set()


# ---- scope -----------------------------------------------------------------------------------


@given(
    st.sampled_from(list(AlcanceCaptura)),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_alcance(
    al: AlcanceCaptura, tel: bool, grupo: bool, difusion: bool, contacto: bool, escribio: bool, conocido: bool
) -> None:
    ctx = Contexto(
        telefono="+525512345678" if tel else None,
        es_grupo=grupo,
        es_difusion=difusion,
        es_contacto=contacto,
        sistema_escribio=escribio,
        mensaje_conocido=conocido,
    )
    d = alcance.decidir(al, ctx)
    if difusion:
        assert d == Decision.ignorar
    elif conocido:
        assert d == Decision.guardar
    elif grupo:
        assert d == Decision.contar
    elif al == AlcanceCaptura.todo:
        assert d == Decision.guardar
    else:
        assert (d == Decision.guardar) == (tel and (contacto or escribio))


# ---- media -----------------------------------------------------------------------------------


def test_metadatos_y_ruta_de_medio(tmp_path: Path) -> None:
    m = Medio(mime="image/jpeg", tamano=2048, nombre_archivo=None, referencia="ref-1")
    assert medios.metadatos(m, "imagen") == {
        "tipo": "imagen",
        "mime": "image/jpeg",
        "tamano": 2048,
        "referencia": "ref-1",
    }
    assert medios.metadatos(None, "texto") is None
    ruta = medios.ruta_medio(tmp_path, 7, "../../etc/passwd", T0, m)
    assert ruta.is_relative_to(tmp_path)
    assert ruta.parent == tmp_path / "7" / "2026-11-23"
    assert ruta.suffix == ".jpg"
    assert medios.extension("audio/ogg; codecs=opus", None) == ".ogg"
    assert medios.extension("application/pdf", "contrato.PDF") == ".pdf"
    assert medios.extension(None, "raro.$$$") == ".bin"


def test_plan_usa_el_id_de_usuario_de_cloud_api() -> None:
    con_telefono = EventoMensaje(
        1, "wamid.1", False, "5215512345678", None, T0, TipoContenido.texto, "hola", bsuid="MX.abc"
    )
    sin_telefono = EventoMensaje(1, "wamid.2", False, "", None, T0, TipoContenido.texto, "otra", bsuid="MX.abc")
    solo_id = EventoMensaje(1, "wamid.3", False, "", None, T0, TipoContenido.texto, "?", bsuid="MX.zzz")
    p = plan.planificar([sin_telefono, con_telefono, solo_id])
    assert p.mapeos == {"MX.abc": "+525512345678"}
    assert p.entrantes[(1, "wamid.2")].telefono == "+525512345678"
    assert p.lids_sin_resolver() == {"MX.zzz"}


@given(st.sampled_from(["55", "33", "81", "222", "442", "998", "664"]), st.integers(min_value=0, max_value=10**8 - 1))
def test_coincide_con_la_normalizacion_de_carteras(lada: str, resto: int) -> None:
    from enlace.comun.telefonos import Telefono, normalizar, telefono_de_wa

    nacional = (lada + f"{resto:08d}")[:10]
    aceptado = normalizar(nacional)
    if not isinstance(aceptado, Telefono):
        return
    for variante in jid.jids_candidatos(aceptado.canonico):
        assert jid.telefono_de_jid(variante) == telefono_de_wa(variante) == aceptado.canonico
