"""Streaming portfolio import: parse → COPY into a staging table → one set-based SQL pass decides every row.

Runs on its own synchronous psycopg connection (call it in a thread from async code): COPY and a
single transaction per import, so a file is either fully imported with its report or not at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring as _cadena  # C-accelerated JSON string quoting
from pathlib import Path
from typing import IO, Any

import psycopg
import structlog

from enlace.carteras.lector import ContactoLeido, ErrorLectura, FilaRechazada, OpcionesLectura, abrir, interpretar

log = structlog.get_logger(__name__)

# How often (rows) progress is published while reading.
CADA_FILAS_PROGRESO = 20_000
# Rejected rows kept in detail for the report; beyond this they are only counted (a tiny file of
# garbage rows must not write hundreds of thousands of report rows).
MAX_RECHAZOS_DETALLE = 10_000
# Imports decide ownership one at a time: two files with the same phone must not both get it.
_CANDADO_IMPORTACION = 0x454E_4341_5254  # "ENCART"

RESULTADOS = ("aceptado", "rechazado", "duplicado", "existente", "otro_agente", "suprimido")

_SQL_STAGING = """
CREATE TEMP TABLE _importacion (
    fila integer NOT NULL,
    telefono text,
    nombre text,
    estado_mx text,
    zona text,
    datos text,
    campo text,
    motivo text,
    original text
) ON COMMIT DROP
"""

# One statement decides every row (duplicate in file, suppressed, new, already mine, in the pool, someone
# else's), inserts the new contacts, takes free pool contacts, and writes the report of what was not new.
_SQL_DECIDIR = """
WITH s AS MATERIALIZED (
    SELECT s.fila, s.telefono, s.nombre, s.estado_mx, s.zona, s.datos, s.campo, s.motivo, s.original, s.primera,
           c.id AS contacto_id, sp.fuente AS fuente_supresion,
           CASE
               WHEN s.motivo IS NOT NULL THEN 'rechazado'
               WHEN s.primera <> s.fila THEN 'duplicado'
               WHEN sp.telefono IS NOT NULL THEN 'suprimido'
               WHEN c.id IS NULL THEN 'nuevo'
               WHEN c.agente_id IS NOT DISTINCT FROM %(agente)s::integer THEN 'existente'
               WHEN c.agente_id IS NULL THEN 'pool'
               ELSE 'otro_agente'
           END AS resultado
    FROM (
        SELECT i.*,
               CASE WHEN i.telefono IS NULL THEN i.fila ELSE min(i.fila) OVER (PARTITION BY i.telefono) END AS primera
        FROM _importacion i
    ) s
    LEFT JOIN contactos c ON c.telefono = s.telefono
    LEFT JOIN supresiones sp ON sp.telefono = s.telefono
),
nuevos AS (
    INSERT INTO contactos (cartera_id, agente_id, nombre, telefono, estado_mx, zona_horaria, datos_credito,
                           asignado_at, importacion_id, fila_origen)
    SELECT %(cartera)s, %(agente)s, s.nombre, s.telefono, s.estado_mx, s.zona, s.datos::jsonb,
           CASE WHEN %(agente)s::integer IS NULL THEN NULL ELSE %(ahora)s::timestamptz END,
           %(importacion)s, s.fila
    FROM s WHERE s.resultado = 'nuevo'
    RETURNING 1
),
tomados AS (
    UPDATE contactos c
    SET agente_id = %(agente)s, cartera_id = %(cartera)s, asignado_at = %(ahora)s, ultima_actividad_at = NULL
    FROM s
    WHERE s.resultado = 'pool' AND c.id = s.contacto_id AND c.agente_id IS NULL
    RETURNING c.id
),
reporte AS (
    INSERT INTO importacion_filas (importacion_id, fila, resultado, campo, motivo, telefono)
    SELECT %(importacion)s, s.fila, r.resultado,
           CASE WHEN r.resultado = 'rechazado' THEN left(s.campo, 80) WHEN r.resultado = 'aceptado' THEN NULL
                ELSE 'telefono' END,
           CASE r.resultado
               WHEN 'rechazado' THEN s.motivo
               WHEN 'duplicado' THEN 'el teléfono ya aparece en la fila ' || s.primera || ' de este archivo'
               WHEN 'suprimido' THEN CASE s.fuente_supresion
                   WHEN 'repep' THEN 'el número está en el REPEP (PROFECO): no se puede contactar'
                   WHEN 'reus' THEN 'el número está en el REUS (CONDUSEF): no se puede contactar'
                   WHEN 'arco' THEN 'la persona ejerció sus derechos ARCO: no se puede contactar'
                   ELSE 'la persona pidió no ser contactada (lista de supresión)' END
               WHEN 'existente' THEN CASE WHEN %(agente)s::integer IS NULL THEN 'el contacto ya está en el pool'
                                          ELSE 'el contacto ya está en tu cartera' END
               WHEN 'otro_agente' THEN 'el contacto ya pertenece a la cartera de otro agente; no se asignó'
               WHEN 'aceptado' THEN 'tomado del pool'
           END,
           coalesce(s.telefono, s.original)
    FROM s
    LEFT JOIN tomados t ON t.id = s.contacto_id AND s.resultado = 'pool'
    CROSS JOIN LATERAL (
        SELECT CASE WHEN s.resultado = 'pool' THEN CASE WHEN t.id IS NULL THEN 'otro_agente' ELSE 'aceptado' END
                    ELSE s.resultado END AS resultado
    ) r
    WHERE s.resultado <> 'nuevo'
    RETURNING resultado
)
SELECT 'aceptado' AS resultado, count(*) FROM nuevos
UNION ALL
SELECT resultado, count(*) FROM reporte GROUP BY resultado
"""


@dataclass
class ResultadoImportacion:
    importacion_id: int
    cartera_id: int | None
    filas: int = 0
    conteos: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULTADOS, 0))
    formato: str | None = None
    codificacion: str | None = None
    delimitador: str | None = None
    # Durations for logs and the benchmark (performance metrics, not domain time).
    segundos_lectura: float = 0.0
    segundos_sql: float = 0.0
    # Rejected rows beyond MAX_RECHAZOS_DETALLE: counted in `rechazado`, not written to the report.
    rechazos_sin_detalle: int = 0

    @property
    def aceptados(self) -> int:
        return self.conteos["aceptado"]


AlProgreso = Callable[[int, float], None]


class ProgresoEnBD:
    """Publishes progress on its own autocommit connection, so readers see it while the import's
    transaction is still open."""

    def __init__(self, conninfo: str, importacion_id: int) -> None:
        self._conninfo = conninfo
        self._id = importacion_id
        self._conexion: psycopg.Connection[Any] | None = None

    def __call__(self, filas: int, fraccion: float) -> None:
        try:
            if self._conexion is None:
                self._conexion = psycopg.connect(self._conninfo, autocommit=True)
            self._conexion.execute(
                "UPDATE importaciones_cartera SET filas = %s, progreso = %s WHERE id = %s",
                (filas, round(min(fraccion, 0.99), 4), self._id),
            )
        except psycopg.Error:
            log.warning("progreso_importacion_no_publicado", importacion_id=self._id)

    def cerrar(self) -> None:
        if self._conexion is not None:
            self._conexion.close()
            self._conexion = None


def _datos_json(contacto: ContactoLeido) -> str:
    """`datos_credito` as JSON text, built by hand: json.dumps per row would dominate a large import."""
    partes = [
        _cadena(clave) + ":" + (_cadena(valor) if type(valor) is str else json.dumps(valor))
        for clave, valor in contacto.datos_credito.items()
    ]
    if contacto.monto is not None:
        partes.append('"monto":' + _cadena(contacto.monto))
    if contacto.nss is not None:
        partes.append('"nss":' + _cadena(contacto.nss))
    if contacto.curp is not None:
        partes.append('"curp":' + _cadena(contacto.curp))
    if contacto.tipo_credito is not None:
        partes.append('"tipo_credito":' + _cadena(contacto.tipo_credito))
    return "{" + ",".join(partes) + "}"


def copiar_filas(
    cursor: psycopg.Cursor[Any],
    origen: str | Path | IO[bytes],
    opciones: OpcionesLectura,
    resultado: ResultadoImportacion,
    al_progreso: AlProgreso | None = None,
) -> None:
    """Read the file and COPY one staging row per data row (accepted or rejected). Raises ErrorLectura."""
    with (
        abrir(origen) as lector,
        cursor.copy(
            "COPY _importacion (fila, telefono, nombre, estado_mx, zona, datos, campo, motivo, original) FROM STDIN"
        ) as copia,
    ):
        resultado.formato = lector.formato
        resultado.codificacion = lector.codificacion
        resultado.delimitador = lector.delimitador
        encabezado = lector.encabezado
        assert encabezado is not None
        escribir = copia.write_row
        filas = rechazados = 0
        siguiente_aviso = CADA_FILAS_PROGRESO
        for numero, valores in lector:
            leido = interpretar(encabezado, numero, valores, opciones)
            if leido is None:
                continue
            filas += 1
            if type(leido) is ContactoLeido:
                escribir(
                    (
                        numero,
                        leido.telefono,
                        leido.nombre,
                        leido.estado,
                        leido.zona_horaria,
                        _datos_json(leido),
                        None,
                        None,
                        None,
                    )
                )
            elif rechazados >= MAX_RECHAZOS_DETALLE:
                resultado.rechazos_sin_detalle += 1
            else:
                rechazados += 1
                rechazo: FilaRechazada = leido  # type: ignore[assignment]
                escribir(
                    (
                        numero,
                        None,
                        None,
                        None,
                        None,
                        None,
                        rechazo.campo,
                        rechazo.motivo,
                        rechazo.telefono_original or None,
                    )
                )
            if filas >= siguiente_aviso:
                siguiente_aviso += CADA_FILAS_PROGRESO
                if al_progreso is not None:
                    al_progreso(filas, lector.progreso() * 0.9)
        resultado.filas = filas
        if filas == 0:
            raise ErrorLectura("el archivo tiene encabezado pero ninguna fila de datos")


@dataclass(frozen=True)
class DestinoImportacion:
    """Who gets the contacts and how the cartera and its import record are described."""

    agente_id: int | None  # None = the company pool
    nombre_cartera: str
    fuente: str
    usuario_id: int | None
    archivo: str = "archivo"
    tamano_bytes: int = 0
    sha256: str | None = None


class ErrorImportacion(ErrorLectura):
    """ErrorLectura plus the id of the import record that keeps the failure visible."""

    def __init__(self, mensaje: str, importacion_id: int, fila: int | None = None) -> None:
        super().__init__(mensaje, fila)
        self.importacion_id = importacion_id


_SQL_NUEVA_IMPORTACION = """
INSERT INTO importaciones_cartera (agente_id, usuario_id, nombre_cartera, fuente, archivo, tamano_bytes, sha256,
                                   estado, iniciada_at, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
RETURNING id
"""


def _valores_importacion(destino: DestinoImportacion, estado: str, ahora: datetime) -> tuple[Any, ...]:
    return (
        destino.agente_id,
        destino.usuario_id,
        destino.nombre_cartera,
        destino.fuente,
        destino.archivo[:255],
        destino.tamano_bytes,
        destino.sha256,
        estado,
        ahora,
        ahora,
    )


def importar_archivo(
    conninfo: str,
    origen: str | Path | IO[bytes],
    destino: DestinoImportacion,
    *,
    ahora: datetime,
    importacion_id: int | None = None,
    opciones: OpcionesLectura | None = None,
    al_progreso: AlProgreso | None = None,
    borrar_partes: bool = False,
) -> ResultadoImportacion:
    """Import one file into a new cartera, all or nothing, and record the outcome in `importaciones_cartera`.

    With `importacion_id` (a background job) that committed row is updated; without it the row is created
    inside the import's transaction. On a bad file nothing is imported, the record ends 'fallida' with the
    Spanish reason, and ErrorImportacion is raised.
    """
    opciones = opciones or OpcionesLectura()
    if importacion_id is not None:
        _marcar_procesando(conninfo, importacion_id, ahora)
    resultado = ResultadoImportacion(importacion_id=importacion_id or 0, cartera_id=None)
    try:
        with psycopg.connect(conninfo) as conexion:
            with conexion.transaction(), conexion.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64MB'")
                if importacion_id is None:
                    resultado.importacion_id = _crear_registro(cursor, destino, ahora)
                cartera_id = _crear_cartera(cursor, destino, ahora)
                cursor.execute(_SQL_STAGING)
                inicio = time.perf_counter()
                copiar_filas(cursor, origen, opciones, resultado, al_progreso)
                resultado.segundos_lectura = time.perf_counter() - inicio
                if al_progreso is not None:
                    al_progreso(resultado.filas, 0.92)
                _decidir_filas(cursor, destino, cartera_id, resultado, ahora)
                resultado.segundos_sql = time.perf_counter() - inicio - resultado.segundos_lectura
                _cerrar_cartera(cursor, cartera_id, resultado, borrar_partes)
                _registrar_completada(cursor, resultado, ahora)
    except ErrorLectura as error:
        fallida = _marcar_fallida(conninfo, importacion_id, destino, error.mensaje, ahora, borrar_partes)
        raise ErrorImportacion(error.mensaje, fallida, error.fila) from error
    except Exception:
        log.exception("importacion_fallida", importacion_id=importacion_id)
        _marcar_fallida(
            conninfo,
            importacion_id,
            destino,
            "Error interno al importar; no se guardó nada. Inténtalo de nuevo.",
            ahora,
            False,
        )
        raise
    log.info(
        "importacion_completada",
        importacion_id=resultado.importacion_id,
        filas=resultado.filas,
        segundos_lectura=round(resultado.segundos_lectura, 2),
        segundos_sql=round(resultado.segundos_sql, 2),
        **resultado.conteos,
    )
    return resultado


def _marcar_procesando(conninfo: str, importacion_id: int, ahora: datetime) -> None:
    """A background import shows `procesando` at once, on its own connection (readers see it mid-import)."""
    with psycopg.connect(conninfo, autocommit=True) as control:
        control.execute(
            "UPDATE importaciones_cartera SET estado = 'procesando', iniciada_at = %s WHERE id = %s",
            (ahora, importacion_id),
        )


def _crear_registro(cursor: psycopg.Cursor[Any], destino: DestinoImportacion, ahora: datetime) -> int:
    """The import's record, inside the import's transaction (an upload answered in the request)."""
    cursor.execute(_SQL_NUEVA_IMPORTACION, _valores_importacion(destino, "procesando", ahora))
    fila = cursor.fetchone()
    assert fila is not None
    return int(fila[0])


def _crear_cartera(cursor: psycopg.Cursor[Any], destino: DestinoImportacion, ahora: datetime) -> int:
    cursor.execute(
        "INSERT INTO carteras (agente_id, nombre, fuente, total_contactos, creada_por, created_at) "
        "VALUES (%s, %s, %s, 0, %s, %s) RETURNING id",
        (destino.agente_id, destino.nombre_cartera, destino.fuente, destino.usuario_id, ahora),
    )
    fila = cursor.fetchone()
    assert fila is not None
    return int(fila[0])


def _decidir_filas(
    cursor: psycopg.Cursor[Any],
    destino: DestinoImportacion,
    cartera_id: int,
    resultado: ResultadoImportacion,
    ahora: datetime,
) -> None:
    """One statement decides every staged row (duplicate, suppressed, new, mine, pool, someone else's)."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_CANDADO_IMPORTACION,))
    cursor.execute(
        _SQL_DECIDIR,
        {"agente": destino.agente_id, "cartera": cartera_id, "importacion": resultado.importacion_id, "ahora": ahora},
    )
    for nombre, cantidad in cursor.fetchall():
        resultado.conteos[nombre] = resultado.conteos.get(nombre, 0) + int(cantidad)
    resultado.conteos["rechazado"] += resultado.rechazos_sin_detalle


def _cerrar_cartera(
    cursor: psycopg.Cursor[Any], cartera_id: int, resultado: ResultadoImportacion, borrar_partes: bool
) -> None:
    """Keep the cartera with its total, or drop it when nothing new came in; the stored file goes too."""
    if resultado.aceptados:
        resultado.cartera_id = cartera_id
        cursor.execute("UPDATE carteras SET total_contactos = %s WHERE id = %s", (resultado.aceptados, cartera_id))
    else:  # importing the same file twice adds nothing, not even an empty cartera
        cursor.execute("DELETE FROM carteras WHERE id = %s", (cartera_id,))
    if borrar_partes:
        cursor.execute("DELETE FROM importacion_partes WHERE importacion_id = %s", (resultado.importacion_id,))


def _registrar_completada(cursor: psycopg.Cursor[Any], resultado: ResultadoImportacion, ahora: datetime) -> None:
    c = resultado.conteos
    cursor.execute(
        """
        UPDATE importaciones_cartera
        SET estado = 'completada', progreso = 1, cartera_id = %s, filas = %s, aceptados = %s,
            rechazados = %s, duplicados = %s, existentes = %s, otro_agente = %s, suprimidos = %s,
            formato = %s, terminada_at = %s, error = NULL
        WHERE id = %s
        """,
        (
            resultado.cartera_id,
            resultado.filas,
            c["aceptado"],
            c["rechazado"],
            c["duplicado"],
            c["existente"],
            c["otro_agente"],
            c["suprimido"],
            resultado.formato,
            ahora,
            resultado.importacion_id,
        ),
    )


def _marcar_fallida(
    conninfo: str,
    importacion_id: int | None,
    destino: DestinoImportacion,
    mensaje: str,
    ahora: datetime,
    borrar_partes: bool,
) -> int:
    """Record the failure on its own connection (the import's transaction was rolled back); returns the id."""
    try:
        with psycopg.connect(conninfo, autocommit=True) as control:
            if importacion_id is None:
                fila = control.execute(_SQL_NUEVA_IMPORTACION, _valores_importacion(destino, "fallida", ahora))
                importacion_id = int(fila.fetchone()[0])  # type: ignore[index]
            control.execute(
                "UPDATE importaciones_cartera SET estado = 'fallida', error = %s, terminada_at = %s WHERE id = %s",
                (mensaje, ahora, importacion_id),
            )
            if borrar_partes:  # a file that cannot be read will not get better on retry
                control.execute("DELETE FROM importacion_partes WHERE importacion_id = %s", (importacion_id,))
    except psycopg.Error:
        log.exception("no_se_pudo_marcar_importacion_fallida", importacion_id=importacion_id)
    return importacion_id or 0
