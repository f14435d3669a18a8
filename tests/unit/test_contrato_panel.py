"""The panel's types match what the server produces: the API (OpenAPI → web/src/api/esquema.ts) and the
realtime/CRM events (enlace.comun.eventos → web/src/api/eventos.ts). Regenerate with `make esquema`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from enlace.comun.eventos import MODELOS, esquema_openapi

RAIZ = Path(__file__).resolve().parents[2]
WEB = RAIZ / "web"


def test_tipos_del_panel_coinciden_con_el_servidor() -> None:
    if shutil.which("node") is None or not (WEB / "node_modules" / ".bin" / "openapi-typescript").exists():
        pytest.fail("Faltan Node o web/node_modules: ejecuta `make install` antes de `make test`.")
    r = subprocess.run(
        ["node", "scripts/generar-esquema.mjs", "--comprobar"], cwd=WEB, capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stderr or r.stdout


def test_cada_evento_esta_en_el_esquema_y_en_snake_case() -> None:
    esquemas = esquema_openapi()["components"]["schemas"]
    assert set(esquemas["Eventos"]["properties"]) == set(MODELOS)
    for nombre, modelo in MODELOS.items():
        propiedades = esquemas[modelo.__name__]["properties"]
        # One key casing on the wire: no camelCase key may come back.
        assert all(clave == clave.lower() for clave in propiedades), (nombre, list(propiedades))
