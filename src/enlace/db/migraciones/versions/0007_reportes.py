"""reportes: resumen diario (rollup mantenido por triggers), índices de reportes y webhooks del CRM.

Revision ID: 0007_reportes
Revises: 0006_cumplimiento
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_reportes"
down_revision = "0006_cumplimiento"
branch_labels = None
depends_on = None

# A "day" in reports is the contact center's local day (Mexico City, no DST since 2022).
ZONA_REPORTES = "America/Mexico_City"

# Flags a message counts for in each state; the triggers add new-state flags and subtract old ones.
SQL_FUNCIONES = f"""
CREATE FUNCTION reportes_dia(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (t AT TIME ZONE '{ZONA_REPORTES}')::date $$;

CREATE FUNCTION reportes_resumen_enviados() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO resumen_diario AS r (agente_id, dia, campana_id, enviados, entregados, leidos, fallidos)
    SELECT agente_id, dia, campana_id, sum(env), sum(ent), sum(lei), sum(fal)
    FROM (
      SELECT n.agente_id, reportes_dia(coalesce(n.enviado_at, n.fallido_at, n.created_at)) AS dia,
             coalesce(n.campana_id, 0) AS campana_id,
             (n.estado IN ('enviado', 'entregado', 'leido'))::int AS env,
             (n.estado IN ('entregado', 'leido'))::int AS ent,
             (n.estado = 'leido')::int AS lei,
             (n.estado = 'fallido')::int AS fal
      FROM nuevas n
      WHERE n.estado IN ('enviado', 'entregado', 'leido', 'fallido')
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
             x.signo * (x.estado IN ('enviado', 'entregado', 'leido'))::int AS env,
             x.signo * (x.estado IN ('entregado', 'leido'))::int AS ent,
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
      WHERE x.estado IN ('enviado', 'entregado', 'leido', 'fallido')
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

CREATE FUNCTION reportes_resumen_recibidos() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH contadas AS (
    INSERT INTO respuestas_contadas AS rc (mensaje_enviado_id, agente_id, dia, campana_id, segundos, respondido_at)
    SELECT DISTINCT ON (n.mensaje_origen_id) n.mensaje_origen_id, m.agente_id,
           reportes_dia(coalesce(m.enviado_at, m.fallido_at, m.created_at)), coalesce(m.campana_id, 0),
           CASE WHEN m.enviado_at IS NOT NULL
                THEN greatest(0, extract(epoch FROM n.recibido_at - m.enviado_at))::int END,
           n.recibido_at
    FROM nuevas n JOIN mensajes_enviados m ON m.id = n.mensaje_origen_id
    WHERE n.mensaje_origen_id IS NOT NULL
    ORDER BY n.mensaje_origen_id, n.recibido_at
    ON CONFLICT (mensaje_enviado_id) DO NOTHING
    RETURNING rc.agente_id, rc.dia, rc.campana_id
  )
  INSERT INTO resumen_diario AS r (agente_id, dia, campana_id, respondidos)
  SELECT agente_id, dia, campana_id, count(*) FROM contadas
  GROUP BY agente_id, dia, campana_id ORDER BY agente_id, dia, campana_id
  ON CONFLICT (agente_id, dia, campana_id) DO UPDATE SET respondidos = r.respondidos + excluded.respondidos;

  WITH contadas AS (
    INSERT INTO bajas_contadas AS bc (mensaje_recibido_id, agente_id, dia, campana_id)
    SELECT n.id, n.agente_id, reportes_dia(n.recibido_at), coalesce(n.campana_id, 0)
    FROM nuevas n WHERE n.clasificacion = 'baja'
    ORDER BY n.id
    ON CONFLICT (mensaje_recibido_id) DO NOTHING
    RETURNING bc.agente_id, bc.dia, bc.campana_id
  )
  INSERT INTO resumen_diario AS r (agente_id, dia, campana_id, bajas)
  SELECT agente_id, dia, campana_id, count(*) FROM contadas
  GROUP BY agente_id, dia, campana_id ORDER BY agente_id, dia, campana_id
  ON CONFLICT (agente_id, dia, campana_id) DO UPDATE SET bajas = r.bajas + excluded.bajas;
  RETURN NULL;
END $$;

CREATE TRIGGER reportes_enviados_insert AFTER INSERT ON mensajes_enviados
  REFERENCING NEW TABLE AS nuevas FOR EACH STATEMENT EXECUTE FUNCTION reportes_resumen_enviados();
CREATE TRIGGER reportes_enviados_update AFTER UPDATE ON mensajes_enviados
  REFERENCING OLD TABLE AS viejas NEW TABLE AS nuevas FOR EACH STATEMENT EXECUTE FUNCTION reportes_resumen_enviados();
CREATE TRIGGER reportes_recibidos_insert AFTER INSERT ON mensajes_recibidos
  REFERENCING NEW TABLE AS nuevas FOR EACH STATEMENT EXECUTE FUNCTION reportes_resumen_recibidos();
CREATE TRIGGER reportes_recibidos_update AFTER UPDATE ON mensajes_recibidos
  REFERENCING NEW TABLE AS nuevas FOR EACH STATEMENT EXECUTE FUNCTION reportes_resumen_recibidos();
"""

SQL_BORRAR_FUNCIONES = """
DROP TRIGGER IF EXISTS reportes_recibidos_update ON mensajes_recibidos;
DROP TRIGGER IF EXISTS reportes_recibidos_insert ON mensajes_recibidos;
DROP TRIGGER IF EXISTS reportes_enviados_update ON mensajes_enviados;
DROP TRIGGER IF EXISTS reportes_enviados_insert ON mensajes_enviados;
DROP FUNCTION IF EXISTS reportes_resumen_recibidos();
DROP FUNCTION IF EXISTS reportes_resumen_enviados();
DROP FUNCTION IF EXISTS reportes_dia(timestamptz);
"""


def upgrade() -> None:
    op.create_table(
        "bajas_contadas",
        sa.Column("mensaje_recibido_id", sa.BigInteger(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("dia", sa.Date(), nullable=False),
        sa.Column("campana_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("mensaje_recibido_id", name=op.f("pk_bajas_contadas")),
    )
    op.create_table(
        "respuestas_contadas",
        sa.Column("mensaje_enviado_id", sa.BigInteger(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("dia", sa.Date(), nullable=False),
        sa.Column("campana_id", sa.Integer(), nullable=False),
        sa.Column("segundos", sa.Integer(), nullable=True),
        sa.Column("respondido_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mensaje_enviado_id", name=op.f("pk_respuestas_contadas")),
    )
    op.create_index(
        "ix_respuestas_contadas_agente_dia", "respuestas_contadas", ["agente_id", "dia", "segundos"], unique=False
    )
    op.create_table(
        "resumen_diario",
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("dia", sa.Date(), nullable=False),
        sa.Column("campana_id", sa.Integer(), nullable=False),
        sa.Column("enviados", sa.Integer(), server_default="0", nullable=False),
        sa.Column("entregados", sa.Integer(), server_default="0", nullable=False),
        sa.Column("leidos", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fallidos", sa.Integer(), server_default="0", nullable=False),
        sa.Column("respondidos", sa.Integer(), server_default="0", nullable=False),
        sa.Column("bajas", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("agente_id", "dia", "campana_id", name=op.f("pk_resumen_diario")),
    )
    op.create_index("ix_resumen_diario_campana", "resumen_diario", ["campana_id"], unique=False)
    op.create_index("ix_resumen_diario_dia", "resumen_diario", ["dia"], unique=False)
    op.create_table(
        "webhook_suscripciones",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("eventos", postgresql.ARRAY(sa.String(length=60)), nullable=False),
        sa.Column("secreto", sa.String(length=200), nullable=False),
        sa.Column("descripcion", sa.String(length=200), nullable=True),
        sa.Column("activa", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_suscripciones")),
    )
    op.create_table(
        "webhook_entregas",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("suscripcion_id", sa.Integer(), nullable=False),
        sa.Column("evento", sa.String(length=60), nullable=False),
        sa.Column("evento_id", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("cuerpo", sa.Text(), nullable=False),
        sa.Column("estado", sa.String(length=20), server_default=sa.text("'pendiente'"), nullable=False),
        sa.Column("intentos", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("proximo_intento_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entregada_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ultimo_status", sa.Integer(), nullable=True),
        sa.Column("ultimo_error", sa.String(length=500), nullable=True),
        sa.Column("reenvio_de_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("estado IN ('pendiente', 'entregada', 'agotada')", name=op.f("ck_webhook_entregas_estado")),
        sa.ForeignKeyConstraint(
            ["reenvio_de_id"], ["webhook_entregas.id"], name=op.f("fk_webhook_entregas_reenvio_de_id_webhook_entregas")
        ),
        sa.ForeignKeyConstraint(
            ["suscripcion_id"],
            ["webhook_suscripciones.id"],
            name=op.f("fk_webhook_entregas_suscripcion_id_webhook_suscripciones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_entregas")),
    )
    op.create_index(
        "ix_webhook_entregas_pendientes",
        "webhook_entregas",
        ["proximo_intento_at"],
        unique=False,
        postgresql_where=sa.text("estado = 'pendiente'"),
    )
    op.create_index(op.f("ix_webhook_entregas_suscripcion_id"), "webhook_entregas", ["suscripcion_id"], unique=False)
    op.create_index(
        "uq_webhook_entregas_evento",
        "webhook_entregas",
        ["suscripcion_id", "evento_id"],
        unique=True,
        postgresql_where=sa.text("reenvio_de_id IS NULL"),
    )
    op.create_table(
        "webhook_intentos",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("entrega_id", sa.BigInteger(), nullable=False),
        sa.Column("numero", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_http", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duracion_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entrega_id"],
            ["webhook_entregas.id"],
            name=op.f("fk_webhook_intentos_entrega_id_webhook_entregas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_intentos")),
    )
    op.create_index(op.f("ix_webhook_intentos_entrega_id"), "webhook_intentos", ["entrega_id"], unique=False)
    op.create_index(
        "ix_mensajes_enviados_campana_creado", "mensajes_enviados", ["campana_id", "created_at", "id"], unique=False
    )
    op.create_index("ix_mensajes_enviados_creado_id", "mensajes_enviados", ["created_at", "id"], unique=False)
    op.execute(SQL_FUNCIONES)


def downgrade() -> None:
    op.execute(SQL_BORRAR_FUNCIONES)
    op.drop_index("ix_mensajes_enviados_creado_id", table_name="mensajes_enviados")
    op.drop_index("ix_mensajes_enviados_campana_creado", table_name="mensajes_enviados")
    op.drop_table("webhook_intentos")
    op.drop_table("webhook_entregas")
    op.drop_table("webhook_suscripciones")
    op.drop_table("resumen_diario")
    op.drop_table("respuestas_contadas")
    op.drop_table("bajas_contadas")
