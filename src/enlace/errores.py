"""One domain error base with an HTTP status and a stable code; rendered the same everywhere."""

from __future__ import annotations

from typing import Any


class ErrorEnlace(Exception):
    status: int = 400
    codigo: str = "error"

    def __init__(self, mensaje: str, *, codigo: str | None = None, status: int | None = None, **extra: Any) -> None:
        super().__init__(mensaje)
        self.mensaje = mensaje
        if codigo:
            self.codigo = codigo
        if status:
            self.status = status
        self.extra = extra


class NoAutenticado(ErrorEnlace):
    status = 401
    codigo = "no_autenticado"


class Prohibido(ErrorEnlace):
    status = 403
    codigo = "prohibido"


class NoEncontrado(ErrorEnlace):
    status = 404
    codigo = "no_encontrado"


class Conflicto(ErrorEnlace):
    status = 409
    codigo = "conflicto"


class EntradaInvalida(ErrorEnlace):
    status = 422
    codigo = "entrada_invalida"


class DemasiadosIntentos(ErrorEnlace):
    status = 429
    codigo = "demasiados_intentos"


class ServicioNoDisponible(ErrorEnlace):
    status = 503
    codigo = "no_disponible"


def cuerpo_error(codigo: str, mensaje: str, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"codigo": codigo, "mensaje": mensaje}
    error.update({k: v for k, v in extra.items() if v is not None})
    return {"error": error}
