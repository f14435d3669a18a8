// The real entry point over stdio, with the stand-in factory: line framing, ids and events.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const raiz = join(dirname(fileURLToPath(import.meta.url)), '..')

test('stdio: listo, respuesta por id, eventos, error sin tumbar el proceso, cierre al terminar stdin', async () => {
  const hijo = spawn(process.execPath, [join(raiz, 'src/index.js')], {
    env: { ...process.env, ENLACE_GATEWAY_FABRICA_SOCKET: join(raiz, 'soporte/socket_simulado.js'), ENLACE_SIMULADO_RETRASO_MS: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  hijo.stderr.on('data', (d) => (stderr += d))
  const lineas = []
  const esperas = []
  createInterface({ input: hijo.stdout }).on('line', (l) => {
    const obj = JSON.parse(l) // every stdout line is JSON: logs never go there
    lineas.push(obj)
    // Acting as the core: each batch of keys is committed and confirmed.
    if (obj.evento === 'credenciales') enviar({ id: `k${obj.lote}`, cmd: 'confirmar_credenciales', agente_id: obj.agente_id, lote: obj.lote })
    for (const e of [...esperas]) if (e.pred(obj)) esperas.splice(esperas.indexOf(e), 1) && e.resolver(obj)
  })
  const esperar = (pred) => {
    const ya = lineas.find(pred)
    return ya ? Promise.resolve(ya) : new Promise((resolver) => esperas.push({ pred, resolver }))
  }
  const enviar = (obj) => hijo.stdin.write(JSON.stringify(obj) + '\n')

  const listo = await esperar((l) => l.evento === 'listo')
  assert.equal(listo.baileys, '7.0.0-rc14')
  enviar({ id: 'a', cmd: 'ping' })
  assert.equal((await esperar((l) => l.id === 'a')).resultado.pong, true)
  hijo.stdin.write('esto no es json\n')
  await esperar((l) => l.evento === 'error_protocolo')
  enviar({ id: 'b', cmd: 'enviar_texto', agente_id: 4, jid: 'x@s.whatsapp.net', texto: 'hola' })
  const b = await esperar((l) => l.id === 'b')
  assert.deepEqual([b.ok, b.error.codigo], [false, 'sin_sesion'])
  enviar({ id: 'c', cmd: 'iniciar', agente_id: 4, credenciales: null })
  await esperar((l) => l.evento === 'qr' && l.agente_id === 4)
  enviar({ id: 'd', cmd: 'simular', agente_id: 4, accion: 'escanear', datos: {} })
  const c = await esperar((l) => l.evento === 'conectado')
  assert.equal(c.agente_id, 4)
  assert.match(stderr, /fábrica de sockets sustituta/)
  const salida = new Promise((r) => hijo.on('exit', r))
  hijo.stdin.end()
  assert.equal(await salida, 0)
})

test('supervisor: 411/500 se reintentan acotado y a la tercera vez seguida la sesión es fallida', async () => {
  const hijo = spawn(process.execPath, [join(raiz, 'src/index.js')], {
    env: { ...process.env, ENLACE_GATEWAY_FABRICA_SOCKET: join(raiz, 'soporte/socket_simulado.js'), ENLACE_SIMULADO_RETRASO_MS: '1' },
    stdio: ['pipe', 'pipe', 'ignore'],
  })
  const lineas = []
  const enviar = (obj) => hijo.stdin.write(JSON.stringify(obj) + '\n')
  createInterface({ input: hijo.stdout }).on('line', (l) => {
    const obj = JSON.parse(l)
    lineas.push(obj)
    if (obj.evento === 'credenciales') enviar({ id: `k${obj.lote}`, cmd: 'confirmar_credenciales', agente_id: obj.agente_id, lote: obj.lote })
  })
  const esperar = async (pred) => {
    for (let i = 0; i < 1000; i++) {
      const hallado = lineas.find(pred)
      if (hallado) return hallado
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error('no llegó')
  }
  await esperar((l) => l.evento === 'listo')
  const creds = { registered: true, me: { id: '5215512345678:7@s.whatsapp.net', name: 'A' } }
  const clases = []
  for (let vez = 1; vez <= 3; vez++) {
    enviar({ id: `i${vez}`, cmd: 'iniciar', agente_id: 9, credenciales: { creds, keys: {} } })
    await esperar(() => lineas.filter((x) => x.evento === 'conectado').length === vez)
    // WhatsApp closes the session with 500 (bad session) or 411 (multi-device mismatch) every time.
    enviar({ id: `s${vez}`, cmd: 'simular', agente_id: 9, accion: 'desconectar', datos: { codigo: vez === 2 ? 411 : 500 } })
    await esperar(() => lineas.filter((x) => x.evento === 'desconectado').length === vez)
    clases.push(lineas.filter((x) => x.evento === 'desconectado')[vez - 1].clase)
  }
  assert.deepEqual(clases, ['transitoria', 'transitoria', 'fallida'])
  hijo.stdin.end()
  await new Promise((r) => hijo.on('exit', r))
})

test('versión de WhatsApp Web: consultada, fija si falla (y se avisa), configurada o fija sin red', async () => {
  const { resolverVersionWa, VERSION_FIJA } = await import('../src/version.js')
  const avisos = []
  const registro = { warn: (datos, msg) => avisos.push(msg) }
  const web = await resolverVersionWa({ registro, entorno: {}, consultar: async () => ({ version: [2, 3000, 5], isLatest: true }) })
  assert.deepEqual(web, { version: [2, 3000, 5], origen: 'web' })
  const fallo = await resolverVersionWa({ registro, entorno: {}, consultar: async () => ({ version: [1, 1, 1], isLatest: false, error: new Error('sin red') }) })
  assert.deepEqual(fallo, { version: VERSION_FIJA, origen: 'fija_por_fallo' })
  assert.equal(avisos.length, 1)
  const excepcion = await resolverVersionWa({ registro, entorno: {}, consultar: async () => { throw new Error('dns') } })
  assert.equal(excepcion.origen, 'fija_por_fallo')
  assert.deepEqual(await resolverVersionWa({ entorno: { ENLACE_GATEWAY_VERSION_WA: '2.3000.77' } }), { version: [2, 3000, 77], origen: 'configurada' })
  let consultada = false
  const sinRed = await resolverVersionWa({ entorno: { ENLACE_GATEWAY_CONSULTAR_VERSION: '0' }, consultar: async () => (consultada = true) })
  assert.deepEqual([sinRed.origen, consultada], ['fija', false])
})

test('contrapresión: si el núcleo no lee, la pasarela pausa los websockets en vez de acumular, y no pierde nada', async () => {
  const hijo = spawn(process.execPath, [join(raiz, 'src/index.js')], {
    env: { ...process.env, ENLACE_GATEWAY_FABRICA_SOCKET: join(raiz, 'soporte/socket_simulado.js'), ENLACE_SIMULADO_RETRASO_MS: '1' },
    stdio: ['pipe', 'pipe', 'ignore'],
  })
  const lineas = []
  const enviar = (obj) => hijo.stdin.write(JSON.stringify(obj) + '\n')
  createInterface({ input: hijo.stdout }).on('line', (l) => {
    const obj = JSON.parse(l)
    lineas.push(obj)
    if (obj.evento === 'credenciales') enviar({ id: `k${obj.lote}`, cmd: 'confirmar_credenciales', agente_id: obj.agente_id, lote: obj.lote })
  })
  const esperar = async (pred) => {
    for (let i = 0; i < 2000; i++) {
      const hallado = lineas.find(pred)
      if (hallado) return hallado
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error('no llegó')
  }
  await esperar((l) => l.evento === 'listo')
  const creds = { registered: true, me: { id: '5215512345678:7@s.whatsapp.net', name: 'A' } }
  enviar({ id: 'i', cmd: 'iniciar', agente_id: 5, credenciales: { creds, keys: {} } })
  await esperar((l) => l.evento === 'conectado')
  // The core stops reading: ~4 MB of incoming messages cannot all fit in the pipes.
  hijo.stdout.pause()
  enviar({ id: 'r', cmd: 'simular', agente_id: 5, accion: 'rafaga', datos: { cuantos: 400, tamano: 10000 } })
  await new Promise((r) => setTimeout(r, 1500))
  hijo.stdout.resume()
  await esperar(() => lineas.filter((l) => l.evento === 'mensaje').length === 400)
  enviar({ id: 'p', cmd: 'simular', agente_id: 5, accion: 'pausas', datos: {} })
  const p = await esperar((l) => l.id === 'p')
  assert.ok(p.resultado.pausas >= 1, 'el websocket nunca se pausó')
  assert.equal(p.resultado.pausado, false) // resumed once the core read again
  const ids = lineas.filter((l) => l.evento === 'mensaje').map((l) => l.wa_message_id)
  assert.equal(new Set(ids).size, 400) // nothing lost, nothing repeated
  hijo.stdin.end()
  await new Promise((r) => hijo.on('exit', r))
})
