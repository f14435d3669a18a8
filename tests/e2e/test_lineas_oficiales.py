"""The official-lines screen in headless Chromium: an admin adds, verifies and disables a line served by the
Graph API stand-in; the team's supervisor sees its quality and tier without the admin actions."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.soporte.graph_api_falso import GraphFalso

from .conftest import Panel, Servidor

pytestmark = pytest.mark.e2e


@pytest.fixture
def graph() -> Iterator[GraphFalso]:
    """The stand-in on its own event loop in a thread (the browser tests are synchronous)."""
    g = GraphFalso(phone_number_id="110000000000077", calidad="YELLOW", nivel="TIER_10K")
    bucle = asyncio.new_event_loop()
    hilo = threading.Thread(target=bucle.run_forever, daemon=True)
    hilo.start()
    asyncio.run_coroutine_threadsafe(g.iniciar(), bucle).result(timeout=20)
    try:
        yield g
    finally:
        asyncio.run_coroutine_threadsafe(g.detener(), bucle).result(timeout=20)
        bucle.call_soon_threadsafe(bucle.stop)
        hilo.join(timeout=5)


def test_admin_agrega_verifica_y_deshabilita_una_linea_oficial(
    abrir_panel: Any, servidor: Servidor, graph: GraphFalso
) -> None:
    panel: Panel = abrir_panel()
    pagina = panel.pagina
    panel.entrar(servidor.cuentas["admin"])
    panel.ir("/lineas-oficiales")
    pagina.get_by_role("heading", name="Líneas oficiales", exact=True).wait_for()

    forma = pagina.get_by_role("form", name="Agregar línea oficial")
    forma.get_by_label("Phone number id").fill(graph.phone_number_id)
    forma.get_by_label("WABA id").fill(graph.waba_id)
    forma.get_by_label("Token de acceso").fill(graph.token)
    forma.get_by_label("App secret").fill(graph.app_secret)
    forma.get_by_label("Número").fill("+525510000077")
    forma.get_by_label("URL base (opcional)").fill(graph.url)
    forma.get_by_label(re.compile(r"^Cola del equipo")).click()
    pagina.get_by_role("option", name="Equipo Norte").click()
    forma.get_by_role("button", name="Agregar línea").click()

    fila = pagina.get_by_test_id(f"linea-{graph.phone_number_id}")
    fila.wait_for()
    assert "Sin verificar" in fila.inner_text()
    assert graph.token not in pagina.content(), "el token nunca vuelve al navegador"

    peticiones = graph.peticiones
    fila.get_by_role("button", name="Verificar").click()
    fila.get_by_test_id("calidad").get_by_text("Amarilla").wait_for()
    assert graph.peticiones == peticiones + 1, "la verificación es una llamada real al doble de Meta"
    assert fila.get_by_test_id("nivel").inner_text() == "10,000 personas"
    panel.capturar("21-admin-lineas-oficiales")

    fila.get_by_role("button", name="Deshabilitar").click()
    fila.get_by_text("Deshabilitada").wait_for()
    filas_bd = servidor.sql(
        "SELECT activa, calidad, nivel, verificada_at IS NOT NULL FROM lineas_oficiales WHERE phone_number_id = %s",
        graph.phone_number_id,
    )
    assert filas_bd == [(False, "YELLOW", "TIER_10K", True)]
    assert panel.errores == [], panel.errores

    # The team's supervisor sees the line's quality and tier, not the admin actions.
    supervisora: Panel = abrir_panel()
    supervisora.entrar(servidor.cuentas["supervisor"])
    supervisora.ir("/lineas-oficiales")
    vista = supervisora.pagina.get_by_test_id(f"linea-{graph.phone_number_id}")
    vista.wait_for()
    assert "amarilla" in vista.get_by_test_id("calidad").inner_text().lower()
    assert vista.get_by_role("button").count() == 0
    assert supervisora.pagina.get_by_role("form", name="Agregar línea oficial").count() == 0
    assert supervisora.errores == [], supervisora.errores
