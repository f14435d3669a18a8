"""`enlace importar-cartera ARCHIVO --agente N`: import a portfolio file from the shell with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def importar_cartera(
    archivo: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV o XLSX")],
    agente: Annotated[int | None, typer.Option("--agente", "-a", help="Agente que recibe los contactos")] = None,
    pool: Annotated[bool, typer.Option("--pool", help="Importar al pool de la empresa (sin agente)")] = False,
    nombre: Annotated[str | None, typer.Option("--nombre", "-n", help="Nombre de la cartera")] = None,
) -> None:
    """Importa una cartera (CSV o XLSX) para un agente o al pool, con barra de progreso y resumen."""
    import hashlib

    import psycopg
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from enlace.carteras.importador import DestinoImportacion, ErrorImportacion, importar_archivo
    from enlace.carteras.service import opciones_de
    from enlace.comun.consola import cargar_ajustes, configurar, url_bd
    from enlace.db.embebida import detener_embebida
    from enlace.db.sesion import url_libpq
    from enlace.reloj import RelojReal

    if (agente is None) == (not pool):
        typer.secho("Indica --agente N o --pool (uno de los dos).", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    ajustes = cargar_ajustes()
    configurar(ajustes)
    try:
        url = url_libpq(url_bd(ajustes))
        if agente is not None:
            with psycopg.connect(url) as conexion:
                if conexion.execute("SELECT 1 FROM agentes WHERE id = %s", (agente,)).fetchone() is None:
                    typer.secho(f"El agente {agente} no existe.", fg=typer.colors.RED, err=True)
                    raise typer.Exit(2)
        h = hashlib.sha256()
        with archivo.open("rb") as f:
            while bloque := f.read(1 << 20):
                h.update(bloque)
        destino = DestinoImportacion(
            agente_id=agente,
            nombre_cartera=(nombre or archivo.stem)[:100],
            fuente="pool" if pool else "csv_upload",
            usuario_id=None,
            archivo=archivo.name,
            tamano_bytes=archivo.stat().st_size,
            sha256=h.hexdigest(),
        )
        with Progress(
            TextColumn("[bold]Importando[/bold] {task.fields[filas]:,} filas"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
        ) as barra:
            tarea = barra.add_task("importar", total=1.0, filas=0)

            def al_progreso(filas: int, fraccion: float) -> None:
                barra.update(tarea, completed=fraccion, filas=filas)

            try:
                resultado = importar_archivo(
                    url,
                    archivo,
                    destino,
                    ahora=RelojReal().ahora(),
                    opciones=opciones_de(ajustes),
                    al_progreso=al_progreso,
                )
            except ErrorImportacion as error:
                barra.stop()
                typer.secho(f"No se importó nada: {error.mensaje}", fg=typer.colors.RED, err=True)
                raise typer.Exit(1) from None
            barra.update(tarea, completed=1.0, filas=resultado.filas)
        c = resultado.conteos
        typer.echo(
            f"Importación {resultado.importacion_id}: {resultado.filas} filas; aceptados {c['aceptado']}, "
            f"rechazados {c['rechazado']}, duplicados {c['duplicado']}, ya existentes {c['existente']}, "
            f"de otro agente {c['otro_agente']}, suprimidos {c['suprimido']}."
        )
        if resultado.cartera_id:
            typer.echo(f"Cartera {resultado.cartera_id} creada.")
        typer.echo(f"Reporte por fila: GET /api/cartera/importaciones/{resultado.importacion_id}/reporte")
    finally:
        detener_embebida()
