"""cumplimiento: supresiones, auditoría append-only.

Revision ID: 0006_cumplimiento
Revises: 0005_captura
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_cumplimiento"
down_revision = "0005_captura"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supresiones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telefono", sa.String(length=20), nullable=False),
        sa.Column("motivo", sa.Text(), nullable=False),
        sa.Column("fuente", sa.String(length=20), nullable=False),
        sa.Column("regla", sa.String(length=80), nullable=True),
        sa.Column("mensaje_recibido_id", sa.BigInteger(), nullable=True),
        sa.Column("creada_por", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["creada_por"], ["usuarios.id"], name=op.f("fk_supresiones_creada_por_usuarios"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["mensaje_recibido_id"],
            ["mensajes_recibidos.id"],
            name=op.f("fk_supresiones_mensaje_recibido_id_mensajes_recibidos"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supresiones")),
        sa.UniqueConstraint("telefono", name=op.f("uq_supresiones_telefono")),
        sa.CheckConstraint(
            "fuente IN ('baja', 'manual', 'repep', 'reus', 'arco', 'marketing')", name=op.f("ck_supresiones_fuente")
        ),
    )
    op.add_column("supresiones", sa.Column("confirmacion_mensaje_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_supresiones_confirmacion_mensaje_id_mensajes_enviados"),
        "supresiones",
        "mensajes_enviados",
        ["confirmacion_mensaje_id"],
        ["id"],
        ondelete="SET NULL",
    )

    # The audit log is append-only: no foreign key (a cascade would rewrite it) and a trigger that
    # rejects UPDATE and DELETE for every role, the application's included.
    op.drop_constraint("fk_auditoria_usuario_id_usuarios", "auditoria", type_="foreignkey")
    op.create_index("ix_auditoria_objeto", "auditoria", ["objeto_tipo", "objeto_id"], unique=False)
    op.execute(
        """
        CREATE FUNCTION auditoria_solo_agregar() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'La auditoría solo admite agregar filas (% rechazado)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER auditoria_solo_agregar BEFORE UPDATE OR DELETE ON auditoria "
        "FOR EACH ROW EXECUTE FUNCTION auditoria_solo_agregar()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS auditoria_solo_agregar ON auditoria")
    op.execute("DROP FUNCTION IF EXISTS auditoria_solo_agregar()")
    op.drop_index("ix_auditoria_objeto", table_name="auditoria")
    op.create_foreign_key(
        "fk_auditoria_usuario_id_usuarios", "auditoria", "usuarios", ["usuario_id"], ["id"], ondelete="SET NULL"
    )
    op.drop_table("supresiones")
