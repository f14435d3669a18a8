"""`enlace demo`: the whole flow on the simulator — users, a pool, carteras, a running campaign, replies, an opt-out.

The server runs exactly as `enlace serve` does (embedded PostgreSQL unless ENLACE_DATABASE_URL is set, the
`simulador` engine on an accelerated clock). A small script then drives it through the public API, as people
would: the admin fills the pool, agents take carteras, one agent's campaign starts, a contact answers and
another one asks to be removed. The newcomer links the remaining agent's number from the panel: the virtual
phone "scans" the QR a few seconds after it appears.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import structlog
import typer

from enlace.motores.simulador.perfiles import APELLIDOS, NOMBRES

log = structlog.get_logger(__name__)

ZONA = ZoneInfo("America/Mexico_City")
# A link attempt shows QRs for 160 seconds of real time (60 + 5 × 20) before it times out, as WhatsApp Web
# does (the simulator scales the QR's virtual life by the speed); the demo's virtual phone scans after a
# few real seconds, so the QR is seen before it is "scanned".
VENTANA_QR_SIMULADA_S = 160.0

ESTADOS = ("CDMX", "Jalisco", "Nuevo León", "Puebla", "Estado de México", "Veracruz", "Sonora", "Yucatán")
PLANTILLA = (
    "{saludo} {nombre}, le escribe {agente} de Financiera Enlace. Por su pensión tiene disponible un crédito de "
    "hasta {monto}. ¿Le gustaría conocer los detalles? Si no desea recibir mensajes, responda BAJA.",
    "Hola {nombre}, soy {agente} de Financiera Enlace. Usted califica para un crédito por {monto} con descuento "
    "directo a su pensión. ¿Le marco para explicarle? Responda BAJA si no quiere más mensajes.",
)


@dataclass
class CuentaDemo:
    usuario: str
    nombre: str
    rol: str
    password: str = ""
    agente_id: int | None = None


def inicio_habil(ahora: datetime) -> datetime:
    """09:00 in Mexico City today (or the next day that is not a Sunday): a whole sending window lies ahead."""
    local = ahora.astimezone(ZONA)
    dia = local.date()
    while dia.weekday() == 6:  # Sunday: no sending
        dia += timedelta(days=1)
    return datetime(dia.year, dia.month, dia.day, 9, 0, tzinfo=ZONA).astimezone(UTC)


def telefonos_demo(semilla: int, cantidad: int, desde: int) -> list[str]:
    """Virtual people who are on WhatsApp and online, so the demo moves without waiting hours of simulated time."""
    from enlace.motores.simulador.perfiles import perfil_para

    elegidos: list[str] = []
    n = desde
    while len(elegidos) < cantidad:
        n += 1
        telefono = f"+52{n}"
        perfil = perfil_para(semilla, telefono)
        if perfil.en_whatsapp and perfil.horas_fuera_de_linea == 0:
            elegidos.append(telefono)
    return elegidos


def csv_cartera(telefonos: list[str], semilla: int) -> bytes:
    rng = random.Random(semilla)
    filas = ["nombre,telefono,monto,tipo_credito,estado"]
    for telefono in telefonos:
        nacional = telefono.removeprefix("+52")
        nombre = f"{rng.choice(NOMBRES)} {rng.choice(APELLIDOS)} {rng.choice(APELLIDOS)}"
        monto = rng.randrange(8, 120) * 1000
        filas.append(f"{nombre},{nacional[:2]} {nacional[2:6]} {nacional[6:]},{monto},pension,{rng.choice(ESTADOS)}")
    return ("\n".join(filas) + "\n").encode("utf-8")


async def preparar_usuarios(database_url: str, cuentas: list[CuentaDemo]) -> None:
    """Create the demo users (one team) or, on a second run, give them fresh passwords."""
    from sqlalchemy import select

    from enlace.agentes.models import Agente, Equipo
    from enlace.auth.repository import usuario_por_nombre
    from enlace.auth.schemas import UsuarioCrear
    from enlace.auth.seguridad import hashear_password, password_aleatoria
    from enlace.auth.service import crear_usuario
    from enlace.db.sesion import crear_fabrica, crear_motor_bd

    motor = crear_motor_bd(database_url, pool_size=1, max_overflow=0)
    try:
        async with crear_fabrica(motor)() as session:
            equipo = await session.scalar(select(Equipo).where(Equipo.nombre == "Equipo Demo"))
            if equipo is None:
                equipo = Equipo(nombre="Equipo Demo")
                session.add(equipo)
                await session.flush()
            for c in cuentas:
                c.password = password_aleatoria()
                existente = await usuario_por_nombre(session, c.usuario)
                if existente is None:
                    existente = await crear_usuario(
                        session,
                        UsuarioCrear(
                            usuario=c.usuario,
                            nombre=c.nombre,
                            rol=c.rol,  # type: ignore[arg-type]
                            password=c.password,
                            equipo_id=equipo.id if c.rol != "admin" else None,
                        ),
                    )
                else:
                    existente.password_hash = hashear_password(c.password)
                    existente.activo = True
                if c.rol == "agente":
                    c.agente_id = await session.scalar(select(Agente.id).where(Agente.usuario_id == existente.id))
            await session.commit()
    finally:
        await motor.dispose()


class Guion:
    """Drives the running server through its public API, like the people in the demo would."""

    def __init__(self, url: str, cuentas: dict[str, CuentaDemo], semilla: int, velocidad: float) -> None:
        # QR lifetimes are real time at any speed: two real seconds leave the QR on screen long enough.
        self.espera_escaneo_s = min(2.0, 0.4 * VENTANA_QR_SIMULADA_S)
        del velocidad
        self.url = url
        self.cuentas = cuentas
        self.semilla = semilla
        self.clientes: dict[str, httpx.Client] = {}
        self.detener = threading.Event()

    def cliente(self, clave: str) -> httpx.Client:
        if clave not in self.clientes:
            c = httpx.Client(base_url=self.url, timeout=30)
            cuenta = self.cuentas[clave]
            r = c.post("/api/auth/login", json={"usuario": cuenta.usuario, "password": cuenta.password})
            r.raise_for_status()
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            self.clientes[clave] = c
        return self.clientes[clave]

    def pedir(self, clave: str, metodo: str, ruta: str, **kwargs: Any) -> Any:
        r = self.cliente(clave).request(metodo, ruta, **kwargs)
        if r.status_code >= 400:
            raise RuntimeError(f"{metodo} {ruta} → {r.status_code}: {r.text[:300]}")
        return r.json() if r.content and r.headers.get("content-type", "").startswith("application/json") else None

    def esperar_servidor(self) -> None:
        limite = time.monotonic() + 120
        while time.monotonic() < limite and not self.detener.is_set():
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("el servidor no respondió")

    def vincular(self, clave: str) -> None:
        agente_id = self.cuentas[clave].agente_id
        estado = self.pedir("admin", "GET", f"/api/sesion/{agente_id}")
        if estado["estado"] == "conectada":
            return
        self.pedir("admin", "POST", f"/api/sesion/conectar/{agente_id}")
        for _ in range(40):
            estado = self.pedir("admin", "GET", f"/api/sesion/{agente_id}")
            if estado["estado"] == "conectada":
                return
            if estado["estado"] == "esperando_qr":
                try:
                    self.pedir("admin", "POST", f"/api/simulador/{agente_id}/escanear", json={})
                except RuntimeError:
                    pass  # the QR changed under us: try the next one
            time.sleep(0.5)

    def sembrar(self) -> None:
        ya = self.pedir("admin", "GET", "/api/campanas")
        if ya:
            print("  La demostración ya tenía datos: se reanuda donde quedó.", flush=True)
            for clave in ("agente2", "agente3"):
                self.vincular(clave)
            return
        pool = telefonos_demo(self.semilla, 240, 5510000000)
        propios = telefonos_demo(self.semilla, 30, 5520000000)
        self.pedir(
            "admin",
            "POST",
            "/api/cartera/subir",
            data={"nombre": "Pool de la empresa — pensionados"},
            files={"archivo": ("pool.csv", csv_cartera(pool, self.semilla), "text/csv")},
        )
        self.pedir(
            "agente1",
            "POST",
            "/api/cartera/subir",
            data={"nombre": "Mis referidos"},
            files={"archivo": ("referidos.csv", csv_cartera(propios, self.semilla + 1), "text/csv")},
        )
        asignada = self.pedir("agente2", "POST", "/api/cartera/auto-asignar", json={"cantidad": 80})
        self.pedir("agente3", "POST", "/api/cartera/auto-asignar", json={"cantidad": 60})
        variantes = [v.replace("{agente}", self.cuentas["agente2"].nombre.split()[0]) for v in PLANTILLA]
        plantilla = self.pedir(
            "agente2", "POST", "/api/plantillas", json={"nombre": "Oferta pensión", "variantes": variantes}
        )
        for clave in ("agente2", "agente3"):
            self.vincular(clave)
        campana = self.pedir(
            "agente2",
            "POST",
            "/api/campana",
            json={
                "nombre": "Pensionados — demostración",
                "carteraId": asignada["cartera_id"],
                "plantillaId": plantilla["id"],
            },
        )
        self.pedir("agente2", "POST", "/api/campana/iniciar", json={"campanaId": campana["id"], "omitirErrores": True})
        self.campana_id = campana["id"]
        print("  Campaña «Pensionados — demostración» en marcha.", flush=True)

    def respuestas(self) -> None:
        """Once the campaign has sent a few messages: one person answers, another one asks to be removed."""
        agente_id = self.cuentas["agente2"].agente_id
        for _ in range(600):
            if self.detener.is_set():
                return
            pagina = self.pedir(
                "admin", "GET", "/api/reportes/mensajes", params={"agenteId": agente_id, "estado": "entregado"}
            )
            destinos = list(dict.fromkeys(m["numero_destino"] for m in pagina["items"]))
            if len(destinos) >= 4:
                self.pedir(
                    "admin",
                    "POST",
                    f"/api/simulador/{agente_id}/recibir",
                    json={"telefono": destinos[0], "texto": "Sí me interesa, ¿de cuánto sería y qué necesito?"},
                )
                self.pedir(
                    "admin",
                    "POST",
                    f"/api/simulador/{agente_id}/recibir",
                    json={"telefono": destinos[1], "texto": "BAJA por favor, ya no me manden mensajes"},
                )
                print("  Llegó una respuesta y una solicitud de BAJA: míralas en la bandeja y en el muro.", flush=True)
                return
            time.sleep(1)

    def vigilar_qr(self) -> None:
        """The demo's virtual phones: a QR that has been on screen a few seconds gets scanned."""
        visto: dict[int, float] = {}
        while not self.detener.wait(0.5):
            try:
                sesiones = self.pedir("admin", "GET", "/api/sesiones/estado")["items"]
            except Exception:  # the server may be restarting or shutting down
                continue
            ahora = time.monotonic()
            for s in sesiones:
                if s["estado"] != "esperando_qr":
                    visto.pop(s["agente_id"], None)
                    continue
                desde = visto.setdefault(s["agente_id"], ahora)
                if ahora - desde >= self.espera_escaneo_s:
                    try:
                        self.pedir("admin", "POST", f"/api/simulador/{s['agente_id']}/escanear", json={})
                        print(
                            f"  El teléfono virtual de {s.get('agente_nombre') or s['agente_id']} escaneó el QR.",
                            flush=True,
                        )
                    except RuntimeError:
                        pass
                    visto.pop(s["agente_id"], None)

    def ejecutar(self) -> None:
        try:
            self.esperar_servidor()
            self.sembrar()
            self.respuestas()
        except Exception as exc:
            print(f"  Aviso: el guion de la demostración se detuvo: {exc}", flush=True)
        self.vigilar_qr()


