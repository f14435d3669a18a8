// One gateway worker process: up to K sockets, JSON lines with the supervisor (src/index.js) over stdio.
//
// Started by the supervisor with an explicit V8 heap limit; if it dies only its sockets go. Every
// socket start asks the supervisor for a turn of the node-wide connection rate limit first.

import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'

import { makeWASocket } from 'baileys'

import { ErrorPasarela, Pasarela } from './pasarela.js'
import { crearRegistro } from './registro.js'

const registro = crearRegistro(undefined, { proceso: process.env.ENLACE_GATEWAY_TRABAJADOR ?? String(process.pid) })

/** ENLACE_GATEWAY_FABRICA_SOCKET names a module whose `crearSocket` (or default export) replaces makeWASocket. */
async function cargarFabrica() {
  const ruta = process.env.ENLACE_GATEWAY_FABRICA_SOCKET
  if (!ruta) return makeWASocket
  const modulo = await import(pathToFileURL(resolve(ruta)).href)
  const fabrica = modulo.crearSocket ?? modulo.default
  if (typeof fabrica !== 'function') throw new Error(`${ruta} no exporta crearSocket`)
  registro.warn({ ruta }, 'usando una fábrica de sockets sustituta (solo pruebas)')
  return fabrica
}

function opcionesSocket() {
  const opciones = {}
  // The WhatsApp Web version the supervisor resolved at start (fetched, or the pinned fallback).
  const version = process.env.ENLACE_GATEWAY_VERSION_RESUELTA
  if (version) opciones.version = JSON.parse(version)
  // Only for measurements and tests: a loopback endpoint instead of web.whatsapp.com.
  if (process.env.ENLACE_GATEWAY_WS_URL) opciones.waWebSocketUrl = process.env.ENLACE_GATEWAY_WS_URL
  if (process.env.ENLACE_GATEWAY_CONNECT_TIMEOUT_MS) opciones.connectTimeoutMs = Number(process.env.ENLACE_GATEWAY_CONNECT_TIMEOUT_MS)
  return opciones
}

// ---- output with backpressure ----------------------------------------------------------------
// When the supervisor stops reading, stdout stops accepting: the sockets' websockets are paused so
// WhatsApp's TCP flow control slows down instead of this process buffering without bound.
let pasarela = null
let atascado = false

function escribir(objeto) {
  let linea
  try {
    linea = JSON.stringify(objeto)
  } catch (err) {
    registro.error({ err, evento: objeto?.evento }, 'evento no serializable')
    return
  }
  const cabe = process.stdout.write(linea + '\n')
  if (!cabe && !atascado) {
    atascado = true
    pasarela?.pausarEntrada()
    process.stdout.once('drain', () => {
      atascado = false
      pasarela?.reanudarEntrada()
    })
  }
}

process.stdout.on('error', () => process.exit(0))
process.on('uncaughtException', (err) => registro.error({ err }, 'excepción no capturada'))
process.on('unhandledRejection', (err) => registro.error({ err }, 'promesa rechazada sin manejar'))

// ---- turns of the node-wide rate limit ---------------------------------------------------------
const turnos = new Map()
let siguienteTurno = 1

function pedirTurno(agenteId) {
  const ref = siguienteTurno++
  escribir({ evento: '_turno', ref, agente_id: agenteId })
  return new Promise((resolver) => turnos.set(ref, resolver))
}

pasarela = new Pasarela({
  crearSocket: await cargarFabrica(),
  emitir: escribir,
  registro,
  opcionesSocket: opcionesSocket(),
  pedirTurno,
  esperaCredencialesMs: Number(process.env.ENLACE_GATEWAY_ESPERA_CREDENCIALES_MS || 30000),
  // The core waits longer than this for any command (settings), so it never gives up on a send first.
  limiteComandoMs: Number(process.env.ENLACE_GATEWAY_LIMITE_COMANDO_MS || 60000),
})

function salir(codigo) {
  pasarela.cerrarTodo()
  setTimeout(() => process.exit(codigo), 50).unref()
}

process.on('SIGTERM', () => salir(0))
process.on('SIGINT', () => salir(0))

const lector = createInterface({ input: process.stdin, crlfDelay: Infinity })
lector.on('line', (linea) => {
  if (!linea.trim()) return
  let cmd
  try {
    cmd = JSON.parse(linea)
  } catch {
    escribir({ evento: 'error_protocolo', detalle: 'línea que no es JSON' })
    return
  }
  if (cmd?.cmd === '_turno_concedido') {
    const resolver = turnos.get(cmd.ref)
    turnos.delete(cmd.ref)
    resolver?.()
    return
  }
  const id = cmd?.id ?? null
  Promise.resolve()
    .then(() => pasarela.ejecutar(cmd))
    .then(
      (resultado) => escribir({ id, ok: true, resultado: resultado ?? {} }),
      (err) => {
        const conocido = err instanceof ErrorPasarela
        if (!conocido) registro.error({ err, cmd: cmd?.cmd }, 'comando falló')
        escribir({
          id,
          ok: false,
          error: {
            codigo: conocido ? err.codigo : 'error_interno',
            mensaje: err?.message ?? String(err),
            reintentable: conocido ? err.reintentable : false,
            estado: conocido ? err.estado : null,
          },
        })
      },
    )
})
// The supervisor went away: nothing left to talk to.
lector.on('close', () => salir(0))

escribir({ evento: '_listo', pid: process.pid })
