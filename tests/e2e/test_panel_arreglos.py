"""What agents, supervisors and admins tripped over on their first day (issue 18), each fixed and checked in Chromium.

Runs after test_panel.py on the same server and browser; each test builds the data it needs through the API and
asserts what the person sees. Every screenshot also runs the axe-core accessibility check (conftest.Panel.capturar).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from enlace.motores.simulador.perfiles import perfil_para

from .conftest import CAPTURAS, Cuenta, Panel, Servidor, esperar

pytestmark = pytest.mark.e2e

MX = ZoneInfo("America/Mexico_City")
CLAVE = "Clave-Segura-e2e-2026!"


def _telefonos(cantidad: int, base: int) -> list[str]:
    """Virtual people online and on WhatsApp, from a number range no other test uses."""
    elegidos: list[str] = []
    n = base
    while len(elegidos) < cantidad:
        n += 1
        tel = f"+52{n}"
        p = perfil_para(7, tel)
        if p.en_whatsapp and p.horas_fuera_de_linea == 0 and p.disposicion.value != "baja":
            elegidos.append(tel)
    return elegidos


def _conectar(panel: Panel, cuenta: Cuenta) -> None:
    """Link the agent's number through the simulator's virtual phone (as in test_panel), if it is not linked."""
    if panel.api("GET", f"/api/sesion/{cuenta.agente_id}")["estado"] == "conectada":
        return
    panel.api("POST", f"/api/sesion/conectar/{cuenta.agente_id}")
    esperar(lambda: panel.api("GET", f"/api/sesion/{cuenta.agente_id}")["estado"] == "esperando_qr", 20)
    panel.api("POST", f"/api/simulador/{cuenta.agente_id}/escanear", {})
    esperar(lambda: panel.api("GET", f"/api/sesion/{cuenta.agente_id}")["estado"] == "conectada", 30, "no se conectó")


def _subir(panel: Panel, nombre: str, filas: list[str], agente_id: int | None = None) -> dict[str, Any]:
    """Upload a CSV the way the panel does (multipart), as this panel's user."""
    token = next((c["value"] for c in panel.contexto.cookies() if c["name"] == "enlace_csrf"), "")
    partes: dict[str, Any] = {
        "nombre": nombre,
        "archivo": {"name": f"{nombre}.csv", "mimeType": "text/csv", "buffer": ("\n".join(filas) + "\n").encode()},
    }
    if agente_id is not None:
        partes["agenteId"] = str(agente_id)
    r = panel.contexto.request.post(
        panel.servidor.url + "/api/cartera/subir", multipart=partes, headers={"X-CSRF-Token": token}
    )
    assert r.ok, r.text()
    imp = r.json()
    esperar(
        lambda: panel.api("GET", f"/api/cartera/importaciones/{imp['id']}")["estado"] == "completada",
        60,
        "la importación no terminó",
    )
    return panel.api("GET", f"/api/cartera/importaciones/{imp['id']}")


def _ahora_servidor(panel: Panel) -> datetime:
    return datetime.fromisoformat(panel.api("GET", "/api/reloj")["ahora"])


def _agente_nuevo(admin: Panel, servidor: Servidor, usuario: str, nombre: str) -> Cuenta:
    equipo = servidor.sql("SELECT id FROM equipos WHERE nombre = 'Equipo Norte'")[0][0]
    u = admin.api(
        "POST",
        "/api/usuarios",
        {"usuario": usuario, "nombre": nombre, "rol": "agente", "password": CLAVE, "equipo_id": equipo},
    )
    # As if the agent had already replaced the admin's temporary password with their own.
    servidor.sql("UPDATE usuarios SET debe_cambiar_password = false WHERE id = %s", u["id"])
    cuenta = Cuenta(usuario, CLAVE, nombre, "agente", id=u["id"], agente_id=u["agente_id"])
    return cuenta


@pytest.fixture(scope="module")
def admin(navegador: Any, servidor: Servidor) -> Any:
    p = Panel(navegador, servidor)
    p.entrar(servidor.cuentas["admin"])
    yield p
    p.cerrar()


# ---- Also: no 401 before login, compression and cache, first-load size ---------------------------------------------


