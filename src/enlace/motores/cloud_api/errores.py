"""What to do with each error code the Cloud API documents for sends and statuses.

Every code falls in one of four classes, and the class decides the outcome for the row and the line:

- `reintentar`: nothing reached the person; the row goes back to the queue after `espera_s` seconds.
- `fallo`: permanent failure for this recipient (the row ends `fallido` with the code).
- `suprimir`: the person asked not to receive marketing (131050): the row fails and the number goes to
  the suppression list, exactly like a «STOP» reply.
- `parar_linea`: the line itself is in trouble (quality, policy, account, credentials): a safety stop
  with the reason, lifted only by a supervisor.

Codes not in the table are treated as `fallo` (never retried blindly: a retry is another message to
the person). The table is printed in `docs/oficial.md`; `tests/integration/test_oficial_errores.py`
runs every row against the Graph API stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ClaseError(StrEnum):
    reintentar = "reintentar"
    fallo = "fallo"
    suprimir = "suprimir"
    parar_linea = "parar_linea"


@dataclass(frozen=True, slots=True)
class ReglaError:
    codigo: int
    titulo: str  # Meta's title, for logs and the docs table
    clase: ClaseError
    mensaje: str  # Spanish, shown to agents and supervisors
    espera_s: float | None = None  # `reintentar`: how long to wait before the same row is tried again
    sesion_cerrada: bool = False  # `parar_linea` by credentials: the token must be replaced
    detiene_plantilla: bool = False  # the template itself is unusable: stop the campaigns that use it


MINUTO = 60.0
HORA = 3600.0
DIA = 86400.0

_R = ClaseError.reintentar
_F = ClaseError.fallo
_S = ClaseError.suprimir
_P = ClaseError.parar_linea

TABLA: tuple[ReglaError, ...] = (
    # ---- authorization: the token or the app's permissions (stop the line, replace the token) ----
    ReglaError(0, "AuthException", _P, "No se pudo autenticar la app con Meta: renueva el token.", sesion_cerrada=True),
    ReglaError(3, "API Method", _P, "La app no tiene permiso para enviar por esta línea (capacidad o permisos)."),
    ReglaError(10, "Permission Denied", _P, "Meta retiró o no concedió el permiso de mensajería a la app."),
    ReglaError(
        190,
        "Access token has expired",
        _P,
        "El token de acceso de la Cloud API expiró o no es válido: renuévalo en la configuración.",
        sesion_cerrada=True,
    ),
    ReglaError(200, "API Permission", _P, "Falta el permiso whatsapp_business_messaging en la app de Meta."),
    # ---- throttling ----
    ReglaError(
        4, "API Too Many Calls", _R, "La app hizo demasiadas llamadas a Meta; se reintenta.", espera_s=5 * MINUTO
    ),
    ReglaError(
        80007,
        "Rate limit issues",
        _R,
        "La cuenta de WhatsApp Business alcanzó su límite de llamadas; se reintenta en una hora.",
        espera_s=HORA,
    ),
    ReglaError(
        130429,
        "Rate limit hit",
        _R,
        "WhatsApp limitó el ritmo de este número oficial; se reintentará más tarde.",
        espera_s=MINUTO,
    ),
    ReglaError(
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
        _R,
        "Demasiados mensajes seguidos a este destinatario; se espera antes de volver a escribirle.",
        espera_s=MINUTO,
    ),
    # ---- integrity: the line is being punished; keep sending and it gets worse ----
    ReglaError(
        368,
        "Temporarily blocked for policies violations",
        _P,
        "Meta bloqueó temporalmente la línea por infringir sus políticas.",
    ),
    ReglaError(
        130497,
        "Business account is restricted from messaging users in this country",
        _F,
        "La cuenta no puede escribir a números de ese país.",
    ),
    ReglaError(
        131031,
        "Account has been locked",
        _P,
        "Meta bloqueó la cuenta por una infracción de integridad (o el PIN de dos pasos no coincide).",
    ),
    ReglaError(
        131048,
        "Spam rate limit hit",
        _P,
        "Meta limitó la línea por posible spam: demasiadas personas bloquearon o reportaron sus mensajes.",
    ),
    # ---- the recipient ----
    ReglaError(
        131026,
        "Message Undeliverable",
        _F,
        "WhatsApp no pudo entregar el mensaje a este número (puede no tener WhatsApp).",
    ),
    ReglaError(131021, "Recipient cannot be sender", _F, "El destinatario es el propio número de la línea."),
    ReglaError(
        131047,
        "Re-engagement message",
        _F,
        "Pasaron más de 24 horas desde el último mensaje de la persona: sólo se puede enviar una plantilla aprobada.",
    ),
    ReglaError(
        131049,
        "This message was not delivered to maintain healthy ecosystem engagement",
        _R,
        "Meta limitó los mensajes de marketing a esta persona por ahora; se reintenta mañana.",
        espera_s=DIA,
    ),
    ReglaError(
        130472,
        "User's number is part of an experiment",
        _R,
        "El número participa en un experimento de Meta que no recibe marketing; se reintenta mañana.",
        espera_s=DIA,
    ),
    ReglaError(
        131050,
        "Unable to deliver the message: user has stopped marketing messages",
        _S,
        "La persona pidió no recibir mensajes de marketing de esta empresa: se agregó a la lista de supresión.",
    ),
    # ---- the request itself (our bug or bad data for this row) ----
    ReglaError(100, "Invalid parameter", _F, "La Cloud API rechazó un parámetro del mensaje."),
    ReglaError(131008, "Required parameter is missing", _F, "Falta un parámetro obligatorio del mensaje."),
    ReglaError(131009, "Parameter value is not valid", _F, "Un valor del mensaje no es válido."),
    ReglaError(131051, "Unsupported message type", _F, "Tipo de mensaje no admitido."),
    ReglaError(131052, "Media download error", _F, "WhatsApp no pudo descargar el archivo del mensaje."),
    ReglaError(131053, "Media upload error", _F, "No se pudo subir el archivo del mensaje."),
    ReglaError(131055, "Method not allowed", _F, "Método no permitido por la API."),
    ReglaError(135000, "Generic user error", _F, "Meta rechazó el mensaje por un error del contenido."),
    # ---- templates ----
    ReglaError(
        132000, "Template Param Count Mismatch", _F, "El número de parámetros no coincide con la plantilla aprobada."
    ),
    ReglaError(
        132001,
        "Template does not exist",
        _F,
        "La plantilla no existe en ese idioma o no está aprobada.",
        detiene_plantilla=True,
    ),
    ReglaError(132005, "Template Hydrated Text Too Long", _F, "El texto con los parámetros excede el largo permitido."),
    ReglaError(
        132007,
        "Template Format Character Policy Violated",
        _F,
        "Un parámetro tiene caracteres que la política de plantillas no permite.",
    ),
    ReglaError(
        132012, "Template Parameter Format Mismatch", _F, "Un parámetro no tiene el formato que pide la plantilla."
    ),
    ReglaError(
        132015,
        "Template is Paused",
        _F,
        "Meta pausó la plantilla por baja calidad: las campañas que la usan se detienen.",
        detiene_plantilla=True,
    ),
    ReglaError(
        132016,
        "Template is Disabled",
        _F,
        "Meta deshabilitó la plantilla: las campañas que la usan se detienen.",
        detiene_plantilla=True,
    ),
    ReglaError(132068, "Flow is blocked", _F, "El flujo (WhatsApp Flow) del mensaje está bloqueado."),
    ReglaError(132069, "Flow is throttled", _R, "El flujo del mensaje está limitado; se reintenta.", espera_s=HORA),
    # ---- the line's registration, payment and status ----
    ReglaError(33, "Parameter value is not valid", _P, "El número de la línea ya no existe en Meta (phone number id)."),
    ReglaError(
        131037,
        "WhatsApp provided number needs display name approval",
        _P,
        "El nombre visible de la línea no está aprobado por Meta.",
    ),
    ReglaError(
        131042,
        "Business eligibility payment issue",
        _P,
        "Meta no puede cobrar los mensajes (método de pago de la cuenta): revisa la facturación.",
    ),
    ReglaError(131045, "Incorrect certificate", _P, "El número de la línea no está registrado correctamente."),
    ReglaError(
        131057,
        "Account in maintenance mode",
        _R,
        "La cuenta está en mantenimiento (p. ej. subiendo de nivel de rendimiento); se reintenta.",
        espera_s=15 * MINUTO,
    ),
    ReglaError(133010, "Phone number Not Registered", _P, "La línea no está registrada en la Cloud API."),
    ReglaError(
        133006, "Phone number re-verification needed", _P, "Meta pide volver a verificar el número de la línea."
    ),
    # ---- Meta's side ----
    ReglaError(1, "API Unknown", _R, "Meta no respondió como se esperaba; se reintenta.", espera_s=5 * MINUTO),
    ReglaError(2, "API Service", _R, "Servicio de Meta no disponible por ahora; se reintenta.", espera_s=5 * MINUTO),
    ReglaError(131000, "Something went wrong", _R, "Error desconocido de Meta; se reintenta.", espera_s=5 * MINUTO),
    ReglaError(
        131016, "Service unavailable", _R, "Servicio de WhatsApp no disponible; se reintenta.", espera_s=5 * MINUTO
    ),
    ReglaError(
        133004,
        "Server Temporarily Unavailable",
        _R,
        "Servidor de WhatsApp no disponible; se reintenta.",
        espera_s=5 * MINUTO,
    ),
)

POR_CODIGO: dict[int, ReglaError] = {r.codigo: r for r in TABLA}
# Graph API permission errors span a range (200–299); one rule stands for all of them.
_PERMISOS = POR_CODIGO[200]


def regla(codigo: int | None) -> ReglaError:
    """The rule for a code; unknown codes fail the row (a blind retry is another message to the person)."""
    if codigo is None:
        return ReglaError(0, "Sin código", _F, "La Cloud API rechazó el mensaje sin código de error.")
    if codigo in POR_CODIGO:
        return POR_CODIGO[codigo]
    if 200 <= codigo <= 299:
        return _PERMISOS
    return ReglaError(codigo, "Desconocido", _F, "La Cloud API rechazó el mensaje")


def tabla_markdown() -> str:
    """The table as it appears in docs/oficial.md (a test keeps both in sync)."""
    filas = ["| Código | Error (Meta) | Qué hace Enlace | Espera |", "|---|---|---|---|"]
    nombres = {
        _R: "reintenta más tarde",
        _F: "fallo definitivo para ese destinatario",
        _S: "suprime al destinatario",
        _P: "para la línea (parada de seguridad)",
    }
    for r in TABLA:
        espera = ""
        if r.espera_s:
            espera = f"{r.espera_s / HORA:g} h" if r.espera_s >= HORA else f"{r.espera_s / MINUTO:g} min"
        accion = nombres[r.clase]
        if r.sesion_cerrada:
            accion += "; token a renovar"
        if r.detiene_plantilla:
            accion += "; detiene las campañas de la plantilla"
        codigo = "200–299" if r.codigo == 200 else str(r.codigo)
        filas.append(f"| {codigo} | {r.titulo} | {accion} | {espera} |")
    return "\n".join(filas)
