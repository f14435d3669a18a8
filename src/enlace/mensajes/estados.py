"""The outgoing message's statuses: their rank, the named sets everyone uses, and the transition table.

This module is the one place that says which statuses exist, which moves between them are legal and
what "sent", "final" or "counts toward the frequency cap" mean. The database enforces the same
table with a trigger (migration `0009_mensajes`); `tests/integration/test_mensajes.py` fails when the
trigger's table and `TRANSICIONES` differ, so a new status is added here AND in a new migration that
calls `sql_funcion_transiciones` with the new table.

Rank is how much we know about the message reaching the person, so merging receipts is a max (a
semilattice): duplicated, shuffled or late receipts all end in the same row.

    pendiente = enviando = cancelado = suprimido = sin_whatsapp  <  incierto  <  enviado  <  fallido
        <  entregado  <  leido

- `enviando` is a claim, not a fact: it ranks with `pendiente`, so a claim that provably sent nothing
  (session gone, opt-out seen under the phone lock) may go back to `pendiente` or to `suprimido`.
- `fallido` sits above `enviado`: a server ack arriving after the failure does not undo it.
- `entregado`/`leido` sit above `fallido`: a delivery or read receipt is proof the message reached the
  phone, so it wins over an error report (the error code is kept on the row).
- `cancelado`/`suprimido`/`sin_whatsapp`/`incierto` are decisions made without proof; an echo or a receipt is proof
  the message went out, so it moves them forward like any other row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ESTADOS: tuple[str, ...] = (
    "pendiente",
    "enviando",
    "enviado",
    "entregado",
    "leido",
    "fallido",
    "cancelado",
    "suprimido",
    "incierto",
    # onWhatsApp said the number is not on WhatsApp: never sent, terminal (docs/envios.md, resolution).
    "sin_whatsapp",
)

RANGO: dict[str, int] = {
    "pendiente": 0,
    "enviando": 0,
    "cancelado": 0,
    "suprimido": 0,
    "sin_whatsapp": 0,
    "incierto": 1,
    "enviado": 2,
    "fallido": 3,
    "entregado": 4,
    "leido": 5,
}

# Statuses an echo or a receipt from WhatsApp can prove. Capture moves a row to one of them whenever
# it outranks the row's current status (a max), so every such move must be in the table below.
PRUEBAS: frozenset[str] = frozenset({"enviado", "fallido", "entregado", "leido"})

# THE table: every legal move of `mensajes_enviados.estado` (the same status is not a move).
# Who makes each move is documented in docs/mensajes.md.
TRANSICIONES: dict[str, frozenset[str]] = {
    # claim; campaign cancel / opt-out cancels pending rows; gate finds the number suppressed;
    # an echo or receipt of a row still pending (a previous claim's send that did go out).
    # The number lookup found it not on WhatsApp (the resolver closes the row before any claim).
    "pendiente": frozenset(
        {"enviando", "cancelado", "suprimido", "sin_whatsapp", "enviado", "fallido", "entregado", "leido"}
    ),
    # back to the queue when provably nothing left (session gone, engine "not now", engine ledger says
    # unsent); suppressed by the check under the phone lock; engine ack / error; unproven after a crash.
    "enviando": frozenset({"pendiente", "suprimido", "incierto", "enviado", "fallido", "entregado", "leido"}),
    # decisions made without proof: an echo or a receipt proves the message went out after all.
    "cancelado": frozenset({"enviado", "fallido", "entregado", "leido"}),
    "suprimido": frozenset({"enviado", "fallido", "entregado", "leido"}),
    "sin_whatsapp": frozenset({"enviado", "fallido", "entregado", "leido"}),
    "incierto": frozenset({"enviado", "fallido", "entregado", "leido"}),
    # receipts, by rank.
    "enviado": frozenset({"fallido", "entregado", "leido"}),
    "fallido": frozenset({"entregado", "leido"}),
    "entregado": frozenset({"leido"}),
    "leido": frozenset(),
}

# ---- named sets (one definition each; SQL gets them through `sql_en`) -------------------------------

# The message left the phone and nothing says it failed: what campaign counters call "enviados".
ENVIADOS: frozenset[str] = frozenset({"enviado", "entregado", "leido"})
# It reached the person's phone.
ENTREGADOS: frozenset[str] = frozenset({"entregado", "leido"})
# The dispatcher still owes a decision; a campaign with none of these left is complete.
ABIERTOS: frozenset[str] = frozenset({"pendiente", "enviando"})
# No decision is pending (receipts may still move a row between final statuses).
FINALES: frozenset[str] = frozenset(ESTADOS) - ABIERTOS
# "This person was messaged" for the frequency cap: in flight, sent, or not provably unsent.
CUENTAN_PARA_TOPE: frozenset[str] = frozenset({"enviando", "enviado", "entregado", "leido", "incierto"})
# It may have left the phone (attempted): pacing history, the conversation view, tying a reply to it.
SALIDOS: frozenset[str] = CUENTAN_PARA_TOPE | {"fallido"}
# Cleared by the system before any attempt: the person never saw them.
NO_SALIDOS: frozenset[str] = frozenset(ESTADOS) - SALIDOS
# Statuses a pending row may be cancelled from (campaign cancelled, opt-out).
CANCELABLES: frozenset[str] = frozenset({"pendiente"})


def permitida(desde: str, hacia: str) -> bool:
    return desde == hacia or hacia in TRANSICIONES.get(desde, frozenset())


def origenes(hacia: str) -> frozenset[str]:
    """Statuses from which a row may move to `hacia`."""
    return frozenset(e for e, siguientes in TRANSICIONES.items() if hacia in siguientes)


def fusionar(actual: str, nuevo: str) -> str:
    """The status after seeing proof `nuevo` on a row that is `actual`: never backwards."""
    return nuevo if RANGO[nuevo] > RANGO[actual] and permitida(actual, nuevo) else actual


# ---- SQL ----------------------------------------------------------------------------------------------


def sql_en(columna: str, conjunto: Iterable[str]) -> str:
    """`columna IN ('a', 'b')` for a named set (sorted, so the text is stable)."""
    return f"{columna} IN ({', '.join(repr(e) for e in sorted(conjunto))})"


def sql_rango(columna: str) -> str:
    """SQL expression with the rank of an estado column, the same order as `RANGO`."""
    ramas = " ".join(f"WHEN '{estado}' THEN {rango}" for estado, rango in RANGO.items())
    return f"(CASE {columna} {ramas} ELSE 0 END)"


def pares(transiciones: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    return sorted((desde, hacia) for desde, siguientes in transiciones.items() for hacia in siguientes)


def sql_funcion_transiciones(transiciones: Mapping[str, Iterable[str]]) -> str:
    """CREATE OR REPLACE the table function the trigger checks (migrations call it with a frozen table)."""
    valores = ", ".join(f"('{d}', '{h}')" for d, h in pares(transiciones))
    return f"""
CREATE OR REPLACE FUNCTION mensajes_transicion_permitida(desde text, hacia text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT desde = hacia OR (desde, hacia) IN (VALUES {valores})
$$;
"""


def sql_funcion_conjunto(nombre: str, conjunto: Iterable[str]) -> str:
    """CREATE OR REPLACE `mensajes_<nombre>(estado) boolean`, a named set usable from triggers."""
    return f"""
CREATE OR REPLACE FUNCTION mensajes_{nombre}(estado text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {sql_en("estado", conjunto)} $$;
"""
