"""resolucion: números resueltos con WhatsApp antes del primer contacto, sin_whatsapp, vigía de acuses.

Revision ID: 0013_resolucion
Revises: 0012_lotes_capturados

Adds the `sin_whatsapp` status: the CHECK list and the trigger's transition table (a frozen copy of
`enlace.mensajes.estados.TRANSICIONES` at this revision, as 0009 asks).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from enlace.mensajes.estados import sql_funcion_transiciones

revision = "0013_resolucion"
down_revision = "0012_lotes_capturados"
branch_labels = None
depends_on = None

ESTADOS_ANTES = (
    "pendiente",
    "enviando",
    "enviado",
    "entregado",
    "leido",
    "fallido",
    "cancelado",
    "suprimido",
    "incierto",
)
ESTADOS = (*ESTADOS_ANTES, "sin_whatsapp")

_PRUEBAS = ("enviado", "fallido", "entregado", "leido")
TRANSICIONES_0009 = {
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
TRANSICIONES = {
    **TRANSICIONES_0009,
    "pendiente": (*TRANSICIONES_0009["pendiente"], "sin_whatsapp"),
    "sin_whatsapp": _PRUEBAS,
}


def _check(estados: tuple[str, ...]) -> str:
    return "estado IN (" + ", ".join(f"'{e}'" for e in estados) + ")"


def upgrade() -> None:
    op.add_column("contactos", sa.Column("en_whatsapp", sa.Boolean(), nullable=True))
    op.add_column("contactos", sa.Column("wa_lid", sa.String(length=80), nullable=True))
    op.add_column("contactos", sa.Column("wa_verificado_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("mensajes_enviados", sa.Column("sin_acuse_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("paradas_seguridad", sa.Column("hasta", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint(op.f("ck_mensajes_enviados_estado"), "mensajes_enviados", type_="check")
    op.create_check_constraint(op.f("ck_mensajes_enviados_estado"), "mensajes_enviados", _check(ESTADOS))
    op.execute(sql_funcion_transiciones(TRANSICIONES))
    op.create_index(
        "ix_mensajes_enviados_sin_acuse",
        "mensajes_enviados",
        ["enviado_at"],
        unique=False,
        postgresql_where=sa.text("estado = 'enviado' AND sin_acuse_at IS NULL"),
    )
    op.create_table(
        "consultas_numero",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("momento", sa.DateTime(timezone=True), nullable=False),
        sa.Column("numeros", sa.Integer(), nullable=False),
        sa.Column("encontrados", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_consultas_numero_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultas_numero")),
    )
    op.create_index("ix_consultas_numero_agente_momento", "consultas_numero", ["agente_id", "momento"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_consultas_numero_agente_momento", table_name="consultas_numero")
    op.drop_table("consultas_numero")
    op.drop_index("ix_mensajes_enviados_sin_acuse", table_name="mensajes_enviados")
    op.execute(sql_funcion_transiciones({**TRANSICIONES, "sin_whatsapp": ("cancelado",)}))
    op.execute("UPDATE mensajes_enviados SET estado = 'cancelado' WHERE estado = 'sin_whatsapp'")
    op.execute(sql_funcion_transiciones(TRANSICIONES_0009))
    op.drop_constraint(op.f("ck_mensajes_enviados_estado"), "mensajes_enviados", type_="check")
    op.create_check_constraint(op.f("ck_mensajes_enviados_estado"), "mensajes_enviados", _check(ESTADOS_ANTES))
    op.drop_column("paradas_seguridad", "hasta")
    op.drop_column("mensajes_enviados", "sin_acuse_at")
    op.drop_column("contactos", "wa_verificado_at")
    op.drop_column("contactos", "wa_lid")
    op.drop_column("contactos", "en_whatsapp")
