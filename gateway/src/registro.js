// Logger for the gateway and for Baileys: JSON lines on stderr only (stdout carries the protocol).

const NIVELES = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity }

function serializable(valor) {
  if (valor instanceof Error) {
    return { tipo: valor.name, mensaje: valor.message, codigo: valor.output?.statusCode }
  }
  return valor
}

/**
 * A pino-compatible logger (the subset Baileys calls: level, child, trace..fatal).
 * Never receives message bodies or credentials from our code; Baileys itself logs at debug/trace,
 * which stays off unless ENLACE_GATEWAY_LOG asks for it.
 */
export function crearRegistro(nivel = process.env.ENLACE_GATEWAY_LOG || 'warn', contexto = {}, salida = process.stderr) {
  const umbral = NIVELES[nivel] ?? NIVELES.warn
  const escribir = (nombre) => (objOrMsg, msg) => {
    if (NIVELES[nombre] < umbral) return
    let datos = {}
    let texto = msg
    if (typeof objOrMsg === 'string') texto = objOrMsg
    else if (objOrMsg && typeof objOrMsg === 'object') {
      for (const [k, v] of Object.entries(objOrMsg)) datos[k] = serializable(v)
    }
    try {
      salida.write(JSON.stringify({ nivel: nombre, t: new Date().toISOString(), ...contexto, ...datos, msg: texto }) + '\n')
    } catch {
      // A log line that cannot be serialized (cycles) is dropped rather than crashing the process.
    }
  }
  return {
    level: nivel,
    child(extra = {}) {
      return crearRegistro(nivel, { ...contexto, ...extra }, salida)
    },
    trace: escribir('trace'),
    debug: escribir('debug'),
    info: escribir('info'),
    warn: escribir('warn'),
    error: escribir('error'),
    fatal: escribir('fatal'),
  }
}
