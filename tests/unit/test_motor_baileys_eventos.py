"""Gateway event lines → engine events, credential deltas and the own-number format (no Node needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from enlace.comun.telefonos import telefono_de_jid
from enlace.motores.baileys.motor import convertir_evento, fusionar_credenciales
from enlace.motores.base import (
    ClaseDesconexion,
    EstadoEntrega,
    EventoCapping,
    EventoConectado,
    EventoDesconectado,
    EventoEstado,
    EventoMensaje,
    EventoRestriccion,
    NivelCapping,
    TipoContenido,
)


def test_conectado_con_numero_canonico() -> None:
    [e] = convertir_evento(
        {
            "evento": "conectado",
            "agente_id": 3,
            "wa_id": "5215512345678@s.whatsapp.net",
            "numero": "5215512345678",
            "lid": "99@lid",
        }
    )
    assert e == EventoConectado(3, "+525512345678", "5215512345678@s.whatsapp.net", "99@lid")


def test_mensaje_con_medio_e_historial_en_lote() -> None:
    base = {
        "wa_message_id": "A",
        "de_mi": False,
        "chat_jid": "1@lid",
        "telefono_jid": "521@s.whatsapp.net",
        "momento": 1_764_000_000,
        "tipo": "imagen",
        "texto": "pie",
        "medio": {"mime": "image/jpeg", "tamano": 10, "nombre_archivo": None, "referencia": "1@lid/A"},
    }
    [m] = convertir_evento({"evento": "mensaje", "agente_id": 1, **base})
    assert isinstance(m, EventoMensaje)
    assert m.tipo == TipoContenido.imagen and m.medio is not None and m.medio.mime == "image/jpeg"
    assert m.momento == datetime.fromtimestamp(1_764_000_000, UTC) and not m.historial
    lote = convertir_evento({"evento": "historial", "agente_id": 1, "mensajes": [base, {**base, "wa_message_id": "B"}]})
    assert [x.wa_message_id for x in lote] == ["A", "B"] and all(x.historial for x in lote)


def test_estado_desconexion_capping() -> None:
    [e] = convertir_evento(
        {
            "evento": "estado",
            "agente_id": 1,
            "wa_message_id": "X",
            "estado": "fallido",
            "momento": 1,
            "codigo_error": 463,
            "detalle_error": "463",
        }
    )
    assert isinstance(e, EventoEstado) and e.estado == EstadoEntrega.fallido and e.codigo_error == 463
    [d] = convertir_evento({"evento": "desconectado", "agente_id": 1, "clase": "reemplazada", "codigo": 440})
    assert d == EventoDesconectado(1, ClaseDesconexion.reemplazada, 440, "")
    [c] = convertir_evento({"evento": "capping", "agente_id": 1, "nivel": "limitado", "detalle": "CAPPED"})
    assert c == EventoCapping(1, NivelCapping.limitado, "CAPPED")
    assert convertir_evento({"evento": "desconocido", "agente_id": 1}) == []


def test_numero_propio_canonico() -> None:
    """The gateway reports the own number as digits; the engine stores it as comun.telefonos does."""
    [c] = convertir_evento({"evento": "conectado", "agente_id": 1, "numero": "5215512345678", "wa_id": "x"})
    assert c.numero == "+525512345678"
    assert telefono_de_jid("14155550100") == "+14155550100"
    assert telefono_de_jid(None) is None


claves = st.text(alphabet="abc123", min_size=1, max_size=3)
deltas = st.lists(
    st.dictionaries(
        st.sampled_from(["pre-key", "session"]), st.dictionaries(claves, st.none() | st.integers()), max_size=2
    ),
    max_size=8,
)


@given(deltas)
def test_fusionar_equivale_a_aplicar_en_orden(lista: list[dict[str, dict[str, int | None]]]) -> None:
    estado: dict = {}
    esperado: dict[tuple[str, str], int] = {}
    for keys in lista:
        fusionar_credenciales(estado, {"keys": keys})
        for tipo, por_id in keys.items():
            for clave, valor in por_id.items():
                if valor is None:
                    esperado.pop((tipo, clave), None)
                else:
                    esperado[(tipo, clave)] = valor
    obtenido = {(t, c): v for t, por_id in estado.get("keys", {}).items() for c, v in por_id.items()}
    assert obtenido == esperado
    fusionar_credenciales(estado, {"creds": {"registered": True}})
    assert estado["creds"] == {"registered": True}


def test_restriccion_al_abrir() -> None:
    """The gateway's reading of fetchAccountReachoutTimelock / fetchNewChatMessageCap on open."""
    [e] = convertir_evento(
        {
            "evento": "restriccion",
            "agente_id": 4,
            "timelock_activo": True,
            "timelock_hasta": 1_800_000_000,
            "cupo_chats_nuevos": 3,
            "detalle": "reachout timelock",
        }
    )
    assert e == EventoRestriccion(4, True, datetime.fromtimestamp(1_800_000_000, UTC), 3, "reachout timelock")
    # As the gateway sends it: Date.toISOString(), plus fields the core does not need.
    [iso] = convertir_evento(
        {
            "evento": "restriccion",
            "agente_id": 4,
            "timelock_activo": True,
            "timelock_hasta": "2027-01-15T08:00:00.000Z",
            "timelock_tipo": "DEFAULT",
            "cupo_chats_nuevos": None,
            "cuota_total": None,
        }
    )
    assert iso.timelock_hasta == datetime(2027, 1, 15, 8, 0, tzinfo=UTC) and iso.cupo_chats_nuevos is None
    [libre] = convertir_evento({"evento": "restriccion", "agente_id": 4, "timelock_activo": False})
    assert libre == EventoRestriccion(4, False, None, None, "")
