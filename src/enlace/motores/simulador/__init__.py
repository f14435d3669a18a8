"""The `simulador` engine: an in-process virtual WhatsApp network for development, demos and tests."""

from __future__ import annotations

from enlace.motores.simulador.ledger import Ledger, Recibido
from enlace.motores.simulador.motor import EstadoSocket, Fallo, MotorSimulador, crear_motor_simulador
from enlace.motores.simulador.perfiles import Disposicion, PerfilDestinatario, telefono_canonico
from enlace.motores.simulador.red import RedVirtual

__all__ = [
    "Disposicion",
    "EstadoSocket",
    "Fallo",
    "Ledger",
    "MotorSimulador",
    "PerfilDestinatario",
    "Recibido",
    "RedVirtual",
    "crear_motor_simulador",
    "telefono_canonico",
]