def demo(
    velocidad: float = typer.Option(30.0, help="Factor del reloj simulado (30 = media hora por minuto real)"),
    port: int | None = typer.Option(None, help="Puerto (por defecto ENLACE_PORT u 8000)"),
) -> None:
    """Demostración completa con el simulador: usuarios, pool, carteras y una campaña en marcha."""
    import uvicorn

    from enlace.api import create_asgi
    from enlace.db.embebida import detener_embebida, resolver_url
    from enlace.db.migrar import migrar
    from enlace.nucleo import Nucleo
    from enlace.registro import configurar_logs
    from enlace.settings import Settings, get_settings

    inicio = inicio_habil(datetime.now(UTC))
    os.environ["ENLACE_MOTOR"] = "simulador"
    os.environ["ENLACE_SIM_VELOCIDAD"] = str(velocidad)
    os.environ["ENLACE_SIM_INICIO"] = inicio.isoformat()
    # The simulated clock also ages login sessions: make them outlast the demo.
    os.environ.setdefault("ENLACE_SESION_HORAS", str(int(24 * velocidad)))
    # ENLACE_SESION_INACTIVA_MINUTOS needs no scaling: the core measures it in real minutes at any speed.
    if not os.environ.get("ENLACE_DATABASE_URL"):
        os.environ.setdefault("ENLACE_DIRECTORIO_DATOS", str(Path("data") / "demo"))
    get_settings.cache_clear()
    ajustes: Settings = get_settings()
    configurar_logs(ajustes.usar_log_json)
    puerto = port or ajustes.port

    cuentas = {
        "admin": CuentaDemo("demo_admin", "Alma Administradora", "admin"),
        "supervisor": CuentaDemo("demo_supervisora", "Sofía Supervisora", "supervisor"),
        "agente1": CuentaDemo("demo_ana", "Ana Torres", "agente"),
        "agente2": CuentaDemo("demo_beto", "Alberto Ruiz", "agente"),
        "agente3": CuentaDemo("demo_carla", "Carla Méndez", "agente"),
    }
    try:
        url = resolver_url(ajustes.database_url, ajustes.directorio_datos)
        migrar(url)
        asyncio.run(preparar_usuarios(url, list(cuentas.values())))
        base = f"http://{'127.0.0.1' if ajustes.host in ('0.0.0.0', '::') else ajustes.host}:{puerto}"
        typer.secho(f"\nEnlace — demostración con el simulador (reloj ×{velocidad:g})", bold=True)
        typer.echo(f"Abre {base} y entra con cualquiera de estas cuentas (contraseñas nuevas en cada arranque):\n")
        for c in cuentas.values():
            typer.echo(f"  {c.rol:<11} {c.usuario:<18} {c.password}   ({c.nombre})")
        typer.echo(
            "\nQué ver: entra como demo_ana y vincula su WhatsApp (el teléfono virtual escanea el QR en unos "
            "segundos); sube una cartera; la campaña de demo_beto ya envía, con recibos, respuestas y una BAJA; "
            "demo_supervisora ve el muro en vivo.\n"
        )
        guion = Guion(base, cuentas, ajustes.sim_semilla, velocidad)
        hilo = threading.Thread(target=guion.ejecutar, name="guion-demo", daemon=True)
        hilo.start()
        try:
            uvicorn.run(create_asgi(Nucleo(ajustes, url)), host=ajustes.host, port=puerto, log_level="warning")
        finally:
            guion.detener.set()
    finally:
        detener_embebida()
