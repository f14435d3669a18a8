"""FastAPI application factory: routers under /api, one error shape, request ids, the panel, socket.io."""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import socketio
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enlace import __version__
from enlace.auth.service import autenticar_peticion
from enlace.cabeceras import CabecerasSeguridad
from enlace.comun.alcances_token import documentar as documentar_alcances
from enlace.dependencias import ActorDep
from enlace.entrada import RechazarNulos
from enlace.errores import ErrorEnlace, cuerpo_error
from enlace.limites import CuerpoDemasiadoGrande, LimiteCuerpo
from enlace.nucleo import Nucleo

log = structlog.get_logger(__name__)

DIRECTORIO_WEB = Path(__file__).resolve().parents[2] / "web" / "dist"

NOMBRES_HTTP = {
    400: ("peticion_invalida", "La petición no es válida."),
    401: ("no_autenticado", "Inicia sesión para continuar."),
    403: ("prohibido", "No tienes permiso para esta acción."),
    404: ("no_encontrado", "La ruta o el recurso no existe."),
    405: ("metodo_no_permitido", "Este método no está permitido en esta ruta."),
    413: ("demasiado_grande", "El archivo o la petición es demasiado grande."),
    415: ("tipo_no_soportado", "El tipo de contenido no es compatible."),
}


def _routers() -> list[Any]:
    """Every domain's router; a new domain adds its line here."""
    from enlace.agentes.routes import router as agentes
    from enlace.auth.routes import router as auth
    from enlace.campanas.routes import router as campanas
    from enlace.carteras.routes import router as carteras
    from enlace.conversaciones.routes import router as conversaciones
    from enlace.cumplimiento.routes import router as cumplimiento
    from enlace.envios.routes import router as envios
    from enlace.oficial.routes import router as oficial
    from enlace.plantillas.routes import router as plantillas
    from enlace.reportes.routes import router as reportes
    from enlace.sesiones.routes import router as sesiones
    from enlace.webhooks.routes import router as webhooks

    return [
        auth,
        agentes,
        reportes,
        cumplimiento,
        oficial,
        webhooks,
        conversaciones,
        sesiones,
        plantillas,
        campanas,
        envios,
        carteras,
    ]


def describir_error_validacion(errores: list[dict[str, Any]]) -> str:
    """Pydantic errors → one Spanish sentence naming each field and what to do."""
    partes = []
    for error in errores[:5]:
        ubicacion = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header", "cookie")]
        campo = ".".join(ubicacion) or "petición"
        tipo = error.get("type", "")
        contexto = error.get("ctx") or {}
        if tipo == "missing":
            detalle = "es obligatorio"
        elif tipo in ("string_too_short",):
            detalle = f"debe tener al menos {contexto.get('min_length')} caracteres"
        elif tipo in ("string_too_long",):
            detalle = f"debe tener como máximo {contexto.get('max_length')} caracteres"
        elif tipo.startswith("int") or tipo.startswith("float"):
            detalle = "debe ser un número"
        elif tipo == "literal_error" or tipo == "enum":
            detalle = f"debe ser uno de: {contexto.get('expected')}"
        elif tipo == "string_pattern_mismatch":
            detalle = "tiene caracteres no permitidos"
        elif tipo.startswith("datetime") or tipo.startswith("date"):
            detalle = "debe ser una fecha válida (AAAA-MM-DD o ISO 8601)"
        elif tipo == "json_invalid":
            detalle = "el cuerpo no es JSON válido"
        elif tipo.startswith("bool"):
            detalle = "debe ser verdadero o falso"
        elif tipo in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            limite = next(iter(contexto.values()), "")
            signo = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}[tipo]
            detalle = f"debe ser {signo} {limite}"
        else:
            detalle = "no es válido"
        partes.append(f"{campo}: {detalle}")
    return "Revisa los datos enviados — " + "; ".join(partes) + "."


