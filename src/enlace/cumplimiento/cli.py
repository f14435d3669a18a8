"""`enlace arco exportar|cancelar|retencion`: ARCO rights and retention from the command line (audited)."""

from __future__ import annotations

import asyncio
import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer

arco = typer.Typer(help="Derechos ARCO (exportar y cancelar los datos de una persona) y retención de mensajes.")


def _actor_cli() -> Any:
    from enlace.comun.actor import Actor

    try:
        nombre = getpass.getuser()
    except Exception:  # no login name in some containers
        nombre = "desconocido"
    return Actor(usuario_id=0, rol="admin", nombre=f"cli:{nombre}")


def _telefono(valor: str) -> str:
    from enlace.cumplimiento.service import telefono_canonico
    from enlace.errores import ErrorEnlace

    try:
        return telefono_canonico(valor)
    except ErrorEnlace as exc:
        typer.secho(exc.mensaje, fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


async def ejecutar(url: str, accion: str, **kwargs: Any) -> Any:
    """Run one compliance action in its own transaction against `url` (also used by tests)."""
    from enlace.cumplimiento import service
    from enlace.db.sesion import crear_fabrica, crear_motor_bd, transaccion
    from enlace.reloj import RelojReal

    motor = crear_motor_bd(url, pool_size=1, max_overflow=0)
    try:
        async with transaccion(crear_fabrica(motor)) as session:
            actor = _actor_cli()
            if accion == "exportar":
                return await service.arco_exportar(
                    session, telefono=kwargs["telefono"], actor=actor, canal=actor.nombre
                )
            if accion == "cancelar":
                exportado = None
                if kwargs.get("exportar"):
                    exportado = await service.arco_exportar(
                        session, telefono=kwargs["telefono"], actor=actor, canal=actor.nombre
                    )
                conteos = await service.arco_cancelar(
                    session, telefono=kwargs["telefono"], actor=actor, canal=actor.nombre, motivo=kwargs.get("motivo")
                )
                return exportado, conteos
            if accion == "retencion":
                return await service.aplicar_retencion(session, ahora=RelojReal().ahora(), actor=actor)
            raise ValueError(accion)
    finally:
        await motor.dispose()


def _url() -> str:
    from enlace.comun.consola import cargar_ajustes, configurar, url_bd

    ajustes = cargar_ajustes()
    configurar(ajustes)
    return url_bd(ajustes)


def _escribir(datos: Any, salida: Path | None) -> None:
    texto = json.dumps(datos, ensure_ascii=False, indent=2, default=str)
    if salida is None:
        typer.echo(texto)
    else:
        salida.write_text(texto + "\n", encoding="utf-8")
        typer.echo(f"Datos escritos en {salida}.", err=True)


@arco.command("exportar")
def exportar(
    telefono: Annotated[str, typer.Argument(help="Número de la persona, p. ej. +525512345678")],
    salida: Annotated[Path | None, typer.Option(help="Archivo JSON; por defecto la salida estándar")] = None,
) -> None:
    """Exporta todo lo que Enlace guarda de un número (derecho de acceso). Queda auditado."""
    from enlace.db.embebida import detener_embebida

    tel = _telefono(telefono)
    try:
        datos = asyncio.run(ejecutar(_url(), "exportar", telefono=tel))
    finally:
        detener_embebida()
    _escribir(datos, salida)


@arco.command("cancelar")
def cancelar(
    telefono: Annotated[str, typer.Argument(help="Número de la persona, p. ej. +525512345678")],
    exportar_a: Annotated[
        Path | None, typer.Option("--exportar-a", help="Antes de borrar, guarda la exportación en este archivo")
    ] = None,
    motivo: Annotated[str | None, typer.Option(help="Motivo o folio de la solicitud ARCO")] = None,
    si: Annotated[bool, typer.Option("--si", help="No pedir confirmación")] = False,
) -> None:
    """Borra o anonimiza los datos de un número y lo deja en la lista de supresión (cancelación). Auditado."""
    from enlace.db.embebida import detener_embebida

    tel = _telefono(telefono)
    if not si:
        typer.confirm(
            f"Se borrarán los datos de {tel} (contactos, textos de mensajes, identificadores) y el número quedará "
            "suprimido. ¿Continuar?",
            abort=True,
        )
    try:
        exportado, conteos = asyncio.run(
            ejecutar(_url(), "cancelar", telefono=tel, motivo=motivo, exportar=exportar_a is not None)
        )
    finally:
        detener_embebida()
    if exportar_a is not None:
        _escribir(exportado, exportar_a)
    typer.echo(
        f"Cancelación aplicada a {tel}: {conteos['contactos']} contacto(s), {conteos['mensajes_enviados']} "
        f"mensaje(s) enviados y {conteos['mensajes_recibidos']} recibidos anonimizados, "
        f"{conteos['cancelados']} pendiente(s) cancelados. El número queda en la lista de supresión."
    )


@arco.command("retencion")
def retencion() -> None:
    """Borra los textos de mensajes más antiguos que la retención configurada (retencion_dias)."""
    from enlace.db.embebida import detener_embebida

    try:
        resultado = asyncio.run(ejecutar(_url(), "retencion"))
    finally:
        detener_embebida()
    typer.echo(
        f"Retención de {resultado['retencion_dias']} días: {resultado['mensajes_enviados']} mensajes enviados y "
        f"{resultado['mensajes_recibidos']} recibidos sin texto."
    )
