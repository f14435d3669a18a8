"""mensajes: la tabla de transiciones de estado de mensajes_enviados, aplicada por un trigger.

Revision ID: 0009_mensajes
Revises: 0008_cloud_api

The table below is a frozen copy of `enlace.mensajes.estados.TRANSICIONES` at this revision; a later
migration that adds a status calls `sql_funcion_transiciones` with its own frozen table.
`tests/integration/test_mensajes.py` fails when the database and the Python table differ.
"""

from __future__ import annotations

from alembic import op

from enlace.mensajes.estados import sql_funcion_conjunto, sql_funcion_transiciones

revision = "0009_mensajes"
down_revision = "0008_cloud_api"
branch_labels = None
depends_on = None

_PRUEBAS = ("enviado", "fallido", "entregado", "leido")
TRANSICIONES = {
    "pendiente": ("enviando", "cancelado", "suprimido", *_PRUEBAS),
    "enviando": ("pendiente", "suprimido", "incierto", *_PRUEBAS),
    "cancelado": _PRUEBAS,
    "suprimido": _PRUEBAS,
    "incierto": _PRUEBAS,
    "enviado": ("fallido", "entregado", "leido"),
    "fallido": ("entregado", "leido"),
    "entregado": ("leido",),
    "leido": (),
}
ENVIADOS = ("enviado", "entregado", "leido")
ENTREGADOS = ("entregado", "leido")

SQL_TRIGGER = """
CREATE FUNCTION mensajes_validar_transicion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT mensajes_transicion_permitida(OLD.estado, NEW.estado) THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'mensajes_transicion',
      MESSAGE = 'transición de estado no permitida en mensajes_enviados ' || OLD.id || ': '
                || OLD.estado || ' → ' || NEW.estado;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER mensajes_transicion BEFORE UPDATE OF estado ON mensajes_enviados
  FOR EACH ROW WHEN (OLD.estado IS DISTINCT FROM NEW.estado) EXECUTE FUNCTION mensajes_validar_transicion();
"""

# The reports rollup reads the named sets instead of restating them (was 0007's IN lists).
SQL_REPORTES = """
CREATE OR REPLACE FUNCTION reportes_resumen_enviados() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO resumen_diario AS r (agente_id, dia, campana_id, enviados, entregados, leidos, fallidos)
    SELECT agente_id, dia, campana_id, sum(env), sum(ent), sum(lei), sum(fal)
    FROM (
      SELECT n.agente_id, reportes_dia(coalesce(n.enviado_at, n.fallido_at, n.created_at)) AS dia,
             coalesce(n.campana_id, 0) AS campana_id,
             mensajes_enviado(n.estado)::int AS env,
             mensajes_entregado(n.estado)::int AS ent,
             (n.estado = 'leido')::int AS lei,
             (n.estado = 'fallido')::int AS fal
      FROM nuevas n
      WHERE mensajes_enviado(n.estado) OR n.estado = 'fallido'
    ) d
    GROUP BY agente_id, dia, campana_id
    ORDER BY agente_id, dia, campana_id
    ON CONFLICT (agente_id, dia, campana_id) DO UPDATE SET
      enviados = r.enviados + excluded.enviados, entregados = r.entregados + excluded.entregados,
      leidos = r.leidos + excluded.leidos, fallidos = r.fallidos + excluded.fallidos;
  ELSE
    INSERT INTO resumen_diario AS r (agente_id, dia, campana_id, enviados, entregados, leidos, fallidos)
    SELECT agente_id, dia, campana_id, sum(env), sum(ent), sum(lei), sum(fal)
    FROM (
      SELECT x.agente_id, reportes_dia(coalesce(x.enviado_at, x.fallido_at, x.created_at)) AS dia,
             coalesce(x.campana_id, 0) AS campana_id,
             x.signo * mensajes_enviado(x.estado)::int AS env,
             x.signo * mensajes_entregado(x.estado)::int AS ent,
             x.signo * (x.estado = 'leido')::int AS lei,
             x.signo * (x.estado = 'fallido')::int AS fal
      FROM (
        SELECT n.agente_id, n.enviado_at, n.fallido_at, n.created_at, n.campana_id, n.estado, 1 AS signo
        FROM nuevas n JOIN viejas v ON v.id = n.id
        WHERE (n.estado, n.enviado_at, n.fallido_at, n.campana_id, n.agente_id)
              IS DISTINCT FROM (v.estado, v.enviado_at, v.fallido_at, v.campana_id, v.agente_id)
        UNION ALL
        SELECT v.agente_id, v.enviado_at, v.fallido_at, v.created_at, v.campana_id, v.estado, -1 AS signo
        FROM nuevas n JOIN viejas v ON v.id = n.id
        WHERE (n.estado, n.enviado_at, n.fallido_at, n.campana_id, n.agente_id)
              IS DISTINCT FROM (v.estado, v.enviado_at, v.fallido_at, v.campana_id, v.agente_id)
      ) x
      WHERE mensajes_enviado(x.estado) OR x.estado = 'fallido'
    ) d
    GROUP BY agente_id, dia, campana_id
    HAVING sum(env) <> 0 OR sum(ent) <> 0 OR sum(lei) <> 0 OR sum(fal) <> 0
    ORDER BY agente_id, dia, campana_id
    ON CONFLICT (agente_id, dia, campana_id) DO UPDATE SET
      enviados = r.enviados + excluded.enviados, entregados = r.entregados + excluded.entregados,
      leidos = r.leidos + excluded.leidos, fallidos = r.fallidos + excluded.fallidos;
  END IF;
  RETURN NULL;
END $$;
"""


def _reportes_0007() -> str:
    """0007's function back (downgrade): the named sets written out again."""
    sql = SQL_REPORTES
    for columna in ("n", "x"):
        sql = sql.replace(
            f"mensajes_enviado({columna}.estado)::int", f"({columna}.estado IN ('enviado', 'entregado', 'leido'))::int"
        )
        sql = sql.replace(
            f"mensajes_entregado({columna}.estado)::int", f"({columna}.estado IN ('entregado', 'leido'))::int"
        )
        sql = sql.replace(
            f"WHERE mensajes_enviado({columna}.estado) OR {columna}.estado = 'fallido'",
            f"WHERE {columna}.estado IN ('enviado', 'entregado', 'leido', 'fallido')",
        )
    return sql


def upgrade() -> None:
    op.execute(sql_funcion_transiciones(TRANSICIONES))
    op.execute(sql_funcion_conjunto("enviado", ENVIADOS))
    op.execute(sql_funcion_conjunto("entregado", ENTREGADOS))
    op.execute(SQL_TRIGGER)
    op.execute(SQL_REPORTES)


def downgrade() -> None:
    op.execute("DROP TRIGGER mensajes_transicion ON mensajes_enviados")
    op.execute("DROP FUNCTION mensajes_validar_transicion()")
    op.execute(_reportes_0007())
    op.execute("DROP FUNCTION mensajes_transicion_permitida(text, text)")
    op.execute("DROP FUNCTION mensajes_enviado(text)")
    op.execute("DROP FUNCTION mensajes_entregado(text)")
