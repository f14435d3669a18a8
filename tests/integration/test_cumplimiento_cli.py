"""`enlace arco exportar|cancelar|retencion` against the test database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from enlace.cli import app
from enlace.settings import get_settings


@pytest.fixture
def entorno_cli(url_bd: str, limpiar_bd: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ENLACE_DATABASE_URL", url_bd)
    monkeypatch.setenv("ENLACE_ENTORNO", "pruebas")
    # The CLI configures logging to the runner's (soon closed) stdout; later tests would log into it.
    monkeypatch.setattr("enlace.comun.consola.configurar", lambda ajustes: None)
    get_settings.cache_clear()
    yield url_bd
    get_settings.cache_clear()


def _preparar(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        agente = c.execute("INSERT INTO agentes (nombre) VALUES ('Agente CLI') RETURNING id").fetchone()[0]  # type: ignore[index]
        contacto = c.execute(
            "INSERT INTO contactos (telefono, nombre, agente_id) VALUES ('+525512340000', 'Carla', %s) RETURNING id",
            (agente,),
        ).fetchone()[0]  # type: ignore[index]
        c.execute(
            "INSERT INTO mensajes_enviados (agente_id, contacto_id, numero_destino, mensaje, wa_message_id, estado)"
            " VALUES (%s, %s, '+525512340000', 'Hola Carla', '3EB0AAAAAAAAAAAAAAAAAA', 'pendiente')",
            (agente, contacto),
        )


def test_exportar_y_cancelar_por_cli(entorno_cli: str, tmp_path: Path) -> None:
    _preparar(entorno_cli)
    runner = CliRunner()
    salida = tmp_path / "carla.json"
    r = runner.invoke(app, ["arco", "exportar", "55 1234 0000", "--salida", str(salida)])
    assert r.exit_code == 0, r.output
    datos = json.loads(salida.read_text(encoding="utf-8"))
    assert datos["contactos"][0]["nombre"] == "Carla"
    assert datos["mensajes_enviados"][0]["mensaje"] == "Hola Carla"

    respaldo = tmp_path / "respaldo.json"
    r = runner.invoke(app, ["arco", "cancelar", "+525512340000", "--si", "--exportar-a", str(respaldo)])
    assert r.exit_code == 0, r.output
    assert "lista de supresión" in r.output
    assert json.loads(respaldo.read_text(encoding="utf-8"))["contactos"][0]["nombre"] == "Carla"
    with psycopg.connect(entorno_cli) as c:
        assert c.execute("SELECT fuente FROM supresiones WHERE telefono = '+525512340000'").fetchone() == ("arco",)
        assert c.execute("SELECT nombre, estado FROM contactos").fetchone() == (None, "anonimizado")
        assert c.execute("SELECT mensaje, estado FROM mensajes_enviados").fetchone() == (None, "cancelado")
        acciones = [f[0] for f in c.execute("SELECT accion FROM auditoria ORDER BY id").fetchall()]
    assert acciones == ["arco.exportar", "arco.exportar", "arco.cancelar"]

    r = runner.invoke(app, ["arco", "retencion"])
    assert r.exit_code == 0, r.output
    assert "Retención de 365 días" in r.output


def test_telefono_invalido(entorno_cli: str) -> None:
    r = CliRunner().invoke(app, ["arco", "exportar", "5.51234E+09"])
    assert r.exit_code == 2
