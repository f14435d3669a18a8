// Gateway entry point (the supervisor): JSON lines with the Python core on stdin/stdout, sockets
// spread over worker processes (src/trabajador.js) of at most K sockets each, one connection rate
// limit for the whole node, bounded queues in both directions. Logs go to stderr.

import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

import { Limitador } from './limitador.js'
import { crearRegistro } from './registro.js'
import { resolverVersionWa } from './version.js'

const registro = crearRegistro(undefined, { proceso: 'supervisor' })
const entero = (nombre, defecto, minimo = 1) => {
  const n = Number(process.env[nombre])
  return Number.isFinite(n) && n >= minimo ? n : defecto
}

const SOCKETS_POR_PROCESO = entero('ENLACE_GATEWAY_SOCKETS_POR_PROCESO', 50)
const HEAP_MB = entero('ENLACE_GATEWAY_HEAP_MB', 1024, 64)
const CONEXIONES_POR_S = entero('ENLACE_GATEWAY_CONEXIONES_POR_S', 2, 0.01)
// 411 (multi-device mismatch) and 500 (bad session) are retried this many times in a row, then the session stops.
const REINTENTOS_SESION = entero('ENLACE_GATEWAY_REINTENTOS_SESION', 3)
// Commands forwarded and not yet answered: above this stdin is no longer read (the core's writes block).
const MAX_EN_VUELO = entero('ENLACE_GATEWAY_MAX_EN_VUELO', 512)
const RUTA_TRABAJADOR = join(dirname(fileURLToPath(import.meta.url)), 'trabajador.js')

function versionBaileys() {
  try {
    const require = createRequire(import.meta.url)
    return JSON.parse(readFileSync(require.resolve('baileys/package.json'), 'utf8')).version
  } catch {
    return null
  }
}

// ---- output to the core, with backpressure -----------------------------------------------------
let salidaLlena = false

function escribir(objeto) {
  let linea
  try {
    linea = JSON.stringify(objeto)
  } catch (err) {
    registro.error({ err, evento: objeto?.evento }, 'evento no serializable')
    return
  }
  if (!process.stdout.write(linea + '\n') && !salidaLlena) {
    // The core is not reading: stop reading the workers, whose own stdout then fills and pauses their sockets.
    salidaLlena = true
    for (const t of trabajadores.values()) t.lector.pause()
    process.stdout.once('drain', () => {
      salidaLlena = false
      for (const t of trabajadores.values()) t.lector.resume()
    })
  }
}

process.stdout.on('error', () => process.exit(0))
process.on('uncaughtException', (err) => registro.error({ err }, 'excepción no capturada'))
process.on('unhandledRejection', (err) => registro.error({ err }, 'promesa rechazada sin manejar'))

// ---- workers -----------------------------------------------------------------------------------
const trabajadores = new Map() // numero → {numero, proc, lector, agentes:Set, pendientes:Map, vivo}
const asignacion = new Map() // agente_id → worker
const fallosSeguidos = new Map() // agente_id → {n, t}: 411/500 closes in a row (any other close resets)
// A session that opens and is closed with 500 again and again is a loop too; ten quiet minutes forgive.
const PERDON_FALLOS_MS = 10 * 60 * 1000
const generaciones = new Map() // agente_id → number of `iniciar` routed (a late `detener` answer must not undo a newer start)
let siguienteTrabajador = 1
let siguienteInterno = 1
let enVuelo = 0
let cerrando = false
let versionResuelta = null

const limitador = new Limitador({
  porSegundo: CONEXIONES_POR_S,
  alConceder: ({ agente_id, trabajador }) => registro.debug({ agente_id, trabajador }, 'turno de conexión'),
})

