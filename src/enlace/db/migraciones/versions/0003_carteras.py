"""carteras: carteras, contactos e identificadores.

Revision ID: 0003_carteras
Revises: 0002_sesiones
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_carteras"
down_revision = "0002_sesiones"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carteras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=True),
        sa.Column("nombre", sa.String(length=100), nullable=False),
        sa.Column("fuente", sa.String(length=50), nullable=False),
        sa.Column("total_contactos", sa.Integer(), server_default="0", nullable=False),
        sa.Column("creada_por", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "fuente IN ('csv_upload', 'auto_asignacion', 'manual', 'pool')", name=op.f("ck_carteras_fuente")
        ),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_carteras_agente_id_agentes"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["creada_por"], ["usuarios.id"], name=op.f("fk_carteras_creada_por_usuarios"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carteras")),
    )
    op.create_index(op.f("ix_carteras_agente_id"), "carteras", ["agente_id"], unique=False)
    op.create_table(
        "importaciones_cartera",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cartera_id", sa.Integer(), nullable=True),
        sa.Column("agente_id", sa.Integer(), nullable=True),
        sa.Column("usuario_id", sa.Integer(), nullable=True),
        sa.Column("nombre_cartera", sa.String(length=100), nullable=False),
        sa.Column("fuente", sa.String(length=50), nullable=False),
        sa.Column("archivo", sa.String(length=255), nullable=False),
        sa.Column("tamano_bytes", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("formato", sa.String(length=10), nullable=True),
        sa.Column("estado", sa.String(length=20), server_default="pendiente", nullable=False),
        sa.Column("en_segundo_plano", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("progreso", sa.Float(), server_default="0", nullable=False),
        sa.Column("filas", sa.Integer(), server_default="0", nullable=False),
        sa.Column("aceptados", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rechazados", sa.Integer(), server_default="0", nullable=False),
        sa.Column("duplicados", sa.Integer(), server_default="0", nullable=False),
        sa.Column("existentes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("otro_agente", sa.Integer(), server_default="0", nullable=False),
        sa.Column("suprimidos", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("iniciada_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("terminada_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "estado IN ('pendiente', 'procesando', 'completada', 'fallida')",
            name=op.f("ck_importaciones_cartera_estado"),
        ),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_importaciones_cartera_agente_id_agentes"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["cartera_id"],
            ["carteras.id"],
            name=op.f("fk_importaciones_cartera_cartera_id_carteras"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["usuario_id"],
            ["usuarios.id"],
            name=op.f("fk_importaciones_cartera_usuario_id_usuarios"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_importaciones_cartera")),
    )
    op.create_index(op.f("ix_importaciones_cartera_agente_id"), "importaciones_cartera", ["agente_id"], unique=False)
    op.create_table(
        "importacion_filas",
        sa.Column("importacion_id", sa.Integer(), nullable=False),
        sa.Column("fila", sa.Integer(), nullable=False),
        sa.Column("resultado", sa.String(length=20), nullable=False),
        sa.Column("campo", sa.String(length=80), nullable=True),
        sa.Column("motivo", sa.Text(), nullable=True),
        sa.Column("telefono", sa.String(length=80), nullable=True),
        sa.CheckConstraint(
            "resultado IN ('aceptado', 'rechazado', 'duplicado', 'existente', 'otro_agente', 'suprimido')",
            name=op.f("ck_importacion_filas_resultado"),
        ),
        sa.ForeignKeyConstraint(
            ["importacion_id"],
            ["importaciones_cartera.id"],
            name=op.f("fk_importacion_filas_importacion_id_importaciones_cartera"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("importacion_id", "fila", name=op.f("pk_importacion_filas")),
    )
    op.create_table(
        "importacion_partes",
        sa.Column("importacion_id", sa.Integer(), nullable=False),
        sa.Column("parte", sa.Integer(), nullable=False),
        sa.Column("datos", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["importacion_id"],
            ["importaciones_cartera.id"],
            name=op.f("fk_importacion_partes_importacion_id_importaciones_cartera"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("importacion_id", "parte", name=op.f("pk_importacion_partes")),
    )
    op.create_table(
        "contactos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cartera_id", sa.Integer(), nullable=True),
        sa.Column("agente_id", sa.Integer(), nullable=True),
        sa.Column("nombre", sa.String(length=100), nullable=True),
        sa.Column("telefono", sa.String(length=20), nullable=False),
        sa.Column("telefono_wa", sa.String(length=40), nullable=True),
        sa.Column("estado_mx", sa.String(length=40), nullable=True),
        sa.Column("zona_horaria", sa.String(length=40), nullable=True),
        sa.Column("datos_credito", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("estado", sa.String(length=30), server_default="pendiente", nullable=False),
        sa.Column("asignado_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ultima_actividad_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consentimiento_fuente", sa.String(length=100), nullable=True),
        sa.Column("consentimiento_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consentimiento_evidencia", sa.Text(), nullable=True),
        sa.Column("importacion_id", sa.Integer(), nullable=True),
        sa.Column("fila_origen", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "estado IN ('pendiente', 'contactado', 'respondio', 'interesado', 'no_interesado', 'baja', 'anonimizado')",
            name=op.f("ck_contactos_estado"),
        ),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_contactos_agente_id_agentes"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["cartera_id"], ["carteras.id"], name=op.f("fk_contactos_cartera_id_carteras"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contactos")),
        sa.UniqueConstraint("telefono", name=op.f("uq_contactos_telefono")),
    )
    op.create_index("ix_contactos_agente_estado", "contactos", ["agente_id", "estado"], unique=False)
    op.create_index(op.f("ix_contactos_cartera_id"), "contactos", ["cartera_id"], unique=False)
    op.create_index(op.f("ix_contactos_importacion_id"), "contactos", ["importacion_id"], unique=False)
    op.create_index(
        "ix_contactos_pool", "contactos", ["id"], unique=False, postgresql_where=sa.text("agente_id IS NULL")
    )
    op.create_table(
        "identificadores_contacto",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contacto_id", sa.Integer(), nullable=False),
        sa.Column("tipo", sa.String(length=10), nullable=False),
        sa.Column("valor", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("tipo IN ('wa_jid', 'lid', 'bsuid')", name=op.f("ck_identificadores_contacto_tipo")),
        sa.ForeignKeyConstraint(
            ["contacto_id"],
            ["contactos.id"],
            name=op.f("fk_identificadores_contacto_contacto_id_contactos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identificadores_contacto")),
        sa.UniqueConstraint("valor", name=op.f("uq_identificadores_contacto_valor")),
    )
    op.create_index(
        op.f("ix_identificadores_contacto_contacto_id"), "identificadores_contacto", ["contacto_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_identificadores_contacto_contacto_id"), table_name="identificadores_contacto")
    op.drop_table("identificadores_contacto")
    op.drop_index("ix_contactos_pool", table_name="contactos", postgresql_where=sa.text("agente_id IS NULL"))
    op.drop_index(op.f("ix_contactos_importacion_id"), table_name="contactos")
    op.drop_index(op.f("ix_contactos_cartera_id"), table_name="contactos")
    op.drop_index("ix_contactos_agente_estado", table_name="contactos")
    op.drop_table("contactos")
    op.drop_table("importacion_partes")
    op.drop_table("importacion_filas")
    op.drop_index(op.f("ix_importaciones_cartera_agente_id"), table_name="importaciones_cartera")
    op.drop_table("importaciones_cartera")
    op.drop_index(op.f("ix_carteras_agente_id"), table_name="carteras")
    op.drop_table("carteras")
