"""What every virtual phone received, kept so tests can prove each message arrived exactly once.

With a file path the ledger is append-only JSON lines, fsync'd before a send returns, so it survives a
kill -9 of the server: a line is either whole (the phone got the message) or a torn last line (it did not).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Recibido:
    telefono: str  # +52XXXXXXXXXX of the virtual phone that got the message
    wa_message_id: str
    texto: str
    momento: datetime
    agente_id: int
    origen: str  # "sistema" (sent through the session) | "telefono" (typed on the agent's phone)
    remitente: str = ""  # the agent's own number


class Ledger:
    def __init__(self, ruta: Path | str | None = None) -> None:
        self.ruta = Path(ruta) if ruta else None
        self._entradas: list[Recibido] = []
        self._por_telefono: dict[str, list[Recibido]] = defaultdict(list)
        self._fd: int | None = None
        if self.ruta is not None:
            for entrada in _leer_lineas(self.ruta):
                self._agregar(entrada)
            self.ruta.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.ruta, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._reparar_cola()

    def _reparar_cola(self) -> None:
        # A kill mid-write leaves a torn last line; start the next record on its own line.
        assert self.ruta is not None and self._fd is not None
        tamano = self.ruta.stat().st_size
        if tamano:
            with self.ruta.open("rb") as f:
                f.seek(tamano - 1)
                if f.read(1) != b"\n":
                    os.write(self._fd, b"\n")
                    os.fsync(self._fd)

    def _agregar(self, entrada: Recibido) -> None:
        self._entradas.append(entrada)
        self._por_telefono[entrada.telefono].append(entrada)

    def registrar(self, entrada: Recibido) -> None:
        if self._fd is not None:
            datos = asdict(entrada)
            datos["momento"] = entrada.momento.isoformat()
            linea = json.dumps(datos, ensure_ascii=False, separators=(",", ":")) + "\n"
            os.write(self._fd, linea.encode())
            os.fsync(self._fd)
        self._agregar(entrada)

    def cerrar(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # ---- reading -------------------------------------------------------------------------

    def de(self, telefono: str) -> list[Recibido]:
        return list(self._por_telefono.get(telefono, ()))

    def por_telefono(self) -> dict[str, list[tuple[str, str, datetime]]]:
        """Per phone the list of (wa_message_id, texto, momento), in arrival order."""
        return {
            tel: [(e.wa_message_id, e.texto, e.momento) for e in entradas]
            for tel, entradas in self._por_telefono.items()
        }

    def todas(self) -> list[Recibido]:
        return list(self._entradas)

    def __len__(self) -> int:
        return len(self._entradas)

    def ids_duplicados(self) -> list[str]:
        """Message ids that reached a phone more than once (must be empty)."""
        cuenta = Counter((e.telefono, e.wa_message_id) for e in self._entradas)
        return sorted({wid for (_, wid), n in cuenta.items() if n > 1})

    @classmethod
    def leer(cls, ruta: Path | str) -> Ledger:
        """A read-only copy of a ledger file (for a test process checking a server it killed)."""
        ledger = cls()
        for entrada in _leer_lineas(Path(ruta)):
            ledger._agregar(entrada)
        return ledger


def _leer_lineas(ruta: Path) -> list[Recibido]:
    if not ruta.exists():
        return []
    entradas = []
    for linea in ruta.read_bytes().split(b"\n"):
        if not linea.strip():
            continue
        try:
            datos = json.loads(linea)
            datos["momento"] = datetime.fromisoformat(datos["momento"])
            entradas.append(Recibido(**datos))
        except (ValueError, TypeError, KeyError):
            continue  # torn line from a kill mid-write: that message never reached the phone
    return entradas