function crearTrabajador() {
  const numero = siguienteTrabajador++
  const proc = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, RUTA_TRABAJADOR], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ENLACE_GATEWAY_TRABAJADOR: String(numero),
      ENLACE_GATEWAY_VERSION_RESUELTA: versionResuelta ? JSON.stringify(versionResuelta) : '',
    },
  })
  // iniciando: agente_id → `iniciar` sent and not answered yet (a `desconectado` seen meanwhile is the old socket's).
  const t = { numero, proc, agentes: new Set(), pendientes: new Map(), iniciando: new Map(), vivo: true, entradaLlena: false }
  t.listo = new Promise((resolver) => (t.alListo = resolver))
  t.lector = createInterface({ input: proc.stdout, crlfDelay: Infinity })
  if (salidaLlena) t.lector.pause()
  t.lector.on('line', (linea) => alRecibirDeTrabajador(t, linea))
  proc.stdin.on('error', () => {})
  proc.on('exit', (codigo, senal) => {
    t.alListo()
    alMorirTrabajador(t, codigo, senal)
  })
  trabajadores.set(numero, t)
  registro.info({ trabajador: numero, pid: proc.pid, heap_mb: HEAP_MB }, 'proceso de la pasarela iniciado')
  return t
}

/** The worker with room for one more socket and the fewest sockets; a new one when all are full. */
function trabajadorLibre() {
  let elegido = null
  for (const t of trabajadores.values()) {
    if (!t.vivo || t.agentes.size >= SOCKETS_POR_PROCESO) continue
    if (!elegido || t.agentes.size < elegido.agentes.size) elegido = t
  }
  return elegido ?? crearTrabajador()
}

function enviarATrabajador(t, objeto) {
  if (!t.proc.stdin.write(JSON.stringify(objeto) + '\n') && !t.entradaLlena) {
    // That worker is not keeping up: stop reading commands from the core until it drains.
    t.entradaLlena = true
    lector.pause()
    t.proc.stdin.once('drain', () => {
      t.entradaLlena = false
      revisarLectura()
    })
  }
}

function revisarLectura() {
  const algunoLleno = [...trabajadores.values()].some((t) => t.entradaLlena)
  if (!algunoLleno && enVuelo < MAX_EN_VUELO) lector.resume()
}

function alRecibirDeTrabajador(t, linea) {
  let obj
  try {
    obj = JSON.parse(linea)
  } catch {
    registro.error({ trabajador: t.numero }, 'línea inválida de un proceso de la pasarela')
    return
  }
  if (obj.evento === '_listo') return t.alListo()
  if (obj.evento === '_turno') {
    limitador.pedir(t, { agente_id: obj.agente_id, trabajador: t.numero }).then(() => {
      if (t.vivo) enviarATrabajador(t, { cmd: '_turno_concedido', ref: obj.ref })
    })
    return
  }
  if ('id' in obj && !('evento' in obj)) {
    const pendiente = t.pendientes.get(obj.id)
    if (!pendiente) return
    t.pendientes.delete(obj.id)
    terminarComando()
    if (pendiente.alResponder) pendiente.alResponder(obj)
    if (pendiente.idExterno !== undefined) escribir({ ...obj, id: pendiente.idExterno })
    return
  }
  if (obj.evento === 'desconectado' && obj.clase !== 'restringida') {
    // The worker forgot that session (unless a new `iniciar` is already on its way there).
    if (asignacion.get(obj.agente_id) === t && !t.iniciando.get(obj.agente_id)) {
      asignacion.delete(obj.agente_id)
      t.agentes.delete(obj.agente_id)
    }
    acotarReintentos(obj)
  }
  escribir(obj)
}

/** 411/500 are retried by the core a few times; after REINTENTOS_SESION in a row the session stops. */
function acotarReintentos(evento) {
  if (evento.codigo !== 411 && evento.codigo !== 500) {
    if (evento.clase !== 'transitoria') fallosSeguidos.delete(evento.agente_id)
    return
  }
  const previo = fallosSeguidos.get(evento.agente_id)
  const n = previo && Date.now() - previo.t < PERDON_FALLOS_MS ? previo.n + 1 : 1
  fallosSeguidos.set(evento.agente_id, { n, t: Date.now() })
  if (n >= REINTENTOS_SESION) {
    fallosSeguidos.delete(evento.agente_id)
    evento.clase = 'fallida'
    evento.detalle = `WhatsApp rechazó la sesión ${n} veces seguidas (${evento.codigo}): ${evento.detalle ?? ''}`.trim()
    registro.error({ agente_id: evento.agente_id, codigo: evento.codigo }, 'sesión detenida tras reintentos acotados')
  }
}

