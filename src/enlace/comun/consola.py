"""What every command-line entry needs (the main CLI and the domains' commands): settings, logs, database URL."""

from __future__ import annotations

import typer

from enlace.settings import ErrorDeConfiguracion, Settings, get_settings


def cargar_ajustes() -> Settings:
    try:
        return get_settings()
    except ErrorDeConfiguracion as exc:
        typer.secho(f"Configuración insegura: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # pydantic ValidationError: name the variable
        typer.secho(f"Configuración inválida: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def url_bd(ajustes: Settings) -> str:
    from enlace.db.embebida import resolver_url

    return resolver_url(ajustes.database_url, ajustes.directorio_datos)


def configurar(ajustes: Settings) -> None:
    from enlace.registro import configurar_logs

    configurar_logs(ajustes.usar_log_json)
