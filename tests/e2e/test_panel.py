"""The panel in headless Chromium against the real server: an agent's working day, the supervisor's view, admin screens.

The tests run in order on one server (the supervisor looks at what the agent did). Screenshots of every main
screen land in tests/e2e/capturas/.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from enlace.motores.simulador.perfiles import perfil_para

from .conftest import Panel, Servidor, esperar

pytestmark = pytest.mark.e2e

XSS_NOMBRE = "<img src=x onerror=alert(1)>"
XSS_MENSAJE = "<script>alert('xss')</script> ¿Me pueden marcar mañana?"


def _telefonos_en_linea(cantidad: int, semilla: int = 7) -> list[str]:
    """Virtual people who are on WhatsApp and online, so the campaign completes without waiting hours."""
    elegidos = []
    n = 5512340000
    while len(elegidos) < cantidad:
        n += 1
        tel = f"+52{n}"
        p = perfil_para(semilla, tel)
        if p.en_whatsapp and p.horas_fuera_de_linea == 0 and p.disposicion.value != "baja":
            elegidos.append(tel)
    return elegidos


def _csv_cartera(telefonos: list[str]) -> bytes:
    filas = ["nombre,telefono,monto,tipo_credito,estado"]
    nombres = ["María López", XSS_NOMBRE, "José Hernández", "Guadalupe Ramírez", "Juan Pérez"]
    for nombre, tel in zip(nombres, telefonos, strict=False):
        nacional = tel.removeprefix("+52")
        # Real-world shapes: spaces, dashes, a leading 044.
        escrito = {0: f"{nacional[:2]} {nacional[2:6]} {nacional[6:]}", 1: f"044{nacional}"}.get(
            len(filas) - 1, f"{nacional[:3]}-{nacional[3:6]}-{nacional[6:]}"
        )
        filas.append(f'"{nombre}",{escrito},"25,000.00",pension,CDMX')
    filas.append('"Fila Mala",5.51234E+09,1000,pension,CDMX')  # spreadsheet notation: digits lost
    return ("\n".join(filas) + "\n").encode("utf-8")


def test_agente_vincula_sube_cartera_lanza_campana_y_recibe_respuesta(abrir_panel, servidor: Servidor) -> None:
    agente = servidor.cuentas["agente"]
    panel: Panel = abrir_panel()
    pagina = panel.pagina

    # Login screen, keyboard only: type, Tab, type, Enter.
    panel.ir("/")
    pagina.get_by_label("Usuario").wait_for()
    panel.capturar("01-login")
    pagina.get_by_label("Usuario").fill(agente.usuario)
    pagina.keyboard.press("Tab")
    pagina.keyboard.type(agente.password)
    pagina.keyboard.press("Enter")
    pagina.get_by_test_id("usuario-actual").wait_for()
    assert pagina.get_by_test_id("usuario-actual").inner_text() == agente.nombre
    # Agents land on "Conectar WhatsApp" and see no supervision menu.
    pagina.wait_for_url(re.compile(r"/whatsapp$"))
    assert pagina.get_by_role("link", name="Muro de agentes").count() == 0
    pagina.get_by_text("En vivo").wait_for()

    # Link through the simulator: the QR is drawn as an image, the virtual phone scans it.
    pagina.get_by_test_id("boton-conectar").click()
    qr = pagina.get_by_test_id("qr-imagen")
    qr.wait_for()
    valor_qr = qr.get_attribute("data-qr")
    assert valor_qr and len(valor_qr) > 20
    assert (qr.get_attribute("src") or "").startswith("data:image/png;base64,")
    panel.capturar("02-agente-qr")
    # QR refs expire (the first after 60 real seconds at any simulator speed, as on WhatsApp): the image
    # is redrawn with each new one.
    esperar(lambda: qr.get_attribute("data-qr") != valor_qr, 75, "el QR no se renovó")
    panel.api("POST", f"/api/simulador/{agente.agente_id}/escanear", {})
    pagina.locator('[data-testid="tarjeta-sesion"][data-estado="conectada"]').wait_for(timeout=30_000)
    assert pagina.get_by_text("Tu WhatsApp está conectado").is_visible()
    # The agent's own number is captured on connect and shown.
    esperar(lambda: re.search(r"\+52 \d{2} \d{4} \d{4}", pagina.get_by_test_id("numero-wa").inner_text()), 15)
    panel.capturar("03-agente-conectado")

    # Upload a cartera by the file input behind the drop zone; the report explains the rejected row.
    telefonos = _telefonos_en_linea(5)
    servidor.datos["telefonos"] = telefonos
    pagina.get_by_role("link", name="Carteras").click()
    pagina.get_by_test_id("entrada-archivo").set_input_files(
        {"name": "pensionados.csv", "mimeType": "text/csv", "buffer": _csv_cartera(telefonos)}
    )
    pagina.get_by_label("Nombre de la cartera").fill("Pensionados CDMX")
    pagina.get_by_test_id("boton-subir").click()
    reporte = pagina.get_by_test_id("reporte-validacion")
    reporte.wait_for(timeout=30_000)
    filas_rechazadas = pagina.get_by_test_id("filas-rechazadas")
    filas_rechazadas.wait_for()
    assert "5.51234E+09" in filas_rechazadas.inner_text()
    assert pagina.get_by_test_id("tabla-carteras").get_by_text("Pensionados CDMX").is_visible()
    pagina.get_by_role("tab", name=re.compile("Contactos")).click()
    tabla = pagina.get_by_test_id("tabla-contactos")
    tabla.wait_for()
    # The name from the CSV is shown as text: no <img> element was created from it.
    assert tabla.get_by_text(XSS_NOMBRE, exact=True).is_visible()
    assert pagina.locator('img[src="x"]').count() == 0
    panel.capturar("04-agente-carteras")

    # A template with a live preview on the real contacts, then a campaign.
    pagina.get_by_role("link", name="Campañas").click()
    pagina.get_by_test_id("pestana-plantillas").click()
    pagina.get_by_test_id("nueva-plantilla").click()
    dialogo = pagina.get_by_role("dialog")
    dialogo.get_by_label("Nombre").fill("Oferta pensión")
    dialogo.get_by_label("Variante 1").fill(
        "{saludo} {nombre}, le escribe Ana de Financiera Enlace: tiene un crédito disponible por {monto}. "
        "¿Le interesa? Responda BAJA si no desea más mensajes."
    )
    previa = dialogo.get_by_test_id("vista-previa")
    previa.wait_for(timeout=20_000)
    assert "$25,000.00" in previa.inner_text()
    panel.capturar("05-agente-plantilla")
    dialogo.get_by_role("button", name="Guardar plantilla").click()
    dialogo.wait_for(state="hidden")

    pagina.get_by_role("tab", name="Campañas").click()
    pagina.get_by_test_id("nueva-campana").click()
    dialogo = pagina.get_by_role("dialog")
    dialogo.get_by_label("Nombre de la campaña").fill("Pensionados — noviembre")
    dialogo.get_by_label(re.compile(r"^Cartera")).click()
    pagina.get_by_role("option", name=re.compile("Pensionados CDMX")).click()
    dialogo.get_by_label(re.compile(r"^Plantilla")).click()
    pagina.get_by_role("option", name=re.compile("Oferta pensión")).click()
    dialogo.get_by_test_id("vista-previa").wait_for(timeout=20_000)
    panel.capturar("06-agente-nueva-campana")
    dialogo.get_by_test_id("crear-campana").click()
    pagina.wait_for_url(re.compile(r"/campanas/\d+$"))
    campana_id = int(pagina.url.rsplit("/", 1)[1])
    servidor.datos["campana_id"] = campana_id

    pagina.get_by_test_id("lanzar").click()
    pagina.get_by_role("dialog").get_by_test_id("vista-previa").wait_for(timeout=20_000)
    pagina.get_by_test_id("confirmar-lanzar").click()
    # Live progress: every message goes out (the simulator's clock runs 60x).
    esperar(
        lambda: "5 de 5 mensajes procesados" in pagina.get_by_test_id("texto-avance").inner_text(),
        120,
        "la campaña no terminó de enviar",
    )
    enviados = servidor.sql(
        "SELECT count(*) FROM mensajes_enviados WHERE campana_id = %s AND estado IN ('enviado','entregado','leido')",
        campana_id,
    )[0][0]
    assert enviados == 5
    panel.capturar("07-agente-campana")

    # A contact answers (with a script tag); it arrives in the inbox live, rendered as plain text.
    pagina.get_by_role("link", name="Bandeja").click()
    pagina.get_by_role("heading", name="Bandeja").wait_for()
    panel.api("POST", f"/api/simulador/{agente.agente_id}/recibir", {"telefono": telefonos[1], "texto": XSS_MENSAJE})
    conversacion = pagina.get_by_test_id("conversacion").filter(has_text=XSS_NOMBRE)
    conversacion.wait_for(timeout=30_000)
    assert conversacion.get_by_label(re.compile("sin leer")).count() == 1
    conversacion.click()
    entrante = pagina.get_by_test_id("mensaje-entrante").filter(has_text="¿Me pueden marcar mañana?")
    entrante.wait_for()
    assert "<script>alert('xss')</script>" in entrante.inner_text()
    assert pagina.get_by_test_id("hilo-nombre").inner_text() == XSS_NOMBRE
    assert pagina.locator("script", has_text="alert('xss')").count() == 0
    assert pagina.locator('img[src="x"]').count() == 0

    # Reply from the inbox: it goes out through the agent's session and appears in the thread.
    pagina.get_by_role("textbox", name="Respuesta").fill("Con gusto, ¿a qué hora le marco?")
    pagina.keyboard.press("Enter")
    pagina.get_by_test_id("mensaje-saliente").filter(has_text="¿a qué hora le marco?").wait_for()
    panel.capturar("08-agente-bandeja")
    assert panel.dialogos == [], f"se abrió un diálogo (¿XSS?): {panel.dialogos}"
    assert panel.errores == [], panel.errores


def test_supervisora_ve_al_agente_en_vivo_y_exporta_la_bitacora(abrir_panel, servidor: Servidor) -> None:
    agente = servidor.cuentas["agente"]
    # A full contact center: 209 more agents in the supervisor's team (the wall must stay light).
    equipo = servidor.sql("SELECT equipo_id FROM agentes WHERE id = %s", agente.agente_id)[0][0]
    servidor.sql(
        "INSERT INTO agentes (nombre, equipo_id, activo) "
        "SELECT 'Agente ' || lpad(g::text, 3, '0'), %s, true FROM generate_series(1, 209) AS g",
        equipo,
    )
    panel: Panel = abrir_panel(ancho=1920, alto=1080)
    pagina = panel.pagina
    panel.entrar(servidor.cuentas["supervisor"])
    pagina.wait_for_url(re.compile(r"/muro$"))

    tarjeta = pagina.locator(f'[data-testid="tarjeta-agente"][data-agente="{agente.agente_id}"]')
    tarjeta.wait_for()
    assert tarjeta.get_attribute("data-estado") == "conectada"
    assert "Ana Agente" in tarjeta.inner_text()
    # Other e2e files may have added agents to this team (an official line bound to a team queue is one).
    total = servidor.sql("SELECT count(*) FROM agentes WHERE equipo_id = %s", equipo)[0][0]
    assert total >= 210, total
    assert f"1 de {total} agentes conectados" in pagina.get_by_role("main").inner_text()
    # Virtualized: only the rows on screen are in the DOM, and scrolling reaches the last agent.
    en_dom = pagina.get_by_test_id("tarjeta-agente").count()
    assert 0 < en_dom < total, en_dom
    panel.capturar("09-supervisor-muro")
    pagina.get_by_test_id("muro-agentes").evaluate("e => e.scrollTo(0, e.scrollHeight)")
    pagina.get_by_test_id("tarjeta-agente").filter(has_text="Agente 209").wait_for()
    pagina.get_by_test_id("muro-agentes").evaluate("e => e.scrollTo(0, 0)")
    pagina.get_by_placeholder("Buscar agente o número").fill("Ana")
    esperar(lambda: pagina.get_by_test_id("tarjeta-agente").count() == 1, 5, "la búsqueda no filtró el muro")
    pagina.get_by_placeholder("Buscar agente o número").fill("")

    # Live: the agent's session drops (simulated network cut) and the wall shows it without reloading.
    panel_agente: Panel = abrir_panel()
    panel_agente.entrar(agente)
    panel_agente.api("POST", f"/api/simulador/{agente.agente_id}/fallo", {"tipo": "desconexion", "caida_s": 600})
    esperar(lambda: tarjeta.get_attribute("data-estado") != "conectada", 20, "el muro no mostró la desconexión")
    esperar(lambda: tarjeta.get_attribute("data-estado") == "conectada", 60, "el muro no mostró la reconexión")

    # The stop for the lost session lifts itself once the session is back.
    activas = "SELECT count(*) FROM paradas_seguridad WHERE agente_id = %s AND resuelta_at IS NULL"
    esperar(lambda: servidor.sql(activas, agente.agente_id) == [(0,)], 20, "la parada por sesión perdida siguió")

    # A safety stop (WhatsApp's second capping warning): the wall and the campaign show why sending stopped.
    panel_agente.api("POST", f"/api/simulador/{agente.agente_id}/fallo", {"tipo": "capping", "nivel": "segundo_aviso"})
    paradas = pagina.get_by_test_id("paradas")
    paradas.wait_for(timeout=20_000)
    esperar(lambda: "límite de chats nuevos" in paradas.inner_text(), 10, "el muro no mostró el motivo")
    assert tarjeta.get_by_text("Parada").is_visible()
    panel.capturar("09b-supervisor-muro-parada")
    pagina.goto(f"{servidor.url}/campanas/{servidor.datos['campana_id']}")
    aviso = pagina.get_by_test_id("parada-seguridad")
    aviso.wait_for()
    assert "límite de chats nuevos" in aviso.inner_text()
    aviso.get_by_role("button", name="Reanudar envíos").click()
    aviso.wait_for(state="hidden")
    assert servidor.sql(activas, agente.agente_id) == [(0,)]

    # The message log with the report filters, then the export.
    pagina.get_by_role("link", name="Bitácora de mensajes").click()
    tabla = pagina.get_by_test_id("tabla-bitacora")
    pagina.goto(f"{servidor.url}/mensajes?agenteId={agente.agente_id}&desde=2026-01-01&hasta=2027-12-31")
    tabla.wait_for()
    assert tabla.locator("tbody tr").count() >= 5
    panel.capturar("10-supervisor-bitacora")
    pagina.get_by_test_id("boton-exportar").click()
    with pagina.expect_download() as descarga:
        pagina.get_by_test_id("exportar-csv").click()
    contenido = open(descarga.value.path(), encoding="utf-8-sig").read()
    filas = list(csv.reader(io.StringIO(contenido)))
    assert len(filas) >= 6, contenido[:500]
    destinos = {c for fila in filas[1:] for c in fila}
    assert any(servidor.datos["telefonos"][0] in c for c in destinos)

    # The conversation viewer (read-only for supervisors) and the campaign, then the charts.
    pagina.get_by_role("link", name="Conversaciones").click()
    pagina.get_by_test_id("conversacion").first.click()
    pagina.get_by_text("Vista de supervisión: solo lectura.").wait_for()
    panel.capturar("11-supervisor-conversacion")
    # Carteras of the team: contacts can be selected for reassignment.
    pagina.get_by_role("link", name="Carteras").click()
    pagina.get_by_role("tab", name=re.compile("Contactos")).click()
    pagina.get_by_test_id("tabla-contactos").get_by_role("checkbox").nth(1).check()
    pagina.get_by_role("combobox", name="Reasignar a").wait_for()
    panel.capturar("11b-supervisor-carteras")
    pagina.goto(f"{servidor.url}/campanas/{servidor.datos['campana_id']}")
    pagina.get_by_test_id("texto-avance").wait_for()
    panel.capturar("12-supervisor-campana")
    pagina.get_by_role("link", name="Gráficas").click()
    pagina.get_by_role("heading", name="Volumen diario").wait_for()
    pagina.locator(".recharts-surface").first.wait_for()
    panel.capturar("13-supervisor-graficas")
    assert panel.errores == [], panel.errores


def test_administracion_y_auditoria_de_la_exportacion(abrir_panel, servidor: Servidor) -> None:
    panel: Panel = abrir_panel()
    pagina = panel.pagina
    panel.entrar(servidor.cuentas["admin"])
    pantallas = [
        ("/admin/usuarios", "Usuarios y equipos", "14-admin-usuarios"),
        ("/admin/perfiles", "Perfiles de envío", "15-admin-perfiles"),
        ("/admin/supresiones", "Lista de supresión", "16-admin-supresiones"),
        ("/admin/configuracion", "Privacidad y cumplimiento", "17-admin-configuracion"),
        ("/admin/webhooks", "Webhooks del CRM", "18-admin-webhooks"),
        ("/admin/tokens", "Tokens de API", "19-admin-tokens"),
    ]
    for ruta, titulo, captura in pantallas:
        panel.ir(ruta)
        pagina.get_by_role("heading", name=titulo, exact=True).wait_for()
        pagina.wait_for_load_state("networkidle")
        panel.capturar(captura)

    # The contact hours come from the server (enlace.comun.horario), not from text written into the panel.
    panel.ir("/admin/configuracion")
    horario = pagina.get_by_test_id("horario-contacto")
    horario.wait_for()
    assert "07:00 a 22:00" in horario.inner_text() and "estado" in horario.inner_text()

    # Suppress a number by hand: it shows in the list.
    panel.ir("/admin/supresiones")
    pagina.get_by_role("textbox", name="Teléfono", exact=True).fill("55 9876 5432")
    pagina.get_by_label("Motivo").first.fill("Pidió por teléfono no recibir mensajes")
    pagina.get_by_role("button", name="Suprimir").click()
    pagina.get_by_test_id("tabla-supresiones").get_by_text("+52 55 9876 5432").wait_for()

    # The supervisor's export is in the audit log.
    panel.ir("/admin/auditoria")
    tabla = pagina.get_by_test_id("tabla-auditoria")
    tabla.wait_for()
    # In words, not codes: the action reads «Exportó la bitácora de mensajes».
    assert tabla.get_by_text("Exportó la bitácora de mensajes").count() >= 1
    assert tabla.get_by_text("reportes.exportar").count() == 0
    panel.capturar("20-admin-auditoria")
    assert panel.errores == [], panel.errores


def test_sesion_expirada_vuelve_al_login_con_aviso(abrir_panel, servidor: Servidor) -> None:
    cuenta = servidor.cuentas["supervisor"]
    panel: Panel = abrir_panel()
    pagina = panel.pagina
    panel.entrar(cuenta)
    # The server ends every session of this user (as an admin deactivation or an expiry would).
    servidor.sql("UPDATE sesiones_usuario SET revocada_at = now() WHERE usuario_id = %s", cuenta.id)
    # The next request the panel makes (here: opening the charts) meets a 401.
    pagina.evaluate("() => document.querySelector('a[href=\"/graficas\"]')?.click()")
    pagina.wait_for_url(re.compile(r"/login$"))
    pagina.get_by_text("Tu sesión expiró o se cerró. Vuelve a iniciar sesión.").wait_for()
    panel.capturar("21-sesion-expirada")
    # Logging in again returns to the panel.
    panel.entrar(cuenta)
    assert "/login" not in pagina.url