class IdPeticion:
    """Binds a request id to every log line of the request and returns it as X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cabeceras = dict(scope.get("headers") or [])
        entrante = cabeceras.get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = entrante if entrante.replace("-", "").isalnum() else uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def enviar(mensaje: Message) -> None:
            if mensaje["type"] == "http.response.start":
                mensaje.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(mensaje)

        try:
            await self.app(scope, receive, enviar)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")


def _entero_enorme(valor: Any) -> bool:
    """A path id no integer column can hold (so nothing can have it)."""
    texto = str(valor)
    return texto.lstrip("-").isdigit() and abs(int(texto)) > 2**31 - 1


def create_app(nucleo: Nucleo, *, iniciar_nucleo: bool = True) -> FastAPI:
    @asynccontextmanager
    async def ciclo(app: FastAPI) -> AsyncIterator[None]:
        if iniciar_nucleo:
            await nucleo.iniciar()
        try:
            yield
        finally:
            if iniciar_nucleo:
                await nucleo.detener()

    app = FastAPI(
        title="Enlace",
        version=__version__,
        description="API de Enlace: sesiones de WhatsApp, carteras, campañas, captura, cumplimiento y supervisión.",
        lifespan=ciclo,
        # Off in production unless ENLACE_DOCS=true: the schema maps every route for whoever asks.
        docs_url="/docs" if nucleo.settings.docs_activas else None,
        redoc_url="/redoc" if nucleo.settings.docs_activas else None,
        openapi_url="/openapi.json" if nucleo.settings.docs_activas else None,
    )
    app.state.nucleo = nucleo
    app.state.autenticar = autenticar_peticion
    ajustes = nucleo.settings
    # Outermost last. The body limit wraps the NUL guard, which reads JSON bodies whole: nothing past
    # the limit is ever buffered.
    app.add_middleware(RechazarNulos)
    app.add_middleware(
        LimiteCuerpo, limite_json=ajustes.limite_json_kb * 1024, limite_subida=ajustes.limite_subida_mb * 1024 * 1024
    )
    app.add_middleware(CabecerasSeguridad)
    app.add_middleware(IdPeticion)

    @app.exception_handler(CuerpoDemasiadoGrande)
    async def _cuerpo_grande(_request: Request, exc: CuerpoDemasiadoGrande) -> JSONResponse:
        return JSONResponse(cuerpo_error("demasiado_grande", exc.mensaje), 413)

    @app.exception_handler(ErrorEnlace)
    async def _error_enlace(_request: Request, exc: ErrorEnlace) -> JSONResponse:
        cabeceras = {}
        if exc.status == 429 and exc.extra.get("reintentar_en_s"):
            cabeceras["Retry-After"] = str(exc.extra["reintentar_en_s"])
        return JSONResponse(cuerpo_error(exc.codigo, exc.mensaje, **exc.extra), exc.status, headers=cabeceras)

    @app.exception_handler(RequestValidationError)
    async def _error_validacion(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errores = list(exc.errors())
        campos = [".".join(str(p) for p in e.get("loc", ())[1:]) or str(e.get("loc", ("",))[0]) for e in errores]
        return JSONResponse(cuerpo_error("entrada_invalida", describir_error_validacion(errores), campos=campos), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _error_http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codigo, mensaje = NOMBRES_HTTP.get(exc.status_code, ("error", "No se pudo atender la petición."))
        if isinstance(exc.detail, str) and exc.detail and exc.status_code not in NOMBRES_HTTP:
            mensaje = exc.detail
        return JSONResponse(cuerpo_error(codigo, mensaje), exc.status_code, headers=exc.headers)

    @app.exception_handler(DataError)
    async def _dato_invalido(request: Request, exc: DataError) -> JSONResponse:
        """A value PostgreSQL refuses (an id beyond integer range, text too long): the caller's input."""
        estado = getattr(getattr(exc, "orig", None), "sqlstate", None)
        log.info("dato_rechazado_por_bd", sqlstate=estado)
        if estado == "22003" and any(_entero_enorme(v) for v in request.path_params.values()):
            return JSONResponse(cuerpo_error("no_encontrado", NOMBRES_HTTP[404][1]), 404)
        mensaje = "Un dato de la petición está fuera de rango o no tiene el formato esperado. Revísalo."
        return JSONResponse(cuerpo_error("entrada_invalida", mensaje), 422)

    @app.exception_handler(Exception)
    async def _error_interno(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("error_no_controlado", error=type(exc).__name__)
        return JSONResponse(
            cuerpo_error("error_interno", "Ocurrió un error inesperado. Inténtalo de nuevo; si persiste, avisa a TI."),
            500,
        )

    @app.get("/healthz", tags=["salud"])
    async def healthz() -> dict[str, str]:
        return {"estado": "vivo"}

    @app.get("/readyz", tags=["salud"])
    async def readyz() -> JSONResponse:
        from enlace.db.migrar import revision_cabeza

        try:
            async with nucleo.motor_bd.connect() as conexion:
                actual = await conexion.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception:
            error = cuerpo_error("bd_no_disponible", "La base de datos no responde o no está migrada.")
            return JSONResponse(error, 503)
        cabeza = revision_cabeza()
        if actual != cabeza:
            return JSONResponse(
                cuerpo_error("migraciones_pendientes", f"La base está en {actual}; falta migrar a {cabeza}."), 503
            )
        return JSONResponse({"estado": "listo", "migracion": actual})

    @app.get("/api/reloj", tags=["salud"])
    async def reloj(_actor: ActorDep) -> dict[str, Any]:
        """The server's clock (the simulator's, when it runs faster): the panel shows every time on this one."""
        return {
            "ahora": nucleo.reloj.ahora().isoformat(),
            "zona": "America/Mexico_City",
            "velocidad": float(getattr(nucleo.reloj, "velocidad", 1.0) or 1.0),
        }

    for router in _routers():
        app.include_router(router)
    documentar_alcances(app)

    _montar_panel(app)
    _documentar_errores(app)
    return app


ESQUEMA_ERROR = {
    "title": "Error",
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"codigo": {"type": "string"}, "mensaje": {"type": "string"}},
            "required": ["codigo", "mensaje"],
        }
    },
    "required": ["error"],
}


