"""Where webhooks may go: public addresses only, checked on the resolved address at delivery time.

A subscription URL could name loopback, the private network or the cloud metadata service (a
server-side request forgery). The check runs in the HTTP transport, on the address the name resolves
to right now, and the connection goes to exactly that address (the Host header and TLS name stay the
URL's), so a name that resolves to a public address when checked and to 127.0.0.1 a moment later
(DNS rebinding) cannot pass. An on-premise CRM is allowed explicitly with
ENLACE_WEBHOOKS_DESTINOS_PERMITIDOS ("10.20.0.0/16,crm.interno.mx").
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

Direccion = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]


class DestinoProhibido(httpx.ConnectError):
    """The destination resolves to an address webhooks may not reach; the message names no address."""


@dataclass(frozen=True)
class PoliticaDestinos:
    redes: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def desde_texto(cls, texto: str) -> PoliticaDestinos:
        redes, hosts = [], set()
        for parte in filter(None, (p.strip() for p in texto.split(","))):
            try:
                redes.append(ipaddress.ip_network(parte, strict=False))
            except ValueError:
                hosts.add(parte.lower().rstrip("."))
        return cls(tuple(redes), frozenset(hosts))

    def permite(self, direccion: Direccion) -> bool:
        if isinstance(direccion, ipaddress.IPv6Address) and direccion.ipv4_mapped is not None:
            direccion = direccion.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
        if any(direccion in red for red in self.redes):
            return True
        # Only globally routable unicast: refuses loopback, RFC 1918, link-local (169.254.169.254, the
        # metadata service), CGNAT, unique-local IPv6, multicast, reserved and unspecified addresses.
        return direccion.is_global and not direccion.is_multicast


async def resolver_sistema(host: str, puerto: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, puerto, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class TransporteDestinosPublicos(httpx.AsyncBaseTransport):
    """An httpx transport that resolves, checks and pins the destination address of every request."""

    def __init__(self, politica: PoliticaDestinos, *, resolver: Resolver = resolver_sistema) -> None:
        self.politica = politica
        self.resolver = resolver
        self._interno = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.lower().rstrip(".")
        if host in self.politica.hosts:
            return await self._interno.handle_async_request(request)
        puerto = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            direcciones = [ipaddress.ip_address(d.split("%")[0]) for d in await self.resolver(host, puerto)]
        except (OSError, ValueError) as exc:
            raise httpx.ConnectError("no se pudo resolver el nombre del destino", request=request) from exc
        if not direcciones or not all(self.politica.permite(d) for d in direcciones):
            raise DestinoProhibido(
                "destino no permitido: la URL apunta a una dirección interna; si es el CRM de la empresa, "
                "agrégala a ENLACE_WEBHOOKS_DESTINOS_PERMITIDOS",
                request=request,
            )
        # Connect to the address just checked; the Host header and TLS name stay the URL's.
        request.url = request.url.copy_with(host=str(direcciones[0]))
        request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._interno.handle_async_request(request)

    async def aclose(self) -> None:
        await self._interno.aclose()


def cliente_http(texto_permitidos: str) -> httpx.AsyncClient:
    """The client webhook workers post with."""
    transporte = TransporteDestinosPublicos(PoliticaDestinos.desde_texto(texto_permitidos))
    return httpx.AsyncClient(transport=transporte, follow_redirects=False)
