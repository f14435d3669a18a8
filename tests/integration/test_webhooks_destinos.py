"""Webhook destinations: internal addresses refused on the address resolved at delivery time (SSRF)."""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest

from enlace.webhooks.destinos import DestinoProhibido, PoliticaDestinos, TransporteDestinosPublicos, cliente_http
from enlace.webhooks.service import intentar_entrega
from tests.integration.test_webhooks import Receptor, _entregas, _evento, _suscribir
from tests.integration.test_webhooks import receptor as receptor
from tests.integration.test_webhooks import reloj_outbox as reloj_outbox


@pytest.mark.parametrize(
    "direccion",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "::ffff:127.0.0.1",
        "fd00:ec2::254",
        "fe80::1",
        "224.0.0.1",
    ],
)
def test_direcciones_internas_se_rechazan(direccion: str) -> None:
    assert not PoliticaDestinos().permite(ipaddress.ip_address(direccion))


def test_publicas_y_lista_permitida() -> None:
    assert PoliticaDestinos().permite(ipaddress.ip_address("8.8.8.8"))
    politica = PoliticaDestinos.desde_texto("10.20.0.0/16, crm.interno.mx")
    assert politica.permite(ipaddress.ip_address("10.20.3.4"))
    assert not politica.permite(ipaddress.ip_address("10.21.0.1"))
    assert "crm.interno.mx" in politica.hosts


async def test_entrega_a_loopback_se_rechaza_sin_revelar_nada(
    nucleo: Any,
    reloj: Any,
    receptor: Receptor,
    cliente_como: Any,
) -> None:
    admin = await cliente_como("admin")
    sus = await _suscribir(admin, receptor.url, ["contacto.baja"])
    await _evento(nucleo, "contacto.baja", {"contacto_id": 1, "telefono": "+525512345678"})
    entrega = (await _entregas(nucleo))[0]
    async with cliente_http("") as http:  # the worker's client, default settings
        resultado = await intentar_entrega(nucleo.fabrica, entrega.id, reloj, http)
    assert resultado.estado == "reintentar" and resultado.status_http is None
    assert receptor.peticiones == []
    detalle = (await admin.get(f"/api/webhooks/{sus['id']}/entregas")).json()[0]
    assert detalle["ultimo_status"] is None
    assert "destino no permitido" in detalle["ultimo_error"] and "127.0.0.1" not in detalle["ultimo_error"]


async def test_se_revisa_la_direccion_resuelta_en_cada_entrega(receptor: Receptor) -> None:
    """The name is resolved and checked per request and the connection goes to that address."""
    puerto = httpx.URL(receptor.url).port
    respuestas = {"crm.ejemplo.mx": "127.0.0.1"}

    async def resolver(host: str, _puerto: int) -> list[str]:
        return [respuestas[host]]

    transporte = TransporteDestinosPublicos(PoliticaDestinos.desde_texto("127.0.0.1/32"), resolver=resolver)
    async with httpx.AsyncClient(transport=transporte) as http:
        r = await http.post(f"http://crm.ejemplo.mx:{puerto}/crm", content=b"{}")
        assert r.status_code == 200
        assert receptor.peticiones[0][0]["Host"] == f"crm.ejemplo.mx:{puerto}"
        respuestas["crm.ejemplo.mx"] = "10.0.0.5"  # the name now points inside (DNS rebinding)
        with pytest.raises(DestinoProhibido):
            await http.post(f"http://crm.ejemplo.mx:{puerto}/crm", content=b"{}")
    assert len(receptor.peticiones) == 1
