"""The panel under its security headers: no CSP violation, and the one-time password form comes first."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import Panel, Servidor


def test_panel_sin_violaciones_de_csp_y_password_temporal(abrir_panel: Any, servidor: Servidor) -> None:
    admin = servidor.cuentas["admin"]
    panel: Panel = abrir_panel()
    pagina = panel.pagina
    avisos: list[str] = []
    pagina.on("console", lambda m: avisos.append(m.text) if "Content Security Policy" in m.text else None)
    panel.entrar(admin)
    for ruta in ("/muro", "/admin/tokens", "/admin/usuarios", "/bandeja"):
        panel.ir(ruta)
        pagina.wait_for_load_state("networkidle")
    assert avisos == [], avisos
    respuesta = pagina.request.get(servidor.url + "/")
    assert "frame-ancestors 'none'" in respuesta.headers["content-security-policy"]

    # A user with a one-time password sees only the change form, then the panel.
    nuevo = panel.api(
        "POST",
        "/api/usuarios",
        {"usuario": "temporal_e2e", "nombre": "Tere Temporal", "rol": "supervisor", "password": "rio-verde-en-enero"},
    )
    servidor.sql("UPDATE usuarios SET debe_cambiar_password = true WHERE id = %s", nuevo["id"])
    otro: Panel = abrir_panel()
    p2 = otro.pagina
    otro.ir("/login")
    p2.get_by_label("Usuario").fill("temporal_e2e")
    p2.get_by_label("Contraseña").fill("rio-verde-en-enero")
    p2.get_by_role("button", name="Entrar").click()
    p2.get_by_role("heading", name="Cambia tu contraseña").wait_for()
    p2.get_by_label("Contraseña temporal").fill("rio-verde-en-enero")
    p2.get_by_label("Contraseña nueva", exact=True).fill("aaaaaaaaaaaa")
    p2.get_by_label("Repite la contraseña nueva").fill("aaaaaaaaaaaa")
    p2.get_by_role("button", name="Guardar y continuar").click()
    p2.get_by_role("alert").filter(has_text="demasiado fácil de adivinar").wait_for()
    p2.get_by_label("Contraseña nueva", exact=True).fill("nubes-sobre-el-ajusco")
    p2.get_by_label("Repite la contraseña nueva").fill("nubes-sobre-el-ajusco")
    p2.get_by_role("button", name="Guardar y continuar").click()
    p2.get_by_test_id("usuario-actual").wait_for()
    assert re.search(r"/muro$", p2.url)
    assert otro.errores == [] and panel.errores == []
