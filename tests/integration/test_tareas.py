"""The one job queue: per-domain registration and the rescue of jobs whose worker was killed (kill -9)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from enlace.carteras import tasks as tareas_carteras
from enlace.carteras.models import ImportacionCartera, ImportacionParte
from enlace.tareas import COLA_TAREAS, Tareas

MORIBUNDO = Path(__file__).parents[1] / "soporte" / "trabajador_que_muere.py"
FILAS = 2000


def _csv(n: int) -> bytes:
    filas = "".join(f"Persona {i},55{i:08d},{1000 + i}.50\n" for i in range(n))
    return ("Nombre,Teléfono,Monto\n" + filas).encode()


async def _importacion_guardada(db: Any, agente_id: int) -> int:
    fila = ImportacionCartera(
        agente_id=agente_id,
        nombre_cartera="Grande",
        fuente="csv_upload",
        archivo="grande.csv",
        tamano_bytes=0,
        en_segundo_plano=True,
    )
    db.add(fila)
    await db.flush()
    db.add(ImportacionParte(importacion_id=fila.id, parte=0, datos=_csv(FILAS)))
    await db.commit()
    return fila.id


async def _valor(db: Any, sql: str, **p: Any) -> Any:
    db.expire_all()
    return (await db.execute(text(sql), p)).scalar()


async def _matar_trabajador_en(url_bd: str, umbral: float) -> int:
    """Run the job in a real worker process that SIGKILLs itself at `umbral`; returns its exit code."""
    proceso = await asyncio.create_subprocess_exec(sys.executable, str(MORIBUNDO), url_bd, str(umbral))
    return await asyncio.wait_for(proceso.wait(), timeout=120)


async def _latido_vencido(db: Any) -> None:
    # The dead worker's last heartbeat is seconds old; instead of waiting 30 real seconds, age it.
    await db.execute(text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '5 minutes'"))
    await db.commit()


@pytest.fixture
async def tareas(nucleo: Any) -> Any:
    t = Tareas(nucleo.database_url, nodo_id="prueba", concurrencia=1)
    tareas_carteras.registrar(t, nucleo)
    await t.abrir()
    yield t
    await t.detener()


async def test_cada_dominio_registra_su_cola_en_la_unica_app(nucleo: Any) -> None:
    t = Tareas(nucleo.database_url)
    tareas_carteras.registrar(t, nucleo)
    assert t.colas == [COLA_TAREAS, "carteras"]
    nombres = set(t.app.tasks)
    assert {"carteras.importar", "carteras.expirar", "tareas.rescatar"} <= nombres


async def test_importacion_con_trabajador_muerto_al_82_se_reanuda_y_termina(
    tareas: Tareas, db: Any, crear_usuario: Any, url_bd: str
) -> None:
    agente_id = (await crear_usuario("agente"))["agente_id"]
    importacion_id = await _importacion_guardada(db, agente_id)
    await tareas.app.configure_task("carteras.importar").defer_async(importacion_id=importacion_id)

    codigo = await _matar_trabajador_en(url_bd, 0.82)
    assert codigo == -9  # really killed, mid-file
    assert await _valor(db, "SELECT estado FROM importaciones_cartera WHERE id = :i", i=importacion_id) == "procesando"
    progreso = await _valor(db, "SELECT progreso FROM importaciones_cartera WHERE id = :i", i=importacion_id)
    assert 0.82 <= progreso < 0.92
    assert await _valor(db, "SELECT count(*) FROM contactos") == 0  # one transaction: nothing half-written
    assert (
        await _valor(db, "SELECT status::text FROM procrastinate_jobs WHERE task_name = 'carteras.importar'") == "doing"
    )

    # While the dead worker's heartbeat is fresh, the job is not touched (it might still be running).
    assert (await tareas.rescatar_atascadas()).reintentados == []
    await _latido_vencido(db)
    rescate = await tareas.rescatar_atascadas()
    assert len(rescate.reintentados) == 1 and rescate.abandonados == []
    error = await _valor(db, "SELECT error FROM importaciones_cartera WHERE id = :i", i=importacion_id)
    assert f"se detuvo al {round(progreso * 100)} %" in error and "se reanuda" in error

    await tareas.correr_pendientes()
    assert await _valor(db, "SELECT estado FROM importaciones_cartera WHERE id = :i", i=importacion_id) == "completada"
    assert await _valor(db, "SELECT error FROM importaciones_cartera WHERE id = :i", i=importacion_id) is None
    assert await _valor(db, "SELECT count(*) FROM contactos") == FILAS
    assert await _valor(db, "SELECT status::text FROM procrastinate_jobs WHERE task_name = 'carteras.importar'") == (
        "succeeded"
    )


async def test_importacion_que_mata_al_trabajador_cada_vez_falla_con_motivo(
    tareas: Tareas, db: Any, crear_usuario: Any, url_bd: str
) -> None:
    agente_id = (await crear_usuario("agente"))["agente_id"]
    importacion_id = await _importacion_guardada(db, agente_id)
    await tareas.app.configure_task("carteras.importar").defer_async(importacion_id=importacion_id)
    for _ in range(tareas_carteras.MAX_CORRIDAS):
        assert await _matar_trabajador_en(url_bd, 0.5) == -9
        await _latido_vencido(db)
        await tareas.rescatar_atascadas()
    estado, error = (
        await db.execute(text("SELECT estado, error FROM importaciones_cartera WHERE id = :i"), {"i": importacion_id})
    ).one()
    assert estado == "fallida"
    assert f"se detuvo {tareas_carteras.MAX_CORRIDAS} veces" in error and "Vuelve a subir el archivo" in error
    assert (
        await _valor(db, "SELECT status::text FROM procrastinate_jobs WHERE task_name = 'carteras.importar'")
        == "failed"
    )
    assert await _valor(db, "SELECT count(*) FROM importacion_partes") == 0
    assert await _valor(db, "SELECT count(*) FROM contactos") == 0
    # Nothing left to rescue, and nothing runs again.
    assert (await tareas.rescatar_atascadas()).reintentados == []
