// Storm test: 300 sessions over gateway worker processes; kill one worker, then restart the whole
// gateway. Socket starts must never exceed the node-wide rate, whatever the core does.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { BufferJSON, initAuthCreds } from 'baileys'

const raiz = join(dirname(fileURLToPath(import.meta.url)), '..')
const SESIONES = 300
const POR_PROCESO = 50
// Faster than production's 2/s so the test takes seconds; the property checked is the same.
const POR_SEGUNDO = 40

function credencialesVinculadas() {
  const creds = initAuthCreds()
  creds.registered = true
  creds.me = { id: '5215512345678:7@s.whatsapp.net', lid: '190000000000001:7@lid', name: 'Agente' }
  return { creds: JSON.parse(JSON.stringify(creds, BufferJSON.replacer)), keys: {} }
}

/** The gateway as the core sees it. This "core" is the worst kind: it reconnects at once, no backoff. */
function arrancarGateway(bitacora) {
  const hijo = spawn(process.execPath, [join(raiz, 'src/index.js')], {
    env: {
      ...process.env,
      ENLACE_GATEWAY_FABRICA_SOCKET: join(raiz, 'soporte/socket_simulado.js'),
      ENLACE_SIMULADO_BITACORA: bitacora,
      ENLACE_SIMULADO_RETRASO_MS: '50',
      ENLACE_GATEWAY_SOCKETS_POR_PROCESO: String(POR_PROCESO),
      ENLACE_GATEWAY_CONEXIONES_POR_S: String(POR_SEGUNDO),
      ENLACE_GATEWAY_HEAP_MB: '256',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const credenciales = credencialesVinculadas()
  const g = { hijo, eventos: [], conectados: new Set(), caidas: [], ids: 0 }
  const enviar = (obj) => hijo.stdin.write(JSON.stringify(obj) + '\n')
  g.respuestas = new Map()
  g.comando = (cmd) =>
    new Promise((resolver) => {
      const id = `t${++g.ids}`
      g.respuestas.set(id, resolver)
      enviar({ ...cmd, id })
    })
  g.iniciar = (agenteId) => enviar({ id: `i${agenteId}-${++g.ids}`, cmd: 'iniciar', agente_id: agenteId, credenciales })
  createInterface({ input: hijo.stdout }).on('line', (linea) => {
    const obj = JSON.parse(linea)
    if (obj.id && g.respuestas.has(obj.id)) {
      g.respuestas.get(obj.id)(obj)
      g.respuestas.delete(obj.id)
    }
    if (!obj.evento) return
    g.eventos.push(obj)
    if (obj.evento === 'credenciales') enviar({ id: `k${obj.lote}`, cmd: 'confirmar_credenciales', agente_id: obj.agente_id, lote: obj.lote })
    if (obj.evento === 'conectado') g.conectados.add(obj.agente_id)
    if (obj.evento === 'desconectado') {
      g.conectados.delete(obj.agente_id)
      g.caidas.push(obj)
      if (obj.clase === 'transitoria') g.iniciar(obj.agente_id)
    }
  })
  g.salida = new Promise((r) => hijo.on('exit', r))
  return g
}

async function hasta(condicion, ms = 60000) {
  const limite = Date.now() + ms
  while (!condicion()) {
    if (Date.now() > limite) throw new Error('no se cumplió a tiempo')
    await new Promise((r) => setTimeout(r, 20))
  }
}

function arranques(bitacora) {
  return readFileSync(bitacora, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
}

/** The most socket starts inside any one-second window. */
function maximoPorSegundo(tiempos) {
  const t = [...tiempos].sort((a, b) => a - b)
  let maximo = 0
  let inicio = 0
  for (let fin = 0; fin < t.length; fin++) {
    while (t[fin] - t[inicio] >= 1000) inicio++
    maximo = Math.max(maximo, fin - inicio + 1)
  }
  return maximo
}

test('tormenta: 300 sesiones, muere un proceso y luego toda la pasarela; los arranques nunca superan el ritmo', { timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tormenta-'))
  const bitacora = join(dir, 'arranques.jsonl')
  try {
    // 1. Node start: 300 sessions asked for at once.
    let g = arrancarGateway(bitacora)
    for (let a = 1; a <= SESIONES; a++) g.iniciar(a)
    await hasta(() => g.conectados.size === SESIONES)
    const ping = await g.comando({ cmd: 'ping' })
    const procesos = ping.resultado.procesos
    assert.equal(procesos.length, SESIONES / POR_PROCESO)
    assert.ok(procesos.every((p) => p.sesiones <= POR_PROCESO && p.sesiones > 0))
    const fase1 = arranques(bitacora)
    assert.equal(fase1.length, SESIONES)
    assert.equal(new Set(fase1.map((a) => a.pid)).size, SESIONES / POR_PROCESO)

    // 2. One worker dies (OOM, crash): only its sockets drop, and they come back through the limit.
    const victima = procesos[2]
    process.kill(victima.pid, 'SIGKILL')
    await hasta(() => g.caidas.length >= victima.sesiones && g.conectados.size === SESIONES)
    assert.equal(g.caidas.length, victima.sesiones)
    assert.ok(g.caidas.every((c) => c.clase === 'transitoria' && /terminó/.test(c.detalle)))
    const fase2 = arranques(bitacora).slice(fase1.length)
    assert.equal(fase2.length, victima.sesiones)
    assert.ok(!fase2.some((a) => a.pid === victima.pid))

    // 3. The whole node restarts (gateway killed, started again): 300 sessions again.
    g.hijo.kill('SIGKILL')
    await g.salida
    await hasta(() => {
      try {
        return procesos.every((p) => {
          try {
            process.kill(p.pid, 0)
            return false
          } catch {
            return true
          }
        })
      } catch {
        return false
      }
    }, 10000) // workers leave when the supervisor's pipe closes
    g = arrancarGateway(bitacora)
    for (let a = 1; a <= SESIONES; a++) g.iniciar(a)
    await hasta(() => g.conectados.size === SESIONES)
    const fase3 = arranques(bitacora).slice(fase1.length + fase2.length)
    assert.equal(fase3.length, SESIONES)

    // Never more starts in a second than the rate allows (spacing is 1/rate stretched by jitter; +1 for
    // the pipe between supervisor and worker delivering two grants back to back).
    for (const fase of [fase1, fase2, fase3]) {
      assert.ok(maximoPorSegundo(fase.map((a) => a.t)) <= POR_SEGUNDO + 1, `más de ${POR_SEGUNDO} arranques en un segundo`)
    }
    g.hijo.stdin.end()
    await g.salida
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