function alMorirTrabajador(t, codigo, senal) {
  t.vivo = false
  trabajadores.delete(t.numero)
  limitador.descartar(t)
  if (cerrando) return
  registro.error({ trabajador: t.numero, codigo, senal, sesiones: t.agentes.size }, 'un proceso de la pasarela terminó')
  for (const [, pendiente] of t.pendientes) {
    terminarComando()
    const respuesta = {
      ok: false,
      error: { codigo: 'sin_sesion', mensaje: 'El proceso de la pasarela que tenía la sesión terminó', reintentable: true, estado: null },
    }
    if (pendiente.alResponder) pendiente.alResponder(respuesta)
    if (pendiente.idExterno !== undefined) escribir({ id: pendiente.idExterno, ...respuesta })
  }
  t.pendientes.clear()
  // Only this worker's sockets are gone; the core reconnects them, and every start passes the rate limit.
  for (const agenteId of t.agentes) {
    if (asignacion.get(agenteId) === t) asignacion.delete(agenteId)
    escribir({
      evento: 'desconectado',
      agente_id: agenteId,
      clase: 'transitoria',
      codigo: null,
      detalle: `el proceso ${t.numero} de la pasarela terminó (${senal ?? codigo})`,
    })
  }
  t.agentes.clear()
  revisarLectura()
}

function terminarComando() {
  enVuelo = Math.max(0, enVuelo - 1)
  if (enVuelo < MAX_EN_VUELO / 2) revisarLectura()
}

function reenviar(t, cmd, { idExterno, alResponder } = {}) {
  const idInterno = `s${siguienteInterno++}`
  t.pendientes.set(idInterno, { idExterno, alResponder })
  enVuelo += 1
  if (enVuelo >= MAX_EN_VUELO) lector.pause()
  enviarATrabajador(t, { ...cmd, id: idInterno })
}

/** Send `cmd` to every live worker and collect their answers. */
function aTodos(cmd) {
  return Promise.all(
    [...trabajadores.values()].map(
      (t) =>
        new Promise((resolver) =>
          reenviar(t, cmd, { alResponder: (r) => resolver({ trabajador: t.numero, pid: t.proc.pid, respuesta: r }) }),
        ),
    ),
  )
}

function responder(id, resultado) {
  escribir({ id, ok: true, resultado })
}

function fallar(id, codigo, mensaje, reintentable = false) {
  escribir({ id, ok: false, error: { codigo, mensaje, reintentable, estado: null } })
}

