"""Command line: `enlace serve | migrate | crear-usuario | version` (domains add their commands)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from enlace import __version__
from enlace.comun import consola
from enlace.settings import ErrorDeConfiguracion

app = typer.Typer(help="Enlace: plataforma de WhatsApp para contact center.", no_args_is_help=True)


@app.command("ajustes")
def ajustes_tabla() -> None:
    """Imprime la tabla de todas las variables ENLACE_* (generada de settings.py)."""
    from enlace.ajustes_tabla import tabla_ajustes

    typer.echo(tabla_ajustes(), nl=False)


@app.command()
def version() -> None:
    """Muestra la versión de Enlace."""
    typer.echo(f"enlace {__version__}")


@app.command()
def migrate() -> None:
    """Aplica las migraciones pendientes a la base de datos."""
    from enlace.db.embebida import detener_embebida
    from enlace.db.migrar import migrar

    ajustes = consola.cargar_ajustes()
    consola.configurar(ajustes)
    try:
        migrar(consola.url_bd(ajustes))
        typer.echo("Base de datos al día.")
    finally:
        detener_embebida()


async def _admin_inicial(url: str) -> str | None:
    """On an empty database, create `admin` with a one-time random password and return it."""
    from sqlalchemy import func, select

    from enlace.auth.models import Usuario
    from enlace.auth.seguridad import hashear_password, password_aleatoria
    from enlace.db.sesion import crear_fabrica, crear_motor_bd

    motor = crear_motor_bd(url, pool_size=1, max_overflow=0)
    try:
        async with crear_fabrica(motor)() as session:
            if await session.scalar(select(func.count()).select_from(Usuario)):
                return None
            password = password_aleatoria()
            session.add(
                Usuario(
                    usuario="admin",
                    nombre="Administrador",
                    rol="admin",
                    password_hash=hashear_password(password),
                    debe_cambiar_password=True,
                )
            )
            await session.commit()
            return password
    finally:
        await motor.dispose()


ARCHIVO_PASSWORD_INICIAL = "admin-password-inicial.txt"


def guardar_password_inicial(directorio: Path, password: str) -> Path:
    """Write the one-time admin password to a 0600 file: stdout alone is lost under a service manager."""
    directorio.mkdir(parents=True, exist_ok=True)
    ruta = directorio / ARCHIVO_PASSWORD_INICIAL
    ruta.unlink(missing_ok=True)
    descriptor = os.open(ruta, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as archivo:
        archivo.write(f"usuario: admin\ncontraseña de un solo uso: {password}\n")
    return ruta


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Dirección (por defecto ENLACE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Puerto (por defecto ENLACE_PORT)")] = None,
) -> None:
    """Migra la base de datos y sirve la API, el panel y el canal en tiempo real."""
    import uvicorn

    from enlace.api import create_asgi
    from enlace.db.embebida import detener_embebida, instalar_salida_por_sigterm
    from enlace.db.migrar import migrar
    from enlace.nucleo import Nucleo

    ajustes = consola.cargar_ajustes()
    consola.configurar(ajustes)
    instalar_salida_por_sigterm()
    try:
        url = consola.url_bd(ajustes)
        migrar(url)
        password = asyncio.run(_admin_inicial(url))
        if password:
            archivo = guardar_password_inicial(ajustes.directorio_datos, password)
            typer.secho(
                "\nPrimer arranque: se creó el usuario «admin» con la contraseña de un solo uso:\n\n"
                f"    {password}\n\nTambién quedó en {archivo} (solo legible por este usuario del sistema).\n"
                "Cámbiala al entrar y borra ese archivo.\n",
                fg=typer.colors.YELLOW,
            )
        nucleo = Nucleo(ajustes, url)
        uvicorn.run(
            create_asgi(nucleo),
            host=host or ajustes.host,
            port=port or ajustes.port,
            log_level="warning",
            lifespan="on",
        )
    finally:
        detener_embebida()


@app.command("crear-usuario")
def crear_usuario(
    usuario: Annotated[str, typer.Option(help="Nombre de usuario para entrar")],
    rol: Annotated[str, typer.Option(help="admin, supervisor o agente")],
    nombre: Annotated[str | None, typer.Option(help="Nombre para mostrar")] = None,
    password: Annotated[str | None, typer.Option(help="Contraseña; si se omite se pide")] = None,
    generar: Annotated[bool, typer.Option(help="Genera una contraseña aleatoria y la muestra una vez")] = False,
    equipo: Annotated[int | None, typer.Option(help="Equipo (id) del agente o supervisor")] = None,
) -> None:
    """Crea un usuario (no hay contraseñas por defecto)."""
    from pydantic import ValidationError

    from enlace.auth.schemas import UsuarioCrear
    from enlace.auth.seguridad import password_aleatoria
    from enlace.db.embebida import detener_embebida
    from enlace.errores import ErrorEnlace

    ajustes = consola.cargar_ajustes()
    consola.configurar(ajustes)
    if password is None:
        password = (
            password_aleatoria() if generar else typer.prompt("Contraseña", hide_input=True, confirmation_prompt=True)
        )
    try:
        # model_validate: the role and password typed on the command line are checked like the API's.
        datos = UsuarioCrear.model_validate(
            {"usuario": usuario, "nombre": nombre or usuario, "rol": rol, "password": password, "equipo_id": equipo}
        )
    except ValidationError as exc:
        from enlace.api import describir_error_validacion

        typer.secho(describir_error_validacion([dict(e) for e in exc.errors()]), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None

    async def crear() -> int:
        from enlace.auth.service import crear_usuario as crear_servicio
        from enlace.db.sesion import crear_fabrica, crear_motor_bd

        motor = crear_motor_bd(consola.url_bd(ajustes), pool_size=1, max_overflow=0)
        try:
            async with crear_fabrica(motor)() as session:
                creado = await crear_servicio(session, datos)
                await session.commit()
                return creado.id
        finally:
            await motor.dispose()

    try:
        from enlace.db.migrar import migrar

        migrar(consola.url_bd(ajustes))
        nuevo_id = asyncio.run(crear())
    except ErrorEnlace as exc:
        typer.secho(exc.mensaje, fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    finally:
        detener_embebida()
    typer.echo(f"Usuario «{usuario}» ({rol}) creado con id {nuevo_id}.")
    if generar:
        typer.echo(f"Contraseña (se muestra una sola vez): {password}")


@app.command("rotar-clave")
def rotar_clave(
    generar: Annotated[bool, typer.Option(help="Solo muestra una clave nueva para ENLACE_CLAVES_CREDENCIALES")] = False,
) -> None:
    """Vuelve a cifrar las credenciales de WhatsApp con la primera clave de ENLACE_CLAVES_CREDENCIALES."""
    from enlace.sesiones.cifrado import generar_clave

    if generar:
        typer.echo(f"Clave nueva (agrégala AL PRINCIPIO de ENLACE_CLAVES_CREDENCIALES): nueva:{generar_clave()}")
        return
    from enlace.db.embebida import detener_embebida
    from enlace.db.migrar import migrar
    from enlace.db.sesion import crear_fabrica, crear_motor_bd
    from enlace.sesiones.cifrado import Llavero
    from enlace.sesiones.rotacion import ResultadoRotacion, rotar_claves

    ajustes = consola.cargar_ajustes()
    consola.configurar(ajustes)
    try:
        llavero = Llavero.desde_settings(ajustes)
    except ErrorDeConfiguracion as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None

    lineas: tuple[int, list[int]] = (0, [])

    async def rotar() -> ResultadoRotacion:
        nonlocal lineas
        from enlace.db.sesion import transaccion
        from enlace.oficial.lineas import rotar_lineas

        motor = crear_motor_bd(consola.url_bd(ajustes), pool_size=1, max_overflow=0)
        try:
            resultado = await rotar_claves(crear_fabrica(motor), llavero)
            # Official lines' tokens and app secrets live under the same key ring.
            async with transaccion(crear_fabrica(motor)) as s:
                lineas = await rotar_lineas(s, llavero)
            return resultado
        finally:
            await motor.dispose()

    try:
        migrar(consola.url_bd(ajustes))
        resultado = asyncio.run(rotar())
    finally:
        detener_embebida()
    typer.echo(
        f"Credenciales recifradas con la clave «{llavero.actual.id}»: {resultado.recifradas} "
        f"(ya estaban al día: {resultado.al_dia})."
    )
    typer.echo(f"Líneas oficiales recifradas: {lineas[0]}.")
    if lineas[1]:
        typer.secho(
            f"No se pudieron descifrar las líneas oficiales {lineas[1]}: vuelve a cargar su token y app secret.",
            fg=typer.colors.YELLOW,
            err=True,
        )
    if resultado.ilegibles:
        typer.secho(
            "No se pudieron descifrar las sesiones de los agentes "
            f"{resultado.ilegibles}: falta su clave en ENLACE_CLAVES_CREDENCIALES; "
            "esos agentes deberán vincular de nuevo.",
            fg=typer.colors.YELLOW,
            err=True,
        )
        raise typer.Exit(1)


def _registrar_subcomandos() -> None:
    from enlace.cumplimiento.cli import arco

    app.add_typer(arco, name="arco")
    from enlace.carteras.cli import importar_cartera

    app.command("importar-cartera")(importar_cartera)
    from enlace.demo import demo

    app.command("demo")(demo)


_registrar_subcomandos()


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
