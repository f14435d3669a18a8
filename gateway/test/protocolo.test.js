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