async function atender(cmd) {
  const id = cmd?.id ?? null
  switch (cmd?.cmd) {
    case 'ping': {
      const respuestas = await aTodos({ cmd: 'ping' })
      const procesos = respuestas.map((r) => ({
        trabajador: r.trabajador,
        pid: r.pid,
        sesiones: r.respuesta.resultado?.sesiones ?? 0,
        rss: r.respuesta.resultado?.rss ?? 0,
      }))
      return responder(id, {
        pong: true,
        sesiones: procesos.reduce((n, p) => n + p.sesiones, 0),
        rss: process.memoryUsage().rss + procesos.reduce((n, p) => n + p.rss, 0),
        procesos,
        turnos_concedidos: limitador.concedidos,
        turnos_en_cola: limitador.pendientes,
        version_wa: versionResuelta,
      })
    }
    case 'estado': {
      const respuestas = await aTodos({ cmd: 'estado' })
      return responder(id, { sesiones: respuestas.flatMap((r) => r.respuesta.resultado?.sesiones ?? []) })
    }
    case 'iniciar': {
      const agenteId = Number(cmd.agente_id)
      if (!Number.isSafeInteger(agenteId) || agenteId <= 0) return fallar(id, 'agente_invalido', 'agente_id debe ser un entero positivo')
      generaciones.set(agenteId, (generaciones.get(agenteId) ?? 0) + 1)
      let t = asignacion.get(agenteId)
      if (!t || !t.vivo) {
        t = trabajadorLibre()
        asignacion.set(agenteId, t)
        t.agentes.add(agenteId)
      }
      t.iniciando.set(agenteId, (t.iniciando.get(agenteId) ?? 0) + 1)
      const alResponder = () => {
        const n = (t.iniciando.get(agenteId) ?? 1) - 1
        if (n > 0) t.iniciando.set(agenteId, n)
        else t.iniciando.delete(agenteId)
      }
      return reenviar(t, cmd, { idExterno: id, alResponder })
    }
    default: {
      if (cmd?.agente_id === undefined || cmd?.agente_id === null) {
        return fallar(id, 'comando_desconocido', `Comando desconocido: ${cmd?.cmd}`)
      }
      const agenteId = Number(cmd.agente_id)
      const t = asignacion.get(agenteId)
      if (!t) {
        if (cmd.cmd === 'detener') return responder(id, { detenida: false })
        if (cmd.cmd === 'confirmar_credenciales') return responder(id, { confirmado: false })
        if (cmd.cmd === 'cerrar_sesion') {
          responder(id, { cerrada: true })
          return escribir({ evento: 'desconectado', agente_id: agenteId, clase: 'sesion_cerrada', codigo: 401, detalle: 'no había sesión activa' })
        }
        return fallar(id, 'sin_sesion', 'No hay sesión iniciada para este agente')
      }
      const generacion = generaciones.get(agenteId)
      const alResponder = cmd.cmd === 'detener' ? () => generaciones.get(agenteId) === generacion && olvidar(agenteId, t) : undefined
      return reenviar(t, cmd, { idExterno: id, alResponder })
    }
  }
}

function olvidar(agenteId, t) {
  if (asignacion.get(agenteId) === t) asignacion.delete(agenteId)
  t.agentes.delete(agenteId)
}

function salir(codigo) {
  cerrando = true
  limitador.detener()
  for (const t of trabajadores.values()) {
    try {
      t.proc.stdin.end()
    } catch {}
  }
  // Let the workers close their sockets and the last lines reach the pipe.
  setTimeout(() => {
    for (const t of trabajadores.values()) t.proc.kill('SIGKILL')
    process.exit(codigo)
  }, 300).unref()
}

process.on('SIGTERM', () => salir(0))
process.on('SIGINT', () => salir(0))

const lector = createInterface({ input: process.stdin, crlfDelay: Infinity })
// Nothing is read before the WhatsApp Web version is known: every worker starts with it.
lector.pause()
lector.on('line', (linea) => {
  if (!linea.trim()) return
  let cmd
  try {
    cmd = JSON.parse(linea)
  } catch {
    escribir({ evento: 'error_protocolo', detalle: 'línea que no es JSON' })
    return
  }
  Promise.resolve()
    .then(() => atender(cmd))
    .catch((err) => {
      registro.error({ err, cmd: cmd?.cmd }, 'comando falló en el supervisor')
      fallar(cmd?.id ?? null, 'error_interno', err?.message ?? String(err))
    })
})
lector.on('close', () => salir(0))

const resuelta = await resolverVersionWa({ registro })
versionResuelta = resuelta.version
// The first worker is started (Baileys loaded) before `listo`, so the first sessions do not wait for it.
await Promise.race([crearTrabajador().listo, new Promise((r) => setTimeout(r, 60000).unref())])
lector.resume()
escribir({
  evento: 'listo',
  pid: process.pid,
  baileys: versionBaileys(),
  node: process.versions.node,
  version_wa: resuelta.version,
  version_origen: resuelta.origen,
  sockets_por_proceso: SOCKETS_POR_PROCESO,
  heap_mb: HEAP_MB,
  conexiones_por_s: CONEXIONES_POR_S,
})
