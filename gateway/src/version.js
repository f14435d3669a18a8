// WhatsApp Web version for every socket: fetched once at start, with a pinned fallback.

// The version Baileys 7.0.0-rc14 ships with (lib/Defaults). Used when the fetch fails or is off.
export const VERSION_FIJA = [2, 3000, 1043857760]

function leerVersion(texto) {
  const partes = String(texto).split(/[.,]/).map((p) => Number(p.trim()))
  return partes.length === 3 && partes.every((n) => Number.isSafeInteger(n) && n >= 0) ? partes : null
}

/**
 * {version, origen}: ENLACE_GATEWAY_VERSION_WA="2.3000.N" wins ('configurada'); with
 * ENLACE_GATEWAY_CONSULTAR_VERSION=0 or the stand-in socket (tests never leave loopback) the pinned
 * one ('fija'); otherwise web.whatsapp.com's current client revision ('web'), or the pinned one when
 * that fails ('fija_por_fallo', logged). A stale version gets 405 from WhatsApp.
 */
export async function resolverVersionWa({ registro, entorno = process.env, consultar = null, limiteMs = 10000 } = {}) {
  if (entorno.ENLACE_GATEWAY_VERSION_WA) {
    const version = leerVersion(entorno.ENLACE_GATEWAY_VERSION_WA)
    if (version) return { version, origen: 'configurada' }
    registro?.warn({ valor: entorno.ENLACE_GATEWAY_VERSION_WA }, 'ENLACE_GATEWAY_VERSION_WA no es a.b.c; se consulta la versión')
  }
  if (entorno.ENLACE_GATEWAY_CONSULTAR_VERSION === '0' || entorno.ENLACE_GATEWAY_FABRICA_SOCKET) {
    return { version: VERSION_FIJA, origen: 'fija' }
  }
  try {
    // Loaded only when needed: the supervisor holds no sockets and should not carry Baileys otherwise.
    consultar ??= (await import('baileys')).fetchLatestWaWebVersion
    const r = await consultar({ signal: AbortSignal.timeout(limiteMs) })
    const version = Array.isArray(r?.version) ? r.version : null
    if (r?.isLatest && version) return { version, origen: 'web' }
    registro?.warn({ error: r?.error?.message ?? String(r?.error ?? '') }, 'no se pudo consultar la versión de WhatsApp Web; se usa la fija')
  } catch (err) {
    registro?.warn({ err }, 'no se pudo consultar la versión de WhatsApp Web; se usa la fija')
  }
  return { version: VERSION_FIJA, origen: 'fija_por_fallo' }
}
