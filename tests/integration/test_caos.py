"""Chaos: kill -9 the server 20 times during a 2,000-message campaign; nothing is sent twice, nothing lost.

A real `enlace serve` process on the simulator, with the ledger on disk (fsync'd before a send returns),
is killed at random moments and restarted. The campaign must end with the ledger and the database in
agreement: every contact got exactly one message, with the text of its row.

The server runs on the real clock with a sub-second pacing profile: an accelerated clock restarts from
wall time in every new process, so virtual time would jump backwards at each restart. The profile's time
zone is chosen so that "now" is midday there, keeping the window and the 07:00–22:00 hard limit open
whenever the test runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from enlace.carteras.models import Cartera, Contacto
from enlace.mensajes.models import MensajeEnviado
from enlace.motores.simulador.ledger import Ledger
from enlace.motores.simulador.perfiles import perfil_para

pytestmark = pytest.mark.lento

MENSAJES = int(os.environ.get("ENLACE_CAOS_MENSAJES", "2000"))
MUERTES = int(os.environ.get("ENLACE_CAOS_MUERTES", "20"))
SEMILLA_SIM = 7


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _zona_mediodia() -> str:
    """An Etc/GMT zone where it is about 12:00 now (POSIX sign: Etc/GMT-3 is UTC+3)."""
    desfase = 12 - datetime.now(UTC).hour
    desfase = max(-12, min(14, desfase if desfase <= 14 else desfase - 24))
    return "Etc/GMT" + (f"-{desfase}" if desfase > 0 else f"+{-desfase}" if desfase < 0 else "")


class Servidor:
    def __init__(self, entorno: dict[str, str], registro: Path) -> None:
        self.entorno = entorno
        self.registro = registro
        self.puerto = _puerto_libre()
        self.url = f"http://127.0.0.1:{self.puerto}"
        self.proceso: subprocess.Popen[bytes] | None = None

    async def arrancar(self) -> None:
        enlace = str(Path(sys.executable).with_name("enlace"))
        with self.registro.open("ab") as salida:
            self.proceso = subprocess.Popen(  # noqa: ASYNC220 - the node runs on its own
                [enlace, "serve", "--port", str(self.puerto)], env=self.entorno, stdout=salida, stderr=salida
            )
        async with httpx.AsyncClient() as c:
            for _ in range(600):
                if self.proceso.poll() is not None:
                    raise RuntimeError(f"el servidor terminó con código {self.proceso.returncode}")
                try:
                    if (await c.get(self.url + "/readyz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError("el servidor no respondió")

    def matar(self) -> None:
        assert self.proceso is not None
        self.proceso.send_signal(signal.SIGKILL)
        self.proceso.wait()

    def detener(self) -> None:
        if self.proceso is not None and self.proceso.poll() is None:
            self.proceso.terminate()
            try:
                self.proceso.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proceso.kill()
                self.proceso.wait()


def _salidos(cuentas: dict[str, int]) -> int:
    return sum(v for k, v in cuentas.items() if k != "pendiente")


async def _contar(nucleo: Any, campana_id: int | None) -> dict[str, int]:
    """Rows per status of the campaign (None: every outgoing row, replies and confirmations included)."""
    async with nucleo.fabrica() as s:
        filas = await s.execute(
            text(
                "SELECT estado, count(*) FROM mensajes_enviados WHERE campana_id = :c OR CAST(:c AS int) IS NULL"
                " GROUP BY estado"
            ),
            {"c": campana_id},
        )
        return dict(filas.all())


@contextlib.asynccontextmanager
async def _sesion_http(servidor: Servidor, agente: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=servidor.url, timeout=30) as c:
        r = await c.post("/api/auth/login", json={"usuario": agente["usuario"], "password": agente["password"]})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        yield c


async def _con_reintentos(c: httpx.AsyncClient, url: str, cuerpo: dict[str, Any], **kw: Any) -> httpx.Response:
    """Right after a restart the session is still resuming (409): retry like a client would."""
    for _ in range(100):
        r = await c.post(url, json=cuerpo, **kw)
        if r.status_code != 409:
            return r
        await asyncio.sleep(0.1)
    return r


async def _responder(
    servidor: Servidor,
    agente: dict[str, Any],
    agente_id: int,
    respuestas: list[tuple[str, int, str]],
    ronda: int,
    telefonos: list[str],
    ids_contacto: dict[str, int],
) -> None:
    async with _sesion_http(servidor, agente) as c:
        if respuestas:  # the previous reply again, same key: must not send twice
            clave, contacto, texto = respuestas[-1]
            r = await _con_reintentos(
                c, f"/api/conversaciones/{contacto}/responder", {"texto": texto}, headers={"Idempotency-Key": clave}
            )
            assert r.status_code == 202, r.text
        if ronda % 2:
            telefono = telefonos[ronda]
            clave, texto = f"caos-respuesta-{ronda}", f"Respuesta de la agente {ronda}"
            contacto = ids_contacto[telefono]
            r = await _con_reintentos(
                c, f"/api/conversaciones/{contacto}/responder", {"texto": texto}, headers={"Idempotency-Key": clave}
            )
            assert r.status_code == 202, r.text
            respuestas.append((clave, contacto, texto))


async def _darse_de_baja(
    servidor: Servidor, agente: dict[str, Any], agente_id: int, bajas: list[str], ronda: int, telefonos: list[str]
) -> None:
    if ronda % 3:
        return
    telefono = telefonos[-ronda]
    async with _sesion_http(servidor, agente) as c:
        r = await _con_reintentos(c, f"/api/simulador/{agente_id}/recibir", {"telefono": telefono, "texto": "BAJA"})
        assert r.status_code == 200, r.text
    bajas.append(telefono)


async def test_matar_el_servidor_20_veces_no_duplica_ni_pierde(
    url_bd: str, nucleo: Any, crear_usuario: Any, tmp_path: Path
) -> None:
    rng = random.Random(20261125)
    zona = _zona_mediodia()
    agente = await crear_usuario("agente")
    agente_id = agente["agente_id"]
    # 2,000 people who are on WhatsApp (the simulator decides that from its seed and the number).
    telefonos: list[str] = []
    n = 0
    while len(telefonos) < MENSAJES:
        t = f"+52558{n:07d}"
        n += 1
        if perfil_para(SEMILLA_SIM, t).en_whatsapp:
            telefonos.append(t)
    async with nucleo.fabrica() as s:
        cartera = Cartera(agente_id=agente_id, nombre="Caos", fuente="manual", total_contactos=MENSAJES)
        s.add(cartera)
        await s.flush()
        s.add_all(
            Contacto(
                cartera_id=cartera.id,
                agente_id=agente_id,
                nombre=f"Persona {i}",
                telefono=t,
                zona_horaria=zona,
                datos_credito={"monto": 5_000 + i},
            )
            for i, t in enumerate(telefonos)
        )
        await s.commit()
        cartera_id = cartera.id
        ids_contacto = dict(
            (await s.execute(select(Contacto.telefono, Contacto.id).where(Contacto.cartera_id == cartera_id))).all()
        )

    # The test kills the application, never PostgreSQL: a commit acknowledged to the server survives the
    # kill either way, so skip the per-commit disk flush to keep 20 restarts within a few minutes.
    async with nucleo.fabrica() as s:
        nombre_bd = await s.scalar(text("SELECT current_database()"))
        await s.execute(text(f'ALTER DATABASE "{nombre_bd}" SET synchronous_commit = off'))
        # Opt-outs are answered with a confirmation: a system row through the same dispatcher.
        await s.execute(text("INSERT INTO ajustes (clave, valor) VALUES ('confirmar_baja', 'true')"))
        await s.commit()
    ledger_ruta = tmp_path / "ledger.jsonl"
    entorno = {
        **os.environ,
        "ENLACE_DATABASE_URL": url_bd,
        "ENLACE_MOTOR": "simulador",
        "ENLACE_ENTORNO": "pruebas",
        "ENLACE_SECRET_KEY": "clave-de-pruebas-" + "x" * 32,
        "ENLACE_NODO_ID": "nodo-caos",  # the restarted process takes its own leases back at once
        "ENLACE_SIM_LEDGER": str(ledger_ruta),
        "ENLACE_SIM_SEMILLA": str(SEMILLA_SIM),
        "ENLACE_SIM_AUTO_ESCANEAR": "true",
        "ENLACE_SIM_VELOCIDAD": "1",
        "ENLACE_LOG_JSON": "true",
        # Numbers are looked up before they are claimed; on the real clock a sub-second profile needs
        # lookups that keep up with it (production pacing would take hours for 2,000 numbers).
        "ENLACE_RESOLUCION_LOTE": "500",
        "ENLACE_RESOLUCION_PAUSA_S": "0.5",
        "ENLACE_RESOLUCION_MAX_HORA": "100000",
    }
    servidor = Servidor(entorno, tmp_path / "servidor.log")
    await servidor.arrancar()
    try:
        async with httpx.AsyncClient(base_url=servidor.url, timeout=30) as c:
            r = await c.post("/api/auth/login", json={"usuario": agente["usuario"], "password": agente["password"]})
            assert r.status_code == 200, r.text
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            assert (await c.post(f"/api/sesion/conectar/{agente_id}")).status_code == 200
            for _ in range(300):
                if (await c.get(f"/api/sesion/{agente_id}")).json().get("estado") == "conectada":
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("la sesión del simulador no se conectó")
            plantilla = (
                await c.post(
                    "/api/plantillas",
                    json={"nombre": "Caos", "variantes": ["{saludo} {nombre}, su crédito de {monto}."]},
                )
            ).json()
            campana = (
                await c.post("/api/campana", json={"nombre": "Caos", "carteraId": cartera_id, "zonaHoraria": zona})
            ).json()
            config = {
                "zona_horaria": zona,
                "hora_inicio": "07:00",
                "hora_fin": "22:00",
                "dias": [0, 1, 2, 3, 4, 5, 6],
                "excluir_feriados": False,
                "por_hora_min": 100000,
                "por_hora_max": 100000,
                "por_dia_min": 1000000,
                "por_dia_max": 1000000,
                "pausa_min_s": 0.01,
                "pausa_max_s": 0.02,
                "jitter_s": 0,
                "rafaga_min": 10000,
                "rafaga_max": 10000,
                "pausa_rafaga_min_s": 0.03,
                "pausa_rafaga_max_s": 0.04,
                "escritura_inicial_min_s": 0,
                "escritura_inicial_max_s": 0.005,
                "escritura_palabra_min_s": 0,
                "escritura_palabra_max_s": 0.001,
                "factor_ligero": 1,
            }
            r = await c.post(
                "/api/campana/iniciar",
                json={"campanaId": campana["id"], "plantillaId": plantilla["id"], "configDelay": config},
            )
            assert r.status_code == 200, r.text
            campana_id = campana["id"]

        muertes_con_envios = intentos = 0
        respuestas: list[tuple[str, int, str]] = []  # (Idempotency-Key, contacto, texto)
        bajas: list[str] = []
        while muertes_con_envios < MUERTES and intentos < MUERTES + 10:
            intentos += 1
            # An agent replies from the inbox, and retries the previous reply (its client never saw the answer
            # because the server died); a person opts out, which queues a confirmation.
            await _responder(servidor, agente, agente_id, respuestas, intentos, telefonos, ids_contacto)
            await _darse_de_baja(servidor, agente, agente_id, bajas, intentos, telefonos)
            # Kill only once this process is sending (the session resumed), at a random moment after that.
            antes = _salidos(await _contar(nucleo, campana_id))
            for _ in range(600):
                if _salidos(await _contar(nucleo, campana_id)) > antes:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(rng.uniform(0.0, 1.5))
            servidor.matar()
            muertes_con_envios += _salidos(await _contar(nucleo, campana_id)) > antes
            await servidor.arrancar()
        # The last replies are retried once more against the final process.
        await _responder(servidor, agente, agente_id, respuestas, intentos + 1, telefonos, ids_contacto)
        # Let the campaign, the replies and the confirmations finish after the last restart. Most of it may
        # still be ahead (each kill lands soon after sending resumes): allow ~2 messages/s on a loaded machine.
        for _ in range(max(1200, MENSAJES * 2)):
            cuentas = await _contar(nucleo, None)
            if not cuentas.get("pendiente") and not cuentas.get("enviando"):
                break
            await asyncio.sleep(0.25)
        else:
            raise AssertionError(f"la campaña no terminó: {cuentas}")
    finally:
        servidor.detener()

    ledger = Ledger.leer(ledger_ruta)
    momentos = sorted(e.momento for e in ledger.todas())
    if momentos:
        print(f"caos: {len(momentos)} en el ledger entre {momentos[0]:%H:%M:%S} y {momentos[-1]:%H:%M:%S}")
    async with nucleo.fabrica() as s:
        todas = (await s.scalars(select(MensajeEnviado))).all()
        bajas_guardadas = set(
            (await s.scalars(text("SELECT numero_origen FROM mensajes_recibidos WHERE clasificacion = 'baja'"))).all()
        )
    filas = [f for f in todas if f.campana_id == campana_id]
    directas = [f for f in todas if f.campana_id is None]
    recibidos = Counter(e.wa_message_id for e in ledger.todas())
    texto_por_id = {e.wa_message_id: e.texto for e in ledger.todas()}
    ids_campana = {f.wa_message_id for f in filas}
    por_telefono = Counter(e.telefono for e in ledger.todas() if e.wa_message_id in ids_campana)
    duplicados = [t for t, k in por_telefono.items() if k > 1] + [w for w, k in recibidos.items() if k > 1]
    perdidos = []
    for f in [*filas, *directas]:
        llegados = recibidos.get(f.wa_message_id, 0)
        if f.estado in ("enviado", "entregado", "leido"):
            if llegados != 1:
                perdidos.append((f.id, f.estado, llegados))
            elif texto_por_id[f.wa_message_id] != f.mensaje:
                perdidos.append((f.id, "texto distinto", llegados))
        elif f.estado == "incierto":
            if llegados != 1:
                perdidos.append((f.id, f.estado, llegados))
        elif f.estado in ("cancelado", "suprimido") and f.numero_destino in bajas_guardadas:
            if llegados != 0:  # cancelled by the person's opt-out: must never have left
                perdidos.append((f.id, f.estado, llegados))
        else:
            perdidos.append((f.id, f.estado, llegados))
    assert not duplicados, f"mensajes duplicados: {duplicados[:10]}"
    assert not perdidos, f"mensajes perdidos o en desacuerdo: {perdidos[:10]} (de {len(perdidos)})"
    assert len(filas) == MENSAJES
    # Every reply: one row per Idempotency-Key however often it was retried, delivered once.
    claves = Counter(f.clave_idempotencia for f in directas if f.origen == "respuesta")
    assert set(claves) == {clave for clave, _, _ in respuestas} and set(claves.values()) == {1}
    # Every stored opt-out got exactly one confirmation, and it left once.
    confirmaciones = Counter(f.numero_destino for f in directas if f.origen == "sistema")
    assert set(confirmaciones) == bajas_guardadas and set(confirmaciones.values()) <= {1}
    assert (
        len(ledger)
        == sum(recibidos.values())
        == len([f for f in [*filas, *directas] if f.estado in ("enviado", "entregado", "leido", "incierto")])
    )
    print(f"caos: respuestas={len(claves)} confirmaciones={len(confirmaciones)} bajas_enviadas={len(bajas)}")
    # The kills did land mid-campaign (not all before the first send or after the last).
    assert muertes_con_envios == MUERTES
