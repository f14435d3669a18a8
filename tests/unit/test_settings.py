"""Settings refuse unsafe values outside development."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys

import pytest

from enlace.settings import ErrorDeConfiguracion, Settings, parse_claves


@pytest.mark.parametrize("secreto", ["", "cambiame", "changeme", "  secret "])
def test_secreto_de_ejemplo_en_produccion_se_rechaza(secreto: str) -> None:
    with pytest.raises(ErrorDeConfiguracion, match="ENLACE_SECRET_KEY"):
        Settings(_env_file=None, entorno="produccion", secret_key=secreto, claves_credenciales="a:b")  # type: ignore[call-arg]


def test_secreto_corto_en_produccion_se_rechaza() -> None:
    with pytest.raises(ErrorDeConfiguracion, match="32 caracteres"):
        Settings(_env_file=None, entorno="produccion", secret_key="corto-pero-no-ejemplo", claves_credenciales="a:b")  # type: ignore[call-arg]


def test_desarrollo_acepta_secreto_vacio() -> None:
    ajustes = Settings(_env_file=None, entorno="desarrollo", secret_key="")  # type: ignore[call-arg]
    assert ajustes.secreto  # a fixed development value, never empty


SECRETO = secrets.token_urlsafe(48)
CLAVE = base64.b64encode(os.urandom(32)).decode()


def _produccion(**valores: object) -> Settings:
    base: dict[str, object] = {"entorno": "produccion", "secret_key": SECRETO, "claves_credenciales": f"k1:{CLAVE}"}
    return Settings(_env_file=None, **{**base, **valores})  # type: ignore[arg-type]


def test_produccion_valida() -> None:
    ajustes = _produccion()
    assert ajustes.es_produccion and ajustes.usar_log_json and ajustes.cookies_seguras
    assert not ajustes.docs_activas and _produccion(docs=True).docs_activas


@pytest.mark.parametrize("secreto", ["a" * 40, "ab" * 20, "0123456789" * 4])
def test_secreto_de_poca_entropia_en_produccion_se_rechaza(secreto: str) -> None:
    with pytest.raises(ErrorDeConfiguracion, match="poco aleatoria"):
        _produccion(secret_key=secreto)


def test_claves_en_cero_o_repetidas_en_produccion_se_rechazan() -> None:
    ceros = base64.b64encode(bytes(32)).decode()
    with pytest.raises(ErrorDeConfiguracion, match="no es aleatoria"):
        _produccion(claves_credenciales=f"k1:{ceros}")
    with pytest.raises(ErrorDeConfiguracion, match="repite otra clave"):
        _produccion(claves_credenciales=f"k1:{CLAVE},k2:{CLAVE}")


def test_simulador_en_produccion_se_rechaza() -> None:
    with pytest.raises(ErrorDeConfiguracion, match="simulador"):
        _produccion(motor="simulador")


def test_parse_claves_conserva_el_orden() -> None:
    assert parse_claves("k2:BBB, k1:AAA") == [("k2", "BBB"), ("k1", "AAA")]


def test_serve_se_niega_a_arrancar_con_secreto_de_ejemplo(tmp_path: object) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "enlace.cli", "serve"],
        env={"ENLACE_ENTORNO": "produccion", "ENLACE_SECRET_KEY": "cambiame", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(tmp_path),
    )
    assert r.returncode == 2
    assert "ENLACE_SECRET_KEY" in r.stderr
    assert "Traceback" not in r.stderr


def test_readme_documenta_cada_variable_enlace() -> None:
    """Every ENLACE_* setting is in the README table and in `enlace ajustes` (generated from Settings)."""
    from pathlib import Path

    from typer.testing import CliRunner

    from enlace.ajustes_tabla import DESCRIPCIONES
    from enlace.cli import app
    from enlace.settings import Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for nombre in DESCRIPCIONES:
        assert f"`ENLACE_{nombre.upper()}`" in readme, nombre
    for nombre in ("sim_inicio", "sim_auto_escanear", "sim_semilla", "sim_ledger"):
        assert nombre in DESCRIPCIONES and nombre in Settings.model_fields
    salida = CliRunner().invoke(app, ["ajustes"]).output
    for nombre in Settings.model_fields:
        assert f"`ENLACE_{nombre.upper()}`" in salida
    # What a newcomer stumbled on: pool uploads, the admin password file, simulator speed.
    assert "admin-password-inicial.txt" in readme and "0600" in readme
    assert "bolsa común" in readme and "ENLACE_SIM_VELOCIDAD" in readme


def test_el_nucleo_espera_a_la_pasarela_mas_que_ella_a_whatsapp() -> None:
    ajustes = Settings(_env_file=None)  # type: ignore[call-arg]
    assert ajustes.gateway_tiempo_espera_s > ajustes.gateway_limite_comando_s
    with pytest.raises(ErrorDeConfiguracion, match="ENLACE_GATEWAY_TIEMPO_ESPERA_S"):
        Settings(_env_file=None, gateway_tiempo_espera_s=60, gateway_limite_comando_s=60)  # type: ignore[call-arg]


def test_motor_baileys_usa_esos_limites() -> None:
    from enlace.motores.baileys.motor import crear_motor_baileys
    from enlace.reloj import RelojManual

    ajustes = Settings(_env_file=None, gateway_tiempo_espera_s=90, gateway_limite_comando_s=45)  # type: ignore[call-arg]
    motor = crear_motor_baileys(ajustes, RelojManual())
    assert motor.tiempo_espera_s == 90 and motor.entorno["ENLACE_GATEWAY_LIMITE_COMANDO_MS"] == "45000"


@pytest.mark.parametrize("campo", ["resolucion_ttl_dias", "resolucion_lote", "resolucion_max_hora"])
def test_resolucion_rechaza_ceros(campo: str) -> None:
    with pytest.raises(ErrorDeConfiguracion, match="ENLACE_RESOLUCION"):
        Settings(_env_file=None, **{campo: 0})  # type: ignore[call-arg]
