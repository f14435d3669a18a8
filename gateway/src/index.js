// Gateway entry point: JSON lines on stdin (commands) and stdout (responses and events); logs on stderr.

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'

import { makeWASocket } from 'baileys'

import { ErrorPasarela, Pasarela } from './pasarela.js'
import { crearRegistro } from './registro.js'

const registro = crearRegistro()

function versionBaileys() {
  try {
    const require = createRequire(import.meta.url)
    const ruta = require.resolve('baileys/package.json')
    return JSON.parse(readFileSync(ruta, 'utf8')).version
  } catch {
    return null
  }
}

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

function escribir(objeto) {
  let linea
  try {
    linea = JSON.stringify(objeto)
  } catch (err) {
    registro.error({ err, evento: objeto?.evento }, 'evento no serializable')
    return
  }
  process.stdout.write(linea + '\n')
}

// The parent went away: nothing left to talk to.
process.stdout.on('error', () => process.exit(0))
// One socket failing must never take the other agents down with it.
process.on('uncaughtException', (err) => registro.error({ err }, 'excepción no capturada'))
process.on('unhandledRejection', (err) => registro.error({ err }, 'promesa rechazada sin manejar'))

const pasarela = new Pasarela({ crearSocket: await cargarFabrica(), emitir: escribir, registro })

function salir(codigo) {
  pasarela.cerrarTodo()
  // Let the last lines reach the pipe before leaving.
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
lector.on('close', () => salir(0))

escribir({ evento: 'listo', pid: process.pid, baileys: versionBaileys(), node: process.versions.node })