def _documentar_errores(app: FastAPI) -> None:
    """The schema says what errors really look like: every 422 is `{"error": {codigo, mensaje}}`."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            esquema = original()
            componentes = esquema.setdefault("components", {}).setdefault("schemas", {})
            componentes["HTTPValidationError"] = ESQUEMA_ERROR
            componentes.pop("ValidationError", None)
            app.openapi_schema = esquema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# Vite puts a content hash in every file name under assets/: such a file never changes, so browsers may keep it.
CACHE_INMUTABLE = "public, max-age=31536000, immutable"
CACHE_CORTO = "public, max-age=3600"
# Precompressed siblings written by web/scripts/comprimir.mjs at build time, best first.
CODIFICACIONES = (("br", ".br"), ("gzip", ".gz"))


def _acepta(request: Request, codificacion: str) -> bool:
    for parte in request.headers.get("accept-encoding", "").lower().split(","):
        nombre, _, parametros = parte.strip().partition(";")
        if nombre.strip() == codificacion:
            return parametros.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def servir_estatico(request: Request, archivo: Path, cache: str) -> FileResponse:
    """The file, or its precompressed .br/.gz sibling when the browser accepts it, with caching headers."""
    cabeceras = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
    for codificacion, sufijo in CODIFICACIONES:
        comprimido = archivo.with_name(archivo.name + sufijo)
        if _acepta(request, codificacion) and comprimido.is_file():
            tipo = mimetypes.guess_type(archivo.name)[0] or "application/octet-stream"
            if tipo.startswith("text/") or tipo == "application/javascript":
                tipo += "; charset=utf-8"
            return FileResponse(comprimido, media_type=tipo, headers={**cabeceras, "Content-Encoding": codificacion})
    return FileResponse(archivo, headers=cabeceras)


def _montar_panel(app: FastAPI) -> None:
    """Serve the built React panel (web/dist) with SPA fallback; /api stays JSON."""
    if not (DIRECTORIO_WEB / "index.html").exists():
        return
    raiz = DIRECTORIO_WEB.resolve()

    def metodos_de(request: Request) -> set[str]:
        """Methods the real routes accept for this request's path (the catch-all itself excluded)."""
        metodos: set[str] = set()
        for metodo in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            alcance = {**request.scope, "method": metodo}
            for r in app.router.routes:
                if getattr(r, "endpoint", None) is panel:
                    continue
                coincide, _ = r.matches(alcance)
                if coincide == Match.FULL:
                    metodos.add(metodo)
                    break
        return metodos

    # Every method reaches this catch-all, so a wrong method on a real route answers 405 (with
    # Allow) instead of the panel's 404; only GET/HEAD serve the panel's files.
    @app.api_route("/{ruta:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def panel(ruta: str, request: Request) -> FileResponse:
        if ruta.startswith(("api/", "socket.io")):
            metodos = metodos_de(request)
            if metodos and request.method not in metodos:
                raise StarletteHTTPException(405, headers={"Allow": ", ".join(sorted(metodos))})
            raise StarletteHTTPException(404)
        if request.method not in ("GET", "HEAD"):
            raise StarletteHTTPException(405, headers={"Allow": "GET, HEAD"})
        candidato = (raiz / ruta).resolve()
        if ruta and candidato.is_file() and candidato.is_relative_to(raiz) and candidato.suffix not in (".br", ".gz"):
            inmutable = candidato.is_relative_to(raiz / "assets")
            return servir_estatico(request, candidato, CACHE_INMUTABLE if inmutable else CACHE_CORTO)
        # index.html names the current hashed assets: always revalidated.
        return servir_estatico(request, raiz / "index.html", "no-cache")


def create_asgi(nucleo: Nucleo) -> ASGIApp:
    """The served application: socket.io at /socket.io in front of the FastAPI app."""
    from enlace.api_tiempo_real import crear_servidor
    from enlace.tiempo_real.bus import configurar_emisor

    app = create_app(nucleo)
    sio = crear_servidor(nucleo)
    nucleo.sio = sio

    async def emitir(evento: str, datos: dict[str, Any], sala: str) -> None:
        await sio.emit(evento, datos, room=sala)

    configurar_emisor(emitir)
    return socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="socket.io")
