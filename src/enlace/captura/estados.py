"""How receipts move a sent message's estado: a max in `enlace.mensajes.estados`' rank, in any arrival order.

Each receipt kind proves one status; a batch's receipts for one message merge into one `Resumen`,
applied to the row in one UPDATE. Times take the earliest instant reported for each milestone (LEAST),
which is order independent too. A read receipt also bounds `entregado_at` (Cloud API may skip
`delivered`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from enlace.mensajes.estados import ENTREGADOS, fusionar
from enlace.motores.base import EstadoEntrega

ESTADO_POR_RECIBO: dict[str, str] = {
    EstadoEntrega.enviado: "enviado",
    EstadoEntrega.entregado: "entregado",
    EstadoEntrega.leido: "leido",
    EstadoEntrega.reproducido: "leido",
    EstadoEntrega.fallido: "fallido",
}


def estado_de_recibo(tipo: str) -> str:
    """The mensajes_enviados estado a receipt kind proves (`reproducido` counts as `leido`)."""
    try:
        return ESTADO_POR_RECIBO[EstadoEntrega(tipo)]
    except ValueError as exc:
        raise ValueError(f"tipo de recibo desconocido: {tipo!r}") from exc


def _menor(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


@dataclass(slots=True)
class Resumen:
    """Everything a set of receipts says about one message, merged (applied to the row in one UPDATE)."""

    estado: str = "pendiente"
    enviado_at: datetime | None = None
    entregado_at: datetime | None = None
    leido_at: datetime | None = None
    fallido_at: datetime | None = None
    codigo_error: int | None = None
    detalle_error: str | None = None

    def agregar(
        self, tipo: str, momento: datetime, codigo_error: int | None = None, detalle_error: str | None = None
    ) -> None:
        estado = estado_de_recibo(tipo)
        self.estado = fusionar(self.estado, estado)
        if estado == "fallido":
            self.fallido_at = _menor(self.fallido_at, momento)
            # Keep the first error reported (by time) so duplicates cannot flip the code around.
            if codigo_error is not None and (self.fallido_at == momento or self.codigo_error is None):
                self.codigo_error = codigo_error
                self.detalle_error = detalle_error
            return
        self.enviado_at = _menor(self.enviado_at, momento)
        if estado in ENTREGADOS:
            self.entregado_at = _menor(self.entregado_at, momento)
        if estado == "leido":
            self.leido_at = _menor(self.leido_at, momento)

    def aplicar_a(self, fila: dict[str, object]) -> dict[str, object]:
        """This summary merged into a row dict (pure mirror of the SQL UPDATE; used by tests and the bench)."""
        nueva = dict(fila)
        nueva["estado"] = fusionar(str(fila.get("estado") or "pendiente"), self.estado)
        for campo in ("enviado_at", "entregado_at", "leido_at", "fallido_at"):
            nueva[campo] = _menor(fila.get(campo), getattr(self, campo))  # type: ignore[arg-type]
        if self.codigo_error is not None and fila.get("codigo_error") is None:
            nueva["codigo_error"] = self.codigo_error
            nueva["detalle_error"] = self.detalle_error
        return nueva
