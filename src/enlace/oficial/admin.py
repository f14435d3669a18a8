"""Managing official lines (admins), their quality for supervisors, the MXN price table and message costs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente, Equipo
from enlace.comun.actor import Actor
from enlace.comun.alcance import condicion_agente, exigir_rol
from enlace.comun.auditoria import registrar_auditoria
from enlace.errores import Conflicto, EntradaInvalida, NoEncontrado
from enlace.motores.cloud_api.config import NumeroOficial
from enlace.oficial import eventos, lineas
from enlace.oficial.models import (
    CATEGORIAS_PRECIO,
    TARIFAS_POR_OMISION,
    HistorialLinea,
    LineaOficial,
    TarifaOficial,
)
from enlace.oficial.schemas import (
    CostoFila,
    CostosSalida,
    HistorialSalida,
    LineaActualizar,
    LineaCrear,
    LineaSalida,
    SincronizacionSalida,
    Tarifa,
)
from enlace.sesiones.cifrado import CredencialesIlegibles, Llavero

RUTA_WEBHOOK = "/api/webhooks/whatsapp"


def _validar_url(url: str, *, permitir_local: bool) -> str:
    """https only; a local stand-in (http://127.0.0.1) only outside production (no SSRF through a line)."""
    url = url.strip().rstrip("/")
    local = url.startswith("http://127.0.0.1") or url.startswith("http://localhost")
    if not (url.startswith("https://") or (local and permitir_local)):
        raise EntradaInvalida("base_url: debe empezar con https://.", campos=["base_url"])
    return url


async def salida(session: AsyncSession, linea: LineaOficial) -> LineaSalida:
    agente = await session.get(Agente, linea.agente_id)
    webhook = RUTA_WEBHOOK if linea.proveedor == "meta" else f"{RUTA_WEBHOOK}/bsp/{linea.verify_token}"
    return LineaSalida(
        id=linea.id,
        agente_id=linea.agente_id,
        agente_nombre=agente.nombre if agente else None,
        equipo_id=agente.equipo_id if agente else None,
        phone_number_id=linea.phone_number_id,
        waba_id=linea.waba_id,
        numero=linea.numero,
        proveedor=linea.proveedor,
        base_url=linea.base_url,
        version=linea.version,
        activa=linea.activa,
        verificada_at=linea.verificada_at,
        verificacion_error=linea.verificacion_error,
        nombre_verificado=linea.nombre_verificado,
        calidad=linea.calidad,
        nivel=linea.nivel,
        limite_24h=eventos.limite_nivel(linea.nivel),
        marcada=linea.marcada,
        estado_cuenta=linea.estado_cuenta,
        calidad_at=linea.calidad_at,
        secretos_rotados_at=linea.secretos_rotados_at,
        webhook_url=webhook,
        verify_token=linea.verify_token,
    )


async def listar(session: AsyncSession, actor: Actor) -> list[LineaSalida]:
    """Admins see every line; supervisors the lines of their team (quality and tier, never secrets)."""
    exigir_rol(actor, "admin", "supervisor")
    stmt = (
        select(LineaOficial)
        .join(Agente, Agente.id == LineaOficial.agente_id)
        .where(condicion_agente(actor, LineaOficial.agente_id))
        .order_by(LineaOficial.id)
    )
    return [await salida(session, linea) for linea in (await session.scalars(stmt)).all()]


async def _linea(session: AsyncSession, actor: Actor, linea_id: int, *, bloquear: bool = False) -> LineaOficial:
    stmt = select(LineaOficial).where(LineaOficial.id == linea_id, condicion_agente(actor, LineaOficial.agente_id))
    if bloquear:
        stmt = stmt.with_for_update()
    linea = await session.scalar(stmt)
    if linea is None:
        raise NoEncontrado("La línea oficial no existe o no tienes acceso a ella.")
    return linea


async def _agente_de_linea(session: AsyncSession, agente_id: int | None, equipo_id: int | None, nombre: str) -> Agente:
    if (agente_id is None) == (equipo_id is None):
        raise EntradaInvalida(
            "agente_id / equipo_id: liga la línea a un agente o a la cola de un equipo (sólo uno de los dos).",
            campos=["agente_id", "equipo_id"],
        )
    if agente_id is not None:
        agente = await session.get(Agente, agente_id)
        if agente is None or not agente.activo:
            raise EntradaInvalida(f"agente_id: el agente {agente_id} no existe o está inactivo.", campos=["agente_id"])
        otra = await session.scalar(select(LineaOficial.id).where(LineaOficial.agente_id == agente_id))
        if otra is not None:
            raise Conflicto(f"agente_id: el agente {agente_id} ya tiene la línea oficial {otra}.")
        return agente
    if await session.get(Equipo, equipo_id) is None:
        raise EntradaInvalida(f"equipo_id: el equipo {equipo_id} no existe.", campos=["equipo_id"])
    agente = Agente(nombre=nombre, equipo_id=equipo_id)
    session.add(agente)
    await session.flush()
    return agente


async def crear(
    session: AsyncSession,
    actor: Actor,
    datos: LineaCrear,
    llavero: Llavero,
    ahora: datetime,
    *,
    permitir_local: bool = False,
) -> LineaOficial:
    exigir_rol(actor, "admin")
    if datos.proveedor == "meta" and not datos.app_secret:
        raise EntradaInvalida(
            "app_secret: Meta firma los webhooks con el secreto de la app; sin él no se pueden aceptar.",
            campos=["app_secret"],
        )
    existe = await session.scalar(select(LineaOficial.id).where(LineaOficial.phone_number_id == datos.phone_number_id))
    if existe is not None:
        raise Conflicto(f"phone_number_id: ya existe la línea oficial {existe} con ese número.")
    base_url = _validar_url(datos.base_url or lineas.url_por_defecto(datos.proveedor), permitir_local=permitir_local)
    nombre = datos.nombre or f"Línea oficial {datos.numero or datos.phone_number_id}"
    agente = await _agente_de_linea(session, datos.agente_id, datos.equipo_id, nombre)
    clave_id, blob = lineas.cifrar_secretos(llavero, datos.phone_number_id, datos.token, datos.app_secret)
    linea = LineaOficial(
        agente_id=agente.id,
        phone_number_id=datos.phone_number_id,
        waba_id=datos.waba_id,
        numero=datos.numero,
        proveedor=datos.proveedor,
        base_url=base_url,
        version=datos.version,
        verify_token=lineas.nuevo_verify_token(),
        secretos=blob,
        clave_id=clave_id,
        activa=True,
    )
    session.add(linea)
    await session.flush()
    session.add(HistorialLinea(linea_id=linea.id, momento=ahora, campo="alta", evento="creada"))
    await registrar_auditoria(
        session,
        actor,
        "linea_oficial.crear",
        objeto_tipo="linea_oficial",
        objeto_id=linea.id,
        detalle={"phone_number_id": linea.phone_number_id, "agente_id": agente.id, "proveedor": linea.proveedor},
    )
    return linea


async def actualizar(
    session: AsyncSession,
    actor: Actor,
    linea_id: int,
    datos: LineaActualizar,
    llavero: Llavero,
    ahora: datetime,
    *,
    permitir_local: bool = False,
) -> LineaOficial:
    exigir_rol(actor, "admin")
    linea = await _linea(session, actor, linea_id, bloquear=True)
    cambios: dict[str, Any] = {}
    if datos.token is not None or datos.app_secret is not None:
        try:
            actuales = lineas.secretos(llavero, linea)
        except CredencialesIlegibles:
            if datos.token is None or datos.app_secret is None:
                raise EntradaInvalida(
                    "token / app_secret: las credenciales guardadas no se pueden descifrar; envía ambos.",
                    campos=["token", "app_secret"],
                ) from None
            actuales = {}
        token = datos.token if datos.token is not None else actuales["token"]
        app_secret = datos.app_secret if datos.app_secret is not None else actuales.get("app_secret", "")
        linea.clave_id, linea.secretos = lineas.cifrar_secretos(llavero, linea.phone_number_id, token, app_secret)
        linea.secretos_rotados_at = ahora
        # New credentials must be proven again before anyone trusts the line's «verified» mark.
        linea.verificada_at = None
        cambios["secretos"] = [c for c in ("token", "app_secret") if getattr(datos, c) is not None]
    if datos.agente_id is not None or datos.equipo_id is not None:
        if datos.agente_id is not None and datos.agente_id != linea.agente_id:
            nuevo = await _agente_de_linea(session, datos.agente_id, None, "")
            linea.agente_id = nuevo.id
            cambios["agente_id"] = nuevo.id
        if datos.equipo_id is not None:
            if await session.get(Equipo, datos.equipo_id) is None:
                raise EntradaInvalida(f"equipo_id: el equipo {datos.equipo_id} no existe.", campos=["equipo_id"])
            agente = await session.get(Agente, linea.agente_id)
            if agente is not None:
                agente.equipo_id = datos.equipo_id
            cambios["equipo_id"] = datos.equipo_id
    if datos.base_url is not None:
        linea.base_url = _validar_url(datos.base_url, permitir_local=permitir_local)
        cambios["base_url"] = linea.base_url
    if datos.version is not None:
        linea.version = cambios["version"] = datos.version
    if datos.numero is not None:
        linea.numero = cambios["numero"] = datos.numero
    if datos.activa is not None and datos.activa != linea.activa:
        linea.activa = cambios["activa"] = datos.activa
        session.add(
            HistorialLinea(
                linea_id=linea.id, momento=ahora, campo="alta", evento="habilitada" if datos.activa else "deshabilitada"
            )
        )
    await session.flush()
    await registrar_auditoria(
        session, actor, "linea_oficial.actualizar", objeto_tipo="linea_oficial", objeto_id=linea.id, detalle=cambios
    )
    return linea


async def verificar(
    session: AsyncSession,
    actor: Actor,
    linea_id: int,
    llavero: Llavero,
    ahora: datetime,
    cliente: httpx.AsyncClient | None = None,
) -> LineaOficial:
    """The test call: read the number with its credentials; quality and tier come back with it."""
    exigir_rol(actor, "admin")
    linea = await _linea(session, actor, linea_id, bloquear=True)
    try:
        numero = lineas.numero_de(llavero, linea)
        datos = await lineas.llamada_de_prueba(numero, cliente)
    except CredencialesIlegibles:
        linea.verificada_at = None
        linea.verificacion_error = (
            "Ninguna clave configurada descifra el token de esta línea: vuelve a cargar token y app secret."
        )
        await session.flush()
        return linea
    except ValueError as exc:
        linea.verificada_at = None
        linea.verificacion_error = str(exc)[:500]
        session.add(HistorialLinea(linea_id=linea.id, momento=ahora, campo="verificacion", evento="fallida"))
        await session.flush()
        return linea
    linea.verificada_at = ahora
    linea.verificacion_error = None
    linea.nombre_verificado = datos.get("verified_name") or linea.nombre_verificado
    if not linea.numero and datos.get("display_phone_number"):
        digitos = "".join(c for c in str(datos["display_phone_number"]) if c.isdigit())
        linea.numero = "+" + digitos
    await eventos.registrar_calidad(
        session,
        linea,
        campo="verificacion",
        evento="correcta",
        ahora=ahora,
        calidad=datos.get("quality_rating"),
        nivel=datos.get("messaging_limit_tier"),
        detalle={k: datos[k] for k in ("quality_rating", "messaging_limit_tier", "verified_name") if k in datos},
    )
    await session.flush()
    return linea


async def historial(session: AsyncSession, actor: Actor, linea_id: int) -> list[HistorialSalida]:
    exigir_rol(actor, "admin", "supervisor")
    linea = await _linea(session, actor, linea_id)
    filas = (
        await session.scalars(
            select(HistorialLinea)
            .where(HistorialLinea.linea_id == linea.id)
            .order_by(HistorialLinea.momento.desc(), HistorialLinea.id.desc())
            .limit(200)
        )
    ).all()
    return [HistorialSalida.model_validate(f) for f in filas]


# ---- prices and costs -----------------------------------------------------------------------------------


async def _precios(session: AsyncSession) -> dict[str, Decimal]:
    precios = dict(TARIFAS_POR_OMISION)
    for f in (await session.scalars(select(TarifaOficial))).all():
        precios[f.categoria] = Decimal(f.precio_mxn)
    return precios


async def tarifas(session: AsyncSession, actor: Actor) -> list[Tarifa]:
    exigir_rol(actor, "admin", "supervisor")
    return [Tarifa(categoria=c, precio_mxn=p) for c, p in sorted((await _precios(session)).items())]


async def fijar_tarifas(session: AsyncSession, actor: Actor, nuevas: list[Tarifa], ahora: datetime) -> list[Tarifa]:
    exigir_rol(actor, "admin")
    for i, t in enumerate(nuevas):
        if t.categoria not in CATEGORIAS_PRECIO:
            raise EntradaInvalida(
                f"tarifas[{i}].categoria: «{t.categoria}» no es una categoría de Meta "
                f"({', '.join(CATEGORIAS_PRECIO)}).",
                campos=[f"tarifas[{i}].categoria"],
            )
    for t in nuevas:
        fila = await session.get(TarifaOficial, t.categoria)
        if fila is None:
            session.add(TarifaOficial(categoria=t.categoria, precio_mxn=t.precio_mxn, actualizada_at=ahora))
        else:
            fila.precio_mxn = t.precio_mxn
            fila.actualizada_at = ahora
    await session.flush()
    await registrar_auditoria(
        session, actor, "oficial.tarifas", detalle={t.categoria: str(t.precio_mxn) for t in nuevas}
    )
    return await tarifas(session, actor)


async def costos(
    session: AsyncSession, actor: Actor, *, por: str, desde: datetime | None, hasta: datetime | None
) -> CostosSalida:
    """Billable messages × the category's MXN price, per campaign or per month (report time zone)."""
    exigir_rol(actor, "admin", "supervisor")
    if por not in ("campana", "mes"):
        raise EntradaInvalida("por: usa «campana» o «mes».", campos=["por"])
    clave = (
        "coalesce(p.campana_id::text, 'sin campaña')"
        if por == "campana"
        else "to_char(p.momento AT TIME ZONE 'America/Mexico_City', 'YYYY-MM')"
    )
    filtro_actor = ""
    params: dict[str, Any] = {"desde": desde, "hasta": hasta}
    if not actor.es_admin:
        filtro_actor = " AND p.agente_id = ANY(:agentes)"
        params["agentes"] = list(
            (await session.scalars(select(Agente.id).where(condicion_agente(actor, Agente.id)))).all()
        )
    filas = (
        await session.execute(
            text(
                f"""SELECT {clave} AS clave, max(c.nombre) AS nombre, p.categoria,
                           count(*) AS mensajes, count(*) FILTER (WHERE p.facturable) AS facturables
                      FROM precios_mensajes p
                      LEFT JOIN campanas c ON c.id = p.campana_id
                     WHERE (CAST(:desde AS timestamptz) IS NULL OR p.momento >= :desde)
                       AND (CAST(:hasta AS timestamptz) IS NULL OR p.momento < :hasta){filtro_actor}
                  GROUP BY 1, p.categoria
                  ORDER BY 1, p.categoria"""
            ),
            params,
        )
    ).all()
    precios = await _precios(session)
    salida_filas = []
    total = Decimal("0")
    for f in filas:
        precio = precios.get(f.categoria, Decimal("0"))
        importe = (precio * f.facturables).quantize(Decimal("0.01"))
        total += importe
        salida_filas.append(
            CostoFila(
                clave=str(f.clave),
                nombre=f.nombre if por == "campana" else None,
                categoria=f.categoria,
                mensajes=f.mensajes,
                facturables=f.facturables,
                precio_mxn=precio,
                total_mxn=importe,
            )
        )
    return CostosSalida(por=por, filas=salida_filas, total_mxn=total)  # type: ignore[arg-type]


# ---- template review refresh ------------------------------------------------------------------------------


async def sincronizar_plantillas(
    session: AsyncSession, actor: Actor, numeros: list[NumeroOficial], ahora: datetime, cliente: httpx.AsyncClient
) -> SincronizacionSalida:
    """Read each WABA's templates (`GET /{waba-id}/message_templates`) and apply their review status."""
    exigir_rol(actor, "admin")
    vistos: set[str] = set()
    plantillas = actualizadas = 0
    detenidas: list[int] = []
    for numero in numeros:
        if numero.waba_id in vistos:
            continue
        vistos.add(numero.waba_id)
        url: str | None = numero.url_plantillas()
        params: dict[str, Any] | None = {"fields": "name,language,status,category,rejected_reason", "limit": 100}
        while url:
            try:
                respuesta = await cliente.get(url, headers=numero.cabeceras(), params=params)
            except httpx.HTTPError as exc:
                raise EntradaInvalida(
                    f"No se pudo consultar las plantillas de Meta: {exc.__class__.__name__}."
                ) from exc
            if respuesta.status_code != 200:
                raise EntradaInvalida(
                    f"Meta rechazó la consulta de plantillas de la cuenta {numero.waba_id} ({respuesta.status_code})."
                )
            cuerpo = respuesta.json()
            for t in cuerpo.get("data") or []:
                plantillas += 1
                antes = await _estado_actual(session, str(t.get("name")), t.get("language"))
                estado = str(t.get("status") or "").upper()
                if antes != estado:
                    actualizadas += 1
                    detenidas += await eventos.aplicar_estado_plantilla(
                        session, str(t.get("name")), t.get("language"), estado, t.get("rejected_reason"), ahora
                    )
            url = ((cuerpo.get("paging") or {}).get("next")) or None
            params = None
    return SincronizacionSalida(plantillas=plantillas, actualizadas=actualizadas, campanas_detenidas=detenidas)


async def _estado_actual(session: AsyncSession, nombre: str, idioma: str | None) -> str | None:
    for p in await eventos._plantillas_con_nombre(session, nombre, idioma):
        return p.estado_meta
    return "__ninguna__"
