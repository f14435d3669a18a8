"""The table of every ENLACE_* setting (name, default, meaning), generated from `Settings` for `enlace ajustes`."""

from __future__ import annotations

from typing import Any

from enlace.settings import Settings

# What each setting does, in the words a person deploying Enlace needs. A setting added to `Settings`
# without an entry here still appears in the table, pointing to settings.py.
DESCRIPCIONES: dict[str, str] = {
    "entorno": "`desarrollo`, `produccion` o `pruebas`; en `produccion` se exigen clave y cifrado propios",
    "database_url": "URL de PostgreSQL; vacía → PostgreSQL embebido bajo `ENLACE_DIRECTORIO_DATOS/postgres`",
    "directorio_datos": (
        "datos locales: PostgreSQL embebido, el archivo 0600 con la contraseña inicial de `admin` y, en "
        "desarrollo, la clave aleatoria `clave-credenciales` (0600)"
    ),
    "secret_key": "clave del servidor (firma); en `produccion` vacía, de ejemplo o poco aleatoria impide arrancar",
    "claves_credenciales": (
        "claves AES-256 `id:base64,...` que cifran las credenciales de WhatsApp; la primera cifra (vacío en "
        "desarrollo: una aleatoria bajo el directorio de datos; en `produccion` obligatoria, sin bytes repetidos)"
    ),
    "motor": "`baileys` (número personal), `simulador` (demos y pruebas) o `cloud_api` (oficial)",
    "redis_url": "Redis para repartir eventos en vivo entre varios nodos (vacío: un solo nodo)",
    "zona_horaria": "zona por defecto de campañas y de la ventana de escucha de las sesiones",
    "host": "dirección donde escucha `enlace serve`",
    "port": "puerto de `enlace serve`",
    "nodo_id": "nombre de este nodo en leases y registros (vacío: host-pid)",
    "log_json": "registros en JSON (vacío: sí en `produccion`)",
    "limite_json_kb": "tamaño máximo de un cuerpo JSON o formulario (KB); más → 413 antes de leerlo",
    "limite_subida_mb": "tamaño máximo de un archivo subido, p. ej. una cartera (MB); más → 413 antes de leerlo",
    "sesion_horas": "duración de una sesión de inicio de sesión en el panel (horas reales)",
    "login_max_fallos": "intentos fallidos de inicio de sesión antes de frenar",
    "login_ventana_minutos": "ventana en la que se cuentan esos fallos",
    "login_espera_base_s": (
        "tras esos fallos (por usuario y dirección) cada nuevo intento espera esto, duplicándose (docs/seguridad.md)"
    ),
    "login_max_fallos_ip": "fallos confirmados desde una dirección (cualquier usuario) en la ventana antes de frenarla",
    "hash_hilos": "hilos que calculan Argon2id de las contraseñas, fuera del bucle de eventos",
    "cookie_segura": "cookies solo por HTTPS (vacío: sí en `produccion`)",
    "docs": "`/docs`, `/redoc` y `/openapi.json` (vacío: sí, salvo en `produccion`)",
    "max_sesiones_nodo": "sesiones de WhatsApp por nodo (503 al superarlas)",
    "sesion_inactiva_minutos": (
        "minutos sin actividad tras los que una sesión se detiene fuera de horario; con el simulador se "
        "multiplica por la velocidad (minutos reales)"
    ),
    "sesion_escucha_en_horario": (
        "las sesiones vinculadas siguen conectadas en la ventana de contacto y se reanudan al abrirse "
        "(docs/sesiones.md)"
    ),
    "sim_velocidad": (
        "con el simulador, factor del reloj (600 = 10 min por segundo); QR e inactividad se escalan para "
        "durar lo mismo en tiempo real"
    ),
    "sim_semilla": "semilla del simulador: mismos números, personas y respuestas en cada corrida",
    "sim_auto_escanear": "el teléfono virtual escanea el QR solo unos segundos después de mostrarse (demos)",
    "sim_inicio": "instante inicial del reloj acelerado (ISO 8601); vacío: ahora",
    "sim_ledger": "archivo JSON-lines donde el simulador anota lo que recibió cada teléfono virtual",
    "pais_telefonos": "país por defecto al normalizar teléfonos de las carteras",
    "solo_moviles": "rechazar números fijos al importar",
    "asignacion_expira_dias": "días tras los que una asignación de contactos de la bolsa expira sin actividad",
    "importaciones_por_hora": "cuota por usuario de carteras subidas por hora (cuentan también las fallidas)",
    "importacion_mb_por_dia": "cuota por usuario de MB de carteras subidas por día",
    "alcance_captura": "`negocio` (solo chats con contactos o números a los que el sistema escribió) o `todo`",
    "frecuencia_max_mensajes": "piso legal: máximo de mensajes de campaña por número en el periodo (admins solo bajan)",
    "frecuencia_dias": "piso legal: periodo de ese tope en días (admins solo alargan)",
    "confirmar_baja": "enviar un único mensaje de confirmación al registrar una baja",
    "requerir_consentimiento": "las campañas omiten contactos sin evidencia de consentimiento",
    "retencion_dias": "días que se guardan los mensajes (mínimo 30)",
    "dias_no_interesado": "días que quien dijo «no me interesa» queda fuera de campañas nuevas (admins solo alargan)",
    "hora_min_contacto": "piso legal: primera hora de contacto en la hora local del destinatario (≥ 7)",
    "hora_max_contacto": "piso legal: hora en que termina el contacto (≤ 22)",
    "directorio_medios": "dónde se descargan los medios recibidos (vacío: no se descargan)",
    "gateway_node": "ejecutable de Node para la pasarela Baileys",
    "gateway_limite_comando_s": "segundos que la pasarela da a un comando (un envío) antes de responder con error",
    "gateway_tiempo_espera_s": (
        "segundos que el núcleo espera a la pasarela; debe ser mayor que el límite de la pasarela (un envío "
        "sin respuesta queda `incierto`, nunca se reenvía)"
    ),
    "gateway_sockets_por_proceso": "sockets de WhatsApp por proceso trabajador de la pasarela (docs/gateway.md)",
    "gateway_heap_mb": "límite de heap de V8 de cada proceso trabajador de la pasarela, en MB",
    "gateway_conexiones_por_s": "arranques de socket por segundo en todo el nodo, con jitter (nunca una tormenta)",
    "resolucion_ttl_dias": "días que vale la consulta de un número con WhatsApp (`onWhatsApp`) antes de repetirla",
    "resolucion_lote": "números por consulta a WhatsApp",
    "resolucion_pausa_s": "segundos entre dos consultas de números de una misma sesión",
    "resolucion_max_hora": "números que una sesión puede consultar por hora móvil (las consultas también se vigilan)",
    "acuse_plazo_horas": "horas sin acuse de entrega tras las que un mensaje enviado se marca `sin_acuse`",
    "webhooks_destinos_permitidos": (
        "redes (CIDR) o nombres internos a los que sí pueden ir los webhooks, p. ej. el CRM on-premise; "
        "por omisión sólo direcciones públicas"
    ),
    "cloud_numeros": "números oficiales de la Cloud API, lista JSON (docs/oficial.md)",
}


def _por_defecto(valor: Any) -> str:
    if valor is None or valor == "":
        return "vacío"
    if hasattr(valor, "value"):
        return f"`{valor.value}`"
    if isinstance(valor, bool):
        return "`true`" if valor else "`false`"
    return f"`{valor}`"


def tabla_ajustes() -> str:
    """Markdown table of every field of `Settings`, in declaration order."""
    filas = ["| Variable | Por defecto | Qué es |", "|---|---|---|"]
    for nombre, campo in Settings.model_fields.items():
        descripcion = DESCRIPCIONES.get(nombre, "ver `src/enlace/settings.py`")
        filas.append(f"| `ENLACE_{nombre.upper()}` | {_por_defecto(campo.default)} | {descripcion} |")
    return "\n".join(filas) + "\n"
