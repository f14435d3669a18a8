"""CRM webhooks against a local receiver: signatures verify, failures are retried with backoff, no double delivery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from sqlalchemy import select

from enlace.tareas import crear_app
from enlace.tiempo_real import outbox
from enlace.tiempo_real.bus import emitir
from enlace.webhooks.firma import FirmaInvalida, verificar
from enlace.webhooks.models import EntregaWebhook, IntentoWebhook
from enlace.webhooks.service import intentar_entrega
from enlace.webhooks.tasks import ContextoTareas, registrar_tareas


class Receptor:
    """A loopback HTTP server standing in for the CRM; answers with the statuses it is told, in order."""

    def __init__(self) -> None:
        self.peticiones: list[tuple[dict[str, str], bytes]] = []
        self.respuestas: list[int] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _manejar(self, request: web.Request) -> web.Response:
        self.peticiones.append((dict(request.headers), await request.read()))
        status = self.respuestas.pop(0) if self.respuestas else 200
        return web.Response(status=status, text="ok" if status < 300 else "fallo")

    async def iniciar(self) -> None:
        app = web.Application()
        app.router.add_post("/crm", self._manejar)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        sitio = web.TCPSite(self._runner, "127.0.0.1", 0)
        await sitio.start()
        puerto = sitio._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{puerto}/crm"

    async def detener(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def receptor() -> AsyncIterator[Receptor]:
    r = Receptor()
    await r.iniciar()
    yield r
    await r.detener()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


@pytest.fixture(autouse=True)
def reloj_outbox(reloj: Any) -> Any:
    anterior = outbox.reloj
    outbox.reloj = reloj
    yield
    outbox.reloj = anterior
    outbox.al_crear_entregas = None


async def _suscribir(admin: Any, url: str, eventos: list[str]) -> dict[str, Any]:
    r = await admin.post("/api/webhooks", json={"url": url, "eventos": eventos, "descripcion": "CRM"})
    assert r.status_code == 201, r.text
    assert r.json()["secreto"].startswith("whsec_")
    return r.json()


async def _evento(nucleo: Any, evento: str, datos: dict[str, Any]) -> None:
    async with nucleo.fabrica() as session:
        await session.execute(select(1))
        emitir(session, evento, datos, ["supervision"])
        await session.commit()


def _enviado(mensaje_id: int, numero: str | None = None) -> dict[str, Any]:
    return {
        "id": mensaje_id,
        "agente_id": 3,
        "wa_message_id": f"3EB0{mensaje_id}",
        "origen": "respuesta",
        "estado": "enviando",
        "numero_destino": numero,
        "tipo": "texto",
        "momento": "2026-11-23T15:00:00+00:00",
    }


def _recibido(mensaje_id: int) -> dict[str, Any]:
    return {
        "id": mensaje_id,
        "agente_id": 3,
        "wa_message_id": f"3EB0{mensaje_id}",
        "tipo": "texto",
        "texto": "¡Hola, señor!",
        "momento": "2026-11-23T15:00:00+00:00",
    }


async def _entregas(nucleo: Any) -> list[EntregaWebhook]:
    async with nucleo.fabrica() as session:
        return list((await session.scalars(select(EntregaWebhook).order_by(EntregaWebhook.id))).all())


async def test_entrega_firmada_una_sola_vez(
    nucleo: Any, reloj: Any, receptor: Receptor, http: httpx.AsyncClient, cliente_como: Any
) -> None:
    admin = await cliente_como("admin")
    sus = await _suscribir(admin, receptor.url, ["mensaje.enviado"])
    otra = await _suscribir(admin, receptor.url, ["contacto.baja"])

    await _evento(nucleo, "mensaje.enviado", _enviado(41, "+525512345678"))
    async with nucleo.fabrica() as session:  # a rolled-back event leaves no delivery
        await session.execute(select(1))
        emitir(session, "mensaje.enviado", _enviado(42), ["supervision"])
        await session.rollback()

    entregas = await _entregas(nucleo)
    assert [(e.suscripcion_id, e.evento) for e in entregas] == [(sus["id"], "mensaje.enviado")]
    entrega_id = entregas[0].id

    # Two workers race for the same delivery: the row lock lets exactly one post it.
    resultados = await asyncio.gather(*(intentar_entrega(nucleo.fabrica, entrega_id, reloj, http) for _ in range(4)))
    assert sorted(r.estado for r in resultados).count("entregada") == 1
    assert len(receptor.peticiones) == 1
    # Later attempts (a duplicated job, a restarted worker) do nothing.
    assert (await intentar_entrega(nucleo.fabrica, entrega_id, reloj, http)).estado == "ya_resuelta"
    assert len(receptor.peticiones) == 1

    cabeceras, cuerpo = receptor.peticiones[0]
    assert verificar(sus["secreto"], cuerpo, cabeceras, reloj.ahora()) == int(reloj.ahora().timestamp())
    with pytest.raises(FirmaInvalida):
        verificar(otra["secreto"], cuerpo, cabeceras, reloj.ahora())
    with pytest.raises(FirmaInvalida):
        verificar(sus["secreto"], cuerpo.replace(b"41", b"99"), cabeceras, reloj.ahora())
    datos = json.loads(cuerpo)
    assert datos["evento"] == "mensaje.enviado" and datos["datos"]["numero_destino"] == "+525512345678"
    assert cabeceras["X-Enlace-Evento-Id"] == datos["id"]
    assert cabeceras["X-Enlace-Entrega"] == str(entrega_id)


async def test_receptor_que_falla_recibe_reintentos_con_espera_creciente(
    nucleo: Any, reloj: Any, receptor: Receptor, http: httpx.AsyncClient, cliente_como: Any
) -> None:
    admin = await cliente_como("admin")
    await _suscribir(admin, receptor.url, ["*"])
    receptor.respuestas = [500, 503, 200]
    await _evento(nucleo, "contacto.baja", {"contacto_id": 1, "telefono": "+525512345678"})
    (entrega,) = await _entregas(nucleo)

    r1 = await intentar_entrega(nucleo.fabrica, entrega.id, reloj, http)
    assert r1.estado == "reintentar" and r1.status_http == 500
    assert (r1.proximo_intento_at - reloj.ahora()).total_seconds() == 30
    # Not due yet: nothing is posted.
    assert (await intentar_entrega(nucleo.fabrica, entrega.id, reloj, http)).estado == "no_vence"
    assert len(receptor.peticiones) == 1

    await reloj.avanzar(30)
    r2 = await intentar_entrega(nucleo.fabrica, entrega.id, reloj, http)
    assert r2.estado == "reintentar" and r2.status_http == 503
    assert (r2.proximo_intento_at - reloj.ahora()).total_seconds() == 60
    await reloj.avanzar(59)
    assert (await intentar_entrega(nucleo.fabrica, entrega.id, reloj, http)).estado == "no_vence"
    await reloj.avanzar(1)
    assert (await intentar_entrega(nucleo.fabrica, entrega.id, reloj, http)).estado == "entregada"
    await reloj.avanzar(3600)
    assert (await intentar_entrega(nucleo.fabrica, entrega.id, reloj, http)).estado == "ya_resuelta"
    assert len(receptor.peticiones) == 3
    # Every attempt carries the same event id and body, freshly signed.
    assert len({c["X-Enlace-Evento-Id"] for c, _ in receptor.peticiones}) == 1
    assert len({b for _, b in receptor.peticiones}) == 1

    r = await admin.get(f"/api/webhooks/{entrega.suscripcion_id}/entregas")
    assert r.status_code == 200, r.text
    (registro,) = r.json()
    assert registro["estado"] == "entregada" and registro["intentos"] == 3
    assert [i["status_http"] for i in registro["historial"]] == [500, 503, 200]


async def test_receptor_caido_agota_los_intentos(
    nucleo: Any, reloj: Any, http: httpx.AsyncClient, cliente_como: Any
) -> None:
    admin = await cliente_como("admin")
    await _suscribir(admin, "http://127.0.0.1:9/nadie", ["contacto.baja"])  # port 9: nobody listens
    await _evento(nucleo, "contacto.baja", {"contacto_id": 1, "telefono": "+525512345678"})
    (entrega,) = await _entregas(nucleo)
    estados = []
    for _ in range(20):
        r = await intentar_entrega(nucleo.fabrica, entrega.id, reloj, http)
        estados.append(r.estado)
        if r.estado == "agotada":
            break
        await reloj.avanzar((r.proximo_intento_at - reloj.ahora()).total_seconds())
    assert estados[-1] == "agotada" and estados.count("reintentar") == 9
    async with nucleo.fabrica() as session:
        assert await session.scalar(select(IntentoWebhook.id).order_by(IntentoWebhook.id.desc()).limit(1)) == 10


async def test_reenvio_y_trabajos_procrastinate(
    nucleo: Any, reloj: Any, receptor: Receptor, http: httpx.AsyncClient, cliente_como: Any
) -> None:
    """The real job path: commit → job enqueued → worker posts; a replay is a new, separate delivery."""
    app = crear_app(nucleo.database_url)
    outbox.al_crear_entregas = registrar_tareas(app, ContextoTareas(fabrica=nucleo.fabrica, reloj=reloj, http=http))
    async with app.open_async():
        admin = await cliente_como("admin")
        sus = await _suscribir(admin, receptor.url, ["mensaje.recibido"])
        await _evento(nucleo, "mensaje.recibido", _recibido(7))
        from enlace.db.sesion import esperar_post_commit

        await esperar_post_commit()
        await app.run_worker_async(queues=["webhooks"], wait=False, install_signal_handlers=False)
        assert len(receptor.peticiones) == 1
        (entrega,) = await _entregas(nucleo)
        assert entrega.estado == "entregada"

        r = await admin.post(f"/api/webhooks/entregas/{entrega.id}/reenviar")
        assert r.status_code == 202, r.text
        assert r.json()["reenvio_de_id"] == entrega.id
        await esperar_post_commit()
        await app.run_worker_async(queues=["webhooks"], wait=False, install_signal_handlers=False)
        assert len(receptor.peticiones) == 2
        (c1, b1), (c2, b2) = receptor.peticiones
        assert b1 == b2 and c1["X-Enlace-Evento-Id"] == c2["X-Enlace-Evento-Id"]
        assert c1["X-Enlace-Entrega"] != c2["X-Enlace-Entrega"]

        r = await admin.post(f"/api/webhooks/{sus['id']}/probar")
        assert r.status_code == 202, r.text
        await esperar_post_commit()
        await app.run_worker_async(queues=["webhooks"], wait=False, install_signal_handlers=False)
        assert json.loads(receptor.peticiones[-1][1])["evento"] == "webhook.prueba"


async def test_validacion_de_suscripciones(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    r = await admin.post("/api/webhooks", json={"url": "ftp://crm.ejemplo.mx/x", "eventos": ["mensaje.enviado"]})
    assert r.status_code == 422 and "url" in r.text
    r = await admin.post("/api/webhooks", json={"url": "https://crm.ejemplo.mx/x", "eventos": ["sesion.qr"]})
    assert r.status_code == 422 and "eventos" in r.text
    r = await admin.post("/api/webhooks", json={"url": "https://crm.ejemplo.mx/x", "eventos": ["*"]})
    assert r.status_code == 201
    lista = (await admin.get("/api/webhooks")).json()
    assert len(lista) == 1 and "secreto" not in lista[0]
    r = await admin.patch(f"/api/webhooks/{lista[0]['id']}", json={"activa": False})
    assert r.status_code == 200 and r.json()["activa"] is False
    assert (await admin.delete(f"/api/webhooks/{lista[0]['id']}")).status_code == 204
    assert (await admin.delete(f"/api/webhooks/{lista[0]['id']}")).status_code == 404


async def test_varios_eventos_en_una_transaccion_y_barrido(nucleo: Any, reloj: Any, cliente_como: Any) -> None:
    from enlace.webhooks import repository as repo

    admin = await cliente_como("admin")
    todo = await _suscribir(admin, "http://127.0.0.1:9/a", ["*"])
    bajas = await _suscribir(admin, "http://127.0.0.1:9/b", ["contacto.baja"])
    async with nucleo.fabrica() as session:
        await session.execute(select(1))
        for i in range(50):
            emitir(session, "mensaje.recibido", _recibido(i), ["supervision"])
        emitir(session, "contacto.baja", {"contacto_id": 1, "telefono": "+525512345678"}, ["supervision"])
        emitir(session, "sesion.qr", {"agente_id": 1, "qr": "secreto"}, ["supervision"])  # never leaves the panel
        await session.commit()
    entregas = await _entregas(nucleo)
    assert sum(e.suscripcion_id == todo["id"] for e in entregas) == 51
    assert [e.evento for e in entregas if e.suscripcion_id == bajas["id"]] == ["contacto.baja"]
    assert "sesion.qr" not in {e.evento for e in entregas}
    # The sweep finds every due delivery (new ones are due at once, whatever the clock).
    async with nucleo.fabrica() as session:
        vencidas = await repo.entregas_vencidas(session, reloj.ahora())
    assert sorted(vencidas) == sorted(e.id for e in entregas)