def test_primera_carga_sin_401_comprimida_y_con_cache(abrir_panel, servidor: Servidor) -> None:
    panel: Panel = abrir_panel()
    bytes_transferidos: list[int] = []
    panel.pagina.on("requestfinished", lambda r: bytes_transferidos.append(r.sizes()["responseBodySize"]))
    panel.ir("/")
    panel.pagina.get_by_label("Usuario").wait_for()
    panel.pagina.wait_for_load_state("networkidle")
    # A first visit asks nothing it knows will fail: no 401 in the console.
    assert not [m for m in panel.consola if "401" in m or "Failed to load" in m], panel.consola
    total = sum(bytes_transferidos)
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    (CAPTURAS / "tamano-primera-carga.txt").write_text(f"primera carga (login): {total} bytes transferidos\n")
    print(f"\nbench primera-carga: bytes={total}")
    assert total < 400_000, total  # ~1 MB before compression; brotli brings it to ~300 KB

    html = httpx.get(servidor.url + "/", headers={"Accept-Encoding": "identity"})
    assert html.headers["cache-control"] == "no-cache"
    recurso = re.search(r'src="(/assets/index-[^"]+\.js)"', html.text)
    assert recurso, html.text[:300]
    for codificacion in ("br", "gzip"):
        r = httpx.get(servidor.url + recurso.group(1), headers={"Accept-Encoding": codificacion})
        assert r.headers["content-encoding"] == codificacion
        assert "immutable" in r.headers["cache-control"] and "max-age=31536000" in r.headers["cache-control"]
        assert r.headers["content-type"].startswith("text/javascript") or "javascript" in r.headers["content-type"]
        assert "vary" in r.headers and "Accept-Encoding" in r.headers["vary"]
    sin = httpx.get(servidor.url + recurso.group(1), headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in sin.headers and sin.text.startswith(("import", "var", "(", "const", "!"))


# ---- 1. Launch with incomplete contacts ----------------------------------------------------------------------------


def test_lanzar_explica_los_incompletos_y_encola_lo_que_dijo(abrir_panel, servidor: Servidor) -> None:
    agente = servidor.cuentas["agente"]
    panel: Panel = abrir_panel()
    panel.entrar(agente)
    telefonos = _telefonos(5, 5598760000)
    filas = ["nombre,telefono,monto"]
    nombres = ["Ramón Núñez", "Lucía Peña", "Óscar Ibáñez", "Sin Monto Uno", "Sin Monto Dos"]
    for n, t in zip(nombres, telefonos, strict=True):
        filas.append(f'"{n}",{t.removeprefix("+52")},{"" if n.startswith("Sin") else "1500"}')
    imp = _subir(panel, "Incompletos noviembre", filas)
    plantilla = panel.api(
        "POST", "/api/plantillas", {"nombre": "Con monto", "variantes": ["Hola {nombre}, su saldo es {monto}."]}
    )
    campana = panel.api(
        "POST",
        "/api/campana",
        {"nombre": "Con datos faltantes", "carteraId": imp["cartera_id"], "plantillaId": plantilla["id"]},
    )
    panel.ir(f"/campanas/{campana['id']}")
    pagina = panel.pagina
    pagina.get_by_test_id("lanzar").click()
    resumen = pagina.get_by_test_id("resumen-lanzamiento")
    resumen.wait_for(timeout=20_000)
    texto = resumen.inner_text()
    # The dialog explains in words and names the people, never ids or the API's flag.
    assert "3 mensajes listos" in texto
    assert "2 contactos no tienen los datos" in texto
    assert "Sin Monto Uno" in texto and "Monto:" in texto
    dialogo = pagina.get_by_role("dialog")
    assert "omitirErrores" not in dialogo.inner_text() and "contacto(s)" not in dialogo.inner_text()
    assert dialogo.get_by_test_id("corregir-cartera").is_visible()
    boton = dialogo.get_by_test_id("confirmar-lanzar")
    assert boton.inner_text() == "Enviar solo a los 3 completos"
    panel.capturar("despues-01-lanzar-incompletos")
    boton.click()
    dialogo.wait_for(state="hidden")
    # What the dialog said is what was queued.
    encolados = servidor.sql("SELECT count(*) FROM mensajes_enviados WHERE campana_id = %s", campana["id"])[0][0]
    assert encolados == 3
    servidor.datos["campana_incompletos"] = campana["id"]
    # The server's own refusal (no skip asked) speaks of people, not ids.
    otra = panel.contexto.request.post(
        servidor.url + "/api/campana",
        data={"nombre": "Otra", "carteraId": imp["cartera_id"], "plantillaId": plantilla["id"]},
        headers={"X-CSRF-Token": next(c["value"] for c in panel.contexto.cookies() if c["name"] == "enlace_csrf")},
    ).json()
    r = panel.contexto.request.post(
        servidor.url + "/api/campana/iniciar",
        data={"campanaId": otra["id"]},
        headers={"X-CSRF-Token": next(c["value"] for c in panel.contexto.cookies() if c["name"] == "enlace_csrf")},
    )
    mensaje = r.json()["error"]["mensaje"]
    assert r.status == 422 and "Sin Monto Uno" in mensaje
    assert "omitirErrores" not in mensaje and "contacto(s)" not in mensaje
    assert panel.errores == [], panel.errores


# ---- 2. Auto-assign bounds and confirmation; cartera named in Mexico City time -------------------------------------


def test_auto_asignar_con_limites_y_confirmacion(abrir_panel, admin: Panel, servidor: Servidor) -> None:
    telefonos = [f"+52558{n:07d}" for n in range(100, 106)]
    _subir(
        admin,
        "Pool e2e",
        ["nombre,telefono"] + [f"Persona {i},{t.removeprefix('+52')}" for i, t in enumerate(telefonos)],
    )
    disponibles = admin.api("GET", "/api/cartera/pool")["disponibles"]
    assert disponibles >= 6
    panel: Panel = abrir_panel()
    panel.entrar(servidor.cuentas["agente"])
    panel.ir("/carteras")
    pagina = panel.pagina
    cantidad = pagina.get_by_test_id("cantidad-pool")
    boton = pagina.get_by_role("button", name="Asignarme contactos")
    for escrito, aviso in (("0", "La cantidad mínima es 1."), ("99999", f"Como máximo {disponibles:,}")):
        cantidad.fill(escrito)
        pagina.get_by_text(aviso).wait_for()
        assert boton.is_disabled()
    cantidad.fill("-5")
    assert cantidad.input_value() in ("5", "")  # negatives cannot be typed
    cantidad.fill("2")
    boton.click()
    confirmacion = pagina.get_by_test_id("dialogo-confirmar")
    confirmacion.get_by_test_id("consecuencia-pool").wait_for()
    assert (
        f"El pool tiene {disponibles} contactos disponibles; quedarían {disponibles - 2}" in confirmacion.inner_text()
    )
    panel.capturar("despues-02-auto-asignar-confirmacion")
    # «No, volver» changes nothing.
    pagina.get_by_role("button", name="No, volver").click()
    assert admin.api("GET", "/api/cartera/pool")["disponibles"] == disponibles
    boton.click()
    pagina.get_by_role("button", name="Sí, asignar 2 contactos").click()
    pagina.get_by_text("Se asignaron 2 contactos.").wait_for()
    # The new cartera carries Mexico City's time, the one on the agent's wall clock.
    ahora = _ahora_servidor(panel).astimezone(MX)
    nombre = servidor.sql(
        "SELECT nombre FROM carteras WHERE fuente = 'auto_asignacion' AND agente_id = %s ORDER BY id DESC LIMIT 1",
        servidor.cuentas["agente"].agente_id,
    )[0][0]
    momento = datetime.strptime(nombre.removeprefix("Auto-asignación "), "%d/%m/%Y %H:%M").replace(tzinfo=MX)
    assert abs((ahora - momento).total_seconds()) < 3 * 3600 and momento.date() == ahora.date(), (nombre, ahora)
    assert abs((ahora - momento).total_seconds()) < 45 * 60, (nombre, ahora)  # not 6 h off (UTC)
    pagina.get_by_test_id("tabla-carteras").get_by_text(nombre).wait_for()


# ---- 3. Setting bounds said before saving --------------------------------------------------------------------------


def test_ajustes_con_limites_visibles(admin: Panel) -> None:
    admin.ir("/admin/configuracion")
    pagina = admin.pagina
    frecuencia = pagina.get_by_test_id("ajuste-frecuencia")
    frecuencia.fill("0")
    pagina.get_by_text("Con 0 ninguna campaña podría enviar.").wait_for()
    assert pagina.get_by_test_id("guardar-ajustes").is_disabled()
    frecuencia.fill("3")
    pagina.get_by_test_id("ajuste-retencion").fill("0")
    pagina.get_by_text("Entre 30 y 3650.").wait_for()
    pagina.get_by_test_id("ajuste-hora-min").fill("5")
    pagina.get_by_text("La ley no permite antes de las 07:00.").wait_for()
    assert pagina.get_by_test_id("guardar-ajustes").is_disabled()
    admin.capturar("despues-03-ajustes-limites")
    admin.ir("/admin/configuracion")  # leave the settings as they were


# ---- 4. Every status says why; honest ETA --------------------------------------------------------------------------


def test_campana_fuera_de_horario_dice_cuando_reanuda(abrir_panel, admin: Panel, servidor: Servidor) -> None:
    ahora = _ahora_servidor(admin).astimezone(MX)
    # A window that starts a few hours from now (or tomorrow morning when the simulated day is late).
    inicio = ahora.hour + 3 if ahora.hour + 5 <= 21 else 7
    fin = inicio + 2
    perfil = admin.api(
        "POST",
        "/api/perfiles-envio",
        {
            "nombre": f"Tarde {secrets.token_hex(2)}",
            "config": {"hora_inicio": f"{inicio:02d}:00", "hora_fin": f"{fin:02d}:00"},
        },
    )
    agente = servidor.cuentas["agente"]
    panel: Panel = abrir_panel()
    panel.entrar(agente)
    telefonos = _telefonos(3, 5598770000)
    _conectar(panel, agente)
    imp = _subir(
        panel, "Tarde", ["nombre,telefono"] + [f"Tarde {i},{t.removeprefix('+52')}" for i, t in enumerate(telefonos)]
    )
    plantilla = panel.api("POST", "/api/plantillas", {"nombre": "Breve", "variantes": ["Hola {nombre}."]})
    campana = panel.api(
        "POST",
        "/api/campana",
        {
            "nombre": "Por la tarde",
            "carteraId": imp["cartera_id"],
            "plantillaId": plantilla["id"],
            "perfilId": perfil["id"],
        },
    )
    panel.api("POST", "/api/campana/iniciar", {"campanaId": campana["id"]})
    panel.ir(f"/campanas/{campana['id']}")
    motivo = panel.pagina.get_by_test_id("motivo-campana")
    motivo.wait_for(timeout=20_000)
    texto = motivo.inner_text()
    reanuda = f"reanuda {'mañana ' if inicio == 7 else ''}a las {inicio:02d}:00"
    assert "Fuera de horario" in texto and reanuda in texto, texto
    # The ETA follows the profile: not before the window opens.
    eta = panel.pagina.get_by_test_id("eta-campana").inner_text()
    m = re.search(r"(\d{1,2}):\d{2}\s*([ap])\.\s*m\.", eta)
    assert m, eta
    hora_eta = int(m.group(1)) % 12 + (12 if m.group(2) == "p" else 0)
    assert inicio <= hora_eta <= fin, eta
    panel.capturar("despues-04-campana-fuera-de-horario")


# ---- 5. Pairing code: badge, countdown, expiry notice; 8. voluntary unlink on the wall -----------------------------


def test_codigo_de_emparejamiento_vence_con_aviso_y_desvincular_no_es_alarma(
    abrir_panel, admin: Panel, servidor: Servidor
) -> None:
    cuenta = _agente_nuevo(admin, servidor, "beto_e2e", "Alberto Núñez")
    panel: Panel = abrir_panel()
    panel.entrar(cuenta)
    pagina = panel.pagina
    pagina.locator("label", has_text="Código de emparejamiento").click()
    pagina.get_by_label("Tu número de WhatsApp").fill("55 4321 8765")
    pagina.get_by_role("button", name="Obtener código").click()
    pagina.get_by_test_id("codigo-emparejamiento").wait_for(timeout=20_000)
    assert pagina.get_by_test_id("insignia-sesion").inner_text().strip().lower() == "esperando código"
    assert "Vence en" in pagina.get_by_test_id("vigencia-codigo").inner_text()
    panel.capturar("despues-05-codigo-emparejamiento")
    # Nobody types it: the link attempt ends and the panel says so (no silent return to «Desconectada»).
    aviso = pagina.get_by_test_id("aviso-vencido")
    aviso.wait_for(timeout=200_000)  # the attempt lasts 160 real seconds (60 s + 5 × 20 s), as on WhatsApp
    assert "venció sin usarse" in aviso.inner_text()
    assert pagina.get_by_test_id("codigo-emparejamiento").count() == 0
    panel.capturar("despues-05b-codigo-vencido")

    # Link by QR, then unlink on purpose with the app's own dialog.
    pagina.locator("label", has_text="Código QR").click()
    pagina.get_by_test_id("boton-conectar").click()
    pagina.get_by_test_id("qr-imagen").wait_for()
    panel.api("POST", f"/api/simulador/{cuenta.agente_id}/escanear", {})
    pagina.locator('[data-testid="tarjeta-sesion"][data-estado="conectada"]').wait_for(timeout=30_000)
    pagina.get_by_role("button", name="Desvincular").click()
    dialogo = pagina.get_by_test_id("dialogo-confirmar")
    assert "dejan de enviar" in dialogo.inner_text()
    panel.capturar("despues-08a-confirmar-desvincular")
    dialogo.get_by_role("button", name="Sí, desvincular").click()
    pagina.locator('[data-testid="tarjeta-sesion"][data-estado="sesion_cerrada"]').wait_for(timeout=20_000)
    assert panel.dialogos == []

    supervisor: Panel = abrir_panel(ancho=1600, alto=1000)
    supervisor.entrar(servidor.cuentas["supervisor"])
    muro = supervisor.pagina
    muro.get_by_placeholder("Buscar agente o número").fill("alberto nunez")  # no accents needed
    tarjeta = muro.locator(f'[data-testid="tarjeta-agente"][data-agente="{cuenta.agente_id}"]')
    tarjeta.wait_for()
    esperar(lambda: muro.get_by_test_id("avisos-desvinculo").count() == 1, 20, "no apareció el aviso gris")
    assert "Alberto Núñez desvinculó su WhatsApp" in muro.get_by_test_id("avisos-desvinculo").inner_text()
    assert "desvinculada" in tarjeta.inner_text().lower() and "parada" not in tarjeta.inner_text().lower()
    paradas = muro.get_by_test_id("paradas")
    assert paradas.count() == 0 or "Alberto" not in paradas.inner_text()
    # One clock: nothing on the wall is "in the future".
    assert "dentro de" not in muro.get_by_role("main").inner_text()
    supervisor.capturar("despues-08b-muro-desvinculo-voluntario")
    servidor.datos["beto"] = cuenta


# ---- 6. Search the way people type ---------------------------------------------------------------------------------


def test_busqueda_sin_acentos_y_por_digitos(abrir_panel, servidor: Servidor) -> None:
    panel: Panel = abrir_panel()
    panel.entrar(servidor.cuentas["agente"])
    pagina = panel.pagina
    panel.ir("/carteras")
    pagina.get_by_role("tab", name=re.compile("Contactos")).click()
    tabla = pagina.get_by_test_id("tabla-contactos")
    buscar = pagina.get_by_test_id("buscar-contacto")
    buscar.fill("nunez")
    tabla.get_by_text("Ramón Núñez").wait_for()
    telefono = servidor.sql("SELECT telefono FROM contactos WHERE nombre = 'Ramón Núñez'")[0][0]
    nacional = telefono.removeprefix("+52")
    buscar.fill(f"{nacional[:2]} {nacional[2:6]}")  # «55 1234»
    tabla.get_by_text("Ramón Núñez").wait_for()
    panel.capturar("despues-06a-busqueda-contactos")
    panel.cerrar()

    supervisor: Panel = abrir_panel()
    supervisor.entrar(servidor.cuentas["supervisor"])
    pagina = supervisor.pagina
    supervisor.ir("/mensajes?desde=2026-01-01&hasta=2027-12-31&campanaId=abc")
    invalido = pagina.get_by_test_id("filtro-invalido")
    invalido.wait_for()
    assert "«abc» no es válido" in invalido.inner_text()
    numero = pagina.get_by_test_id("filtro-numero")
    numero.fill("55")
    pagina.get_by_text("Escribe al menos 4 dígitos para buscar.").wait_for()
    pagina.wait_for_timeout(600)
    # Typing a partial number is not an error.
    assert pagina.get_by_role("alert").count() == 0
    destino = servidor.datos["telefonos"][0].removeprefix("+52")
    numero.fill(f"{destino[:2]} {destino[2:6]}")
    tabla = pagina.get_by_test_id("tabla-bitacora")
    esperar(lambda: tabla.count() == 1 and destino[-4:] in tabla.inner_text(), 20, "no encontró por dígitos")
    assert pagina.get_by_role("alert").count() == 0
    supervisor.capturar("despues-06b-bitacora-numero-parcial")


# ---- 7. Words, not codes -------------------------------------------------------------------------------------------


def test_textos_para_personas(admin: Panel) -> None:
    pagina = admin.pagina
    admin.ir("/admin/supresiones")
    pagina.get_by_role("textbox", name="Teléfono", exact=True).fill("123")
    pagina.get_by_label("Motivo").first.fill("Prueba de un número corto")
    pagina.get_by_role("button", name="Suprimir").click()
    esperar(lambda: "Teléfono:" in pagina.inner_text("body"), 10, "el error no nombra el campo en español")
    assert "telefono:" not in pagina.inner_text("body")
    admin.ir("/admin/perfiles")
    pagina.get_by_role("button", name=re.compile("Nuevo perfil")).click()
    dialogo = pagina.get_by_role("dialog")
    dialogo.get_by_label("Mensajes por hora: máximo").wait_for()
    assert dialogo.get_by_label("máx.", exact=True).count() == 0
    # The panel's own time fields (24 h), never the browser's «01:00 PI».
    assert dialogo.locator('input[type="time"]').count() == 0
    dialogo.get_by_label("Envía desde: hora").wait_for()
    admin.capturar("despues-07-perfil-etiquetas")
    pagina.keyboard.press("Escape")


# ---- 8. Agent page from the wall; 9. users screen ------------------------------------------------------------------


def test_tarjeta_abre_la_pagina_del_agente_y_usuarios(abrir_panel, admin: Panel, servidor: Servidor) -> None:
    agente = servidor.cuentas["agente"]
    # Users: the team column shows the agent's team; a rename reaches the wall.
    admin.ir("/admin/usuarios")
    fila = admin.pagina.get_by_role("row").filter(has_text=agente.usuario)
    fila.wait_for()
    assert "Equipo Norte" in fila.inner_text()
    admin.capturar("despues-09-usuarios-equipo")
    admin.api("PATCH", f"/api/usuarios/{agente.id}", {"nombre": "Ana María Agente"})

    supervisor: Panel = abrir_panel(ancho=1600, alto=1000)
    supervisor.entrar(servidor.cuentas["supervisor"])
    pagina = supervisor.pagina
    tarjeta = pagina.locator(f'[data-testid="tarjeta-agente"][data-agente="{agente.agente_id}"]')
    tarjeta.wait_for()
    assert "Ana María Agente" in tarjeta.inner_text()
    tarjeta.click()
    pagina.wait_for_url(re.compile(rf"/agentes/{agente.agente_id}$"))
    pagina.get_by_role("heading", name="Ana María Agente").wait_for()
    for seccion in ("agente-sesion", "agente-campanas", "agente-conversaciones"):
        pagina.get_by_test_id(seccion).wait_for()
    pagina.get_by_test_id("agente-campanas").get_by_text("Pensionados — noviembre").wait_for()
    pagina.get_by_test_id("agente-salud").wait_for()  # this agent sent today: the section has data
    assert "Sin datos" not in pagina.get_by_test_id("agente-salud").inner_text()
    supervisor.capturar("despues-08c-pagina-agente")
    # An agent with no sends has no health section at all (no placeholders).
    beto = servidor.datos.get("beto")
    if beto:
        supervisor.ir(f"/agentes/{beto.agente_id}")
        pagina.get_by_test_id("agente-sesion").wait_for()
        pagina.wait_for_load_state("networkidle")
        assert pagina.get_by_test_id("agente-salud").count() == 0
    admin.api("PATCH", f"/api/usuarios/{agente.id}", {"nombre": agente.nombre})


# ---- 10. The app's own confirmations; past start dates; the audit log ----------------------------------------------


def test_confirmaciones_fechas_pasadas_y_auditoria(abrir_panel, admin: Panel, servidor: Servidor) -> None:
    agente = servidor.cuentas["agente"]
    panel: Panel = abrir_panel()
    panel.entrar(agente)
    pagina = panel.pagina
    campana_id = servidor.datos["campana_incompletos"]
    panel.ir(f"/campanas/{campana_id}")
    cancelar = pagina.get_by_test_id("cancelar")
    if cancelar.count():  # still sending: cancelling asks in the app's words
        cancelar.click()
        dialogo = pagina.get_by_test_id("dialogo-confirmar")
        assert "no se puede reanudar" in dialogo.inner_text()
        pagina.get_by_role("button", name="No, seguir enviando").click()
        dialogo.wait_for(state="hidden")
        assert servidor.sql("SELECT estado FROM campanas WHERE id = %s", campana_id)[0][0] != "cancelada"
        cancelar.click()
        panel.capturar("despues-10a-confirmar-cancelar")
        pagina.get_by_role("button", name="Sí, cancelar la campaña").click()
        esperar(lambda: servidor.sql("SELECT estado FROM campanas WHERE id = %s", campana_id)[0][0] == "cancelada", 15)
    assert panel.dialogos == []

    # A start in the past is refused by the server and cannot be picked in the panel.
    cartera = servidor.sql("SELECT cartera_id FROM campanas WHERE id = %s", campana_id)[0][0]
    token = next(c["value"] for c in panel.contexto.cookies() if c["name"] == "enlace_csrf")
    r = panel.contexto.request.post(
        servidor.url + "/api/campana",
        data={"nombre": "Del pasado", "carteraId": cartera, "inicioProgramado": "2020-01-06T10:00:00"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status == 422 and "ya pasó" in r.json()["error"]["mensaje"]
    panel.ir("/campanas")
    pagina.get_by_test_id("nueva-campana").click()
    pagina.get_by_test_id("inicio-programado").click()
    ayer = (_ahora_servidor(panel).astimezone(MX) - timedelta(days=1)).strftime("%-d %B %Y")
    dia = pagina.locator(f'button[aria-label*="{ayer}"]')
    if dia.count():
        assert dia.first.is_disabled() or dia.first.get_attribute("data-disabled") == "true"
    panel.capturar("despues-10b-fecha-inicio", revisar=False)
    pagina.keyboard.press("Escape")

    # The audit log shows what agents did, in words, and finds it by text.
    admin.ir("/admin/auditoria")
    tabla = admin.pagina.get_by_test_id("tabla-auditoria")
    tabla.wait_for()
    for accion in ("Lanzó una campaña", "Subió una cartera", "Desvinculó su WhatsApp", "Tomó contactos del pool"):
        esperar(lambda a=accion: tabla.get_by_text(a).count() >= 1, 10, f"falta en la auditoría: {accion}")
    admin.pagina.get_by_test_id("buscar-auditoria").fill("lanzo")
    esperar(
        lambda: (
            tabla.get_by_text("Lanzó una campaña").count() >= 1 and tabla.get_by_text("Subió una cartera").count() == 0
        ),
        10,
        "la búsqueda por texto no filtró",
    )
    admin.capturar("despues-10c-auditoria-busqueda")


# ---- Also: 390 px --------------------------------------------------------------------------------------------------


def test_pantalla_de_telefono_390px(abrir_panel, servidor: Servidor) -> None:
    panel: Panel = abrir_panel(ancho=390, alto=844)
    pagina = panel.pagina
    panel.ir("/login")
    panel.capturar("despues-11a-login-390")
    panel.entrar(servidor.cuentas["agente"])
    salir = pagina.get_by_role("button", name="Salir")
    caja = salir.bounding_box()
    assert caja and caja["x"] + caja["width"] <= 390, caja
    assert salir.inner_text().strip() == "Salir"
    contacto = servidor.sql(
        "SELECT contacto_id FROM mensajes_recibidos WHERE agente_id = %s ORDER BY id DESC LIMIT 1",
        servidor.cuentas["agente"].agente_id,
    )[0][0]
    panel.ir(f"/bandeja/{contacto}")
    respuesta = pagina.get_by_role("textbox", name="Respuesta")
    respuesta.wait_for()
    caja = respuesta.bounding_box()
    assert caja and caja["y"] + caja["height"] <= 844, caja  # the reply box is on screen, not below the fold
    panel.capturar("despues-11b-bandeja-390")
    panel.ir("/campanas")
    pagina.get_by_test_id("tabla-campanas").wait_for()
    panel.capturar("despues-11c-campanas-390")
