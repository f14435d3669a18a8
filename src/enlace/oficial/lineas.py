"""Official lines stored in the database: encrypted credentials, add / verify / enable / bind / rotate.

Tokens and app secrets are encrypted with the same key ring as WhatsApp credentials
(`sesiones/cifrado.py`, AES-256-GCM, rotatable with `enlace rotar-clave`), bound to the phone number id
so a blob copied to another row does not open. The API never returns them.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente
from enlace.motores.cloud_api.config import URL_360DIALOG, URL_GRAPH, NumeroOficial, leer_numeros
from enlace.oficial.models import HistorialLinea, LineaOficial
from enlace.sesiones.cifrado import CredencialesIlegibles, Llavero
from enlace.settings import Settings


def contexto_linea(phone_number_id: str) -> bytes:
    return f"enlace:linea-oficial:{phone_number_id}".encode()


def cifrar_secretos(llavero: Llavero, phone_number_id: str, token: str, app_secret: str) -> tuple[str, bytes]:
    return llavero.cifrar({"token": token, "app_secret": app_secret}, contexto_linea(phone_number_id))


def secretos(llavero: Llavero, linea: LineaOficial) -> dict[str, str]:
    return llavero.descifrar(linea.clave_id, linea.secretos, contexto_linea(linea.phone_number_id))


def numero_de(llavero: Llavero, linea: LineaOficial) -> NumeroOficial:
    s = secretos(llavero, linea)
    return NumeroOficial(
        phone_number_id=linea.phone_number_id,
        waba_id=linea.waba_id,
        token=s["token"],
        app_secret=s.get("app_secret", ""),
        verify_token=linea.verify_token,
        agente_id=linea.agente_id,
        numero=linea.numero,
        version=linea.version,
        base_url=linea.base_url,
        proveedor=linea.proveedor,
        linea_id=linea.id,
    )


async def numeros_activos(session: AsyncSession, llavero: Llavero) -> list[NumeroOficial]:
    """Enabled lines with credentials this node can open (a line no key opens is skipped, not fatal)."""
    filas = (await session.scalars(select(LineaOficial).where(LineaOficial.activa.is_(True)))).all()
    numeros = []
    for linea in filas:
        try:
            numeros.append(numero_de(llavero, linea))
        except CredencialesIlegibles:
            continue
    return numeros


async def todos_los_numeros(session: AsyncSession, llavero: Llavero, settings: Settings) -> list[NumeroOficial]:
    """Every line that may receive webhooks: the stored ones (enabled or not) plus unmigrated settings lines."""
    filas = (await session.scalars(select(LineaOficial))).all()
    numeros: list[NumeroOficial] = []
    for linea in filas:
        try:
            numeros.append(numero_de(llavero, linea))
        except CredencialesIlegibles:
            continue
    conocidos = {n.phone_number_id for n in numeros}
    numeros.extend(n for n in leer_numeros(settings) if n.phone_number_id not in conocidos)
    return numeros


def url_por_defecto(proveedor: str) -> str:
    return URL_360DIALOG if proveedor == "360dialog" else URL_GRAPH


async def migrar_desde_settings(session: AsyncSession, settings: Settings, llavero: Llavero, ahora: datetime) -> int:
    """Copy `ENLACE_CLOUD_NUMEROS` lines into `lineas_oficiales` (encrypted) once; returns how many were new."""
    nuevas = 0
    for n in leer_numeros(settings):
        existe = await session.scalar(
            select(LineaOficial.id).where(
                (LineaOficial.phone_number_id == n.phone_number_id) | (LineaOficial.agente_id == n.agente_id)
            )
        )
        if existe is not None or await session.get(Agente, n.agente_id) is None:
            continue
        clave_id, blob = cifrar_secretos(llavero, n.phone_number_id, n.token, n.app_secret)
        linea = LineaOficial(
            agente_id=n.agente_id,
            phone_number_id=n.phone_number_id,
            waba_id=n.waba_id,
            numero=n.numero,
            proveedor=n.proveedor,
            base_url=n.base_url,
            version=n.version,
            verify_token=n.verify_token,
            secretos=blob,
            clave_id=clave_id,
        )
        session.add(linea)
        await session.flush()
        session.add(
            HistorialLinea(linea_id=linea.id, momento=ahora, campo="migracion", evento="desde_settings", detalle=None)
        )
        nuevas += 1
    return nuevas


def nuevo_verify_token() -> str:
    return secrets.token_urlsafe(24)


async def llamada_de_prueba(numero: NumeroOficial, cliente: httpx.AsyncClient | None = None) -> dict[str, Any]:
    """Read the number with its credentials (Graph API `GET /{phone-number-id}`; 360dialog's config read).

    Returns the body on success; raises `ValueError` with a Spanish reason otherwise.
    """
    propio = cliente is None
    http = cliente or httpx.AsyncClient(timeout=httpx.Timeout(15.0))
    try:
        try:
            respuesta = await http.get(numero.url_numero(), headers=numero.cabeceras())
        except httpx.HTTPError as exc:
            raise ValueError(f"No se pudo contactar {numero.base_url}: {exc.__class__.__name__}.") from exc
        if respuesta.status_code == 200:
            try:
                cuerpo = respuesta.json()
            except ValueError:
                raise ValueError("La respuesta del proveedor no es JSON.") from None
            return cuerpo if isinstance(cuerpo, dict) else {}
        try:
            error = respuesta.json().get("error") or {}
        except ValueError:
            error = {}
        codigo = error.get("code")
        if respuesta.status_code == 401 or codigo == 190:
            raise ValueError("El token no es válido o expiró (código 190): genera uno nuevo en Meta Business.")
        if codigo == 100:
            raise ValueError("El phone number id no existe o el token no tiene acceso a él (código 100).")
        raise ValueError(f"El proveedor respondió {respuesta.status_code}: {error.get('message') or 'sin detalle'}.")
    finally:
        if propio:
            await http.aclose()


async def rotar_lineas(session: AsyncSession, llavero: Llavero) -> tuple[int, list[int]]:
    """Re-encrypt every line's secrets under the key ring's current key (`enlace rotar-clave`).

    Returns (re-encrypted, ids of lines no configured key opens). Rows are locked while rewritten.
    """
    recifradas = 0
    ilegibles: list[int] = []
    for linea in (await session.scalars(select(LineaOficial).order_by(LineaOficial.id).with_for_update())).all():
        if not llavero.necesita_rotar(linea.clave_id):
            continue
        try:
            linea.clave_id, linea.secretos = llavero.recifrar(
                linea.clave_id, linea.secretos, contexto_linea(linea.phone_number_id)
            )
        except CredencialesIlegibles:
            ilegibles.append(linea.id)
            continue
        recifradas += 1
    await session.flush()
    return recifradas, ilegibles
