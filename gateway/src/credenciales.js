// Auth state of one session: loaded from `iniciar`, every change sent to the core in batches, and
// Baileys' keys.set held until the core confirms the batch is committed.

import { BufferJSON, initAuthCreds, proto } from 'baileys'

/** A value in its stored form (Buffers as {type:'Buffer', data: base64}): plain JSON. */
export function serializar(valor) {
  return JSON.parse(JSON.stringify(valor, BufferJSON.replacer))
}

export function revivir(valorSerializado) {
  return JSON.parse(JSON.stringify(valorSerializado), BufferJSON.reviver)
}

export class CredencialesSinConfirmar extends Error {
  constructor(mensaje) {
    super(mensaje)
    this.name = 'CredencialesSinConfirmar'
  }
}

/**
 * Builds `{creds, keys}` for makeWASocket from the stored dict (or fresh creds when null).
 *
 * `enviar(lote, delta)` ships one batch (`{creds?, keys?: {tipo: {id: valor|null}}}`) to the core;
 * `confirmar(lote)` is called when the core says that batch is committed. At most one batch is in
 * flight per session; changes made meanwhile wait in the next one, so a slow database makes batches
 * bigger instead of making more of them. `keys.set` resolves only once its batch is confirmed:
 * Baileys never goes on with a key the database does not hold. No confirmation within
 * `esperaMs` rejects the waiting writes and calls `alFallar` (the session closes and is resumed
 * from what was stored).
 */
export function crearEstadoAuth(guardado, { enviar = () => {}, esperaMs = 30000, alFallar = () => {} } = {}) {
  const creds = guardado?.creds ? revivir(guardado.creds) : initAuthCreds()
  // Keys kept as JSON strings: what the core sent, and the most compact form in memory.
  const claves = new Map()
  for (const [tipo, porId] of Object.entries(guardado?.keys ?? {})) {
    const mapa = new Map()
    for (const [id, valor] of Object.entries(porId ?? {})) {
      if (valor !== null && valor !== undefined) mapa.set(id, JSON.stringify(valor))
    }
    claves.set(tipo, mapa)
  }

  let siguienteLote = 1
  let pendiente = null // {creds?, keys, esperas: [{resolver, rechazar}]} not sent yet
  let enVuelo = null // {lote, esperas, temporizador}
  let programado = false
  let cerrado = false

  const nuevoPendiente = () => ({ creds: undefined, keys: {}, esperas: [] })

  function programar() {
    if (programado || enVuelo || !pendiente || cerrado) return
    programado = true
    // Let the writes of this turn of the event loop join one batch.
    setImmediate(despachar)
  }

  function despachar() {
    programado = false
    if (enVuelo || !pendiente || cerrado) return
    const lote = siguienteLote++
    const { creds: c, keys, esperas } = pendiente
    pendiente = null
    const delta = {}
    if (c !== undefined) delta.creds = c
    if (Object.keys(keys).length) delta.keys = keys
    const temporizador = setTimeout(() => vencer(lote), esperaMs)
    temporizador.unref?.()
    enVuelo = { lote, esperas, temporizador }
    try {
      enviar(lote, delta)
    } catch (err) {
      vencer(lote, err)
    }
  }

  function vencer(lote, causa = null) {
    if (!enVuelo || enVuelo.lote !== lote) return
    const error = new CredencialesSinConfirmar(
      causa ? `no se pudieron enviar las credenciales: ${causa.message}` : 'el núcleo no confirmó las credenciales a tiempo',
    )
    cerrar(error)
    alFallar(error)
  }

  function confirmar(lote) {
    if (!enVuelo || enVuelo.lote !== lote) return false
    clearTimeout(enVuelo.temporizador)
    const { esperas } = enVuelo
    enVuelo = null
    for (const e of esperas) e.resolver()
    programar()
    return true
  }

  /** Rejects every write still waiting (the session ends); later writes fail at once. */
  function cerrar(error = new CredencialesSinConfirmar('la sesión terminó')) {
    cerrado = true
    const esperas = [...(enVuelo?.esperas ?? []), ...(pendiente?.esperas ?? [])]
    if (enVuelo) clearTimeout(enVuelo.temporizador)
    enVuelo = null
    pendiente = null
    for (const e of esperas) e.rechazar(error)
  }

  /** A promise for "everything changed so far is committed". */
  function vaciar() {
    if (cerrado) return Promise.reject(new CredencialesSinConfirmar('la sesión terminó'))
    if (!pendiente && !enVuelo) return Promise.resolve()
    return new Promise((resolver, rechazar) => {
      if (pendiente) pendiente.esperas.push({ resolver, rechazar })
      else enVuelo.esperas.push({ resolver, rechazar })
      programar()
    })
  }

  const keys = {
    async get(tipo, ids) {
      const mapa = claves.get(tipo)
      const datos = {}
      for (const id of ids) {
        const texto = mapa?.get(id)
        if (texto === undefined) continue
        let valor = JSON.parse(texto, BufferJSON.reviver)
        if (tipo === 'app-state-sync-key' && valor) valor = proto.Message.AppStateSyncKeyData.fromObject(valor)
        datos[id] = valor
      }
      return datos
    },
    set(datos) {
      if (cerrado) return Promise.reject(new CredencialesSinConfirmar('la sesión terminó'))
      let cambios = 0
      for (const [tipo, porId] of Object.entries(datos ?? {})) {
        if (!porId) continue
        let mapa = claves.get(tipo)
        if (!mapa) {
          mapa = new Map()
          claves.set(tipo, mapa)
        }
        for (const [id, valor] of Object.entries(porId)) {
          pendiente ??= nuevoPendiente()
          const destino = (pendiente.keys[tipo] ??= {})
          if (valor === null || valor === undefined) {
            mapa.delete(id)
            destino[id] = null
          } else {
            const texto = JSON.stringify(valor, BufferJSON.replacer)
            mapa.set(id, texto)
            destino[id] = JSON.parse(texto)
          }
          cambios += 1
        }
      }
      if (!cambios) return Promise.resolve()
      return new Promise((resolver, rechazar) => {
        pendiente.esperas.push({ resolver, rechazar })
        programar()
      })
    },
    async clear() {
      claves.clear()
    },
  }

  return {
    creds,
    keys,
    /** creds.update: the whole creds join the next batch (nobody waits on them, as in Baileys). */
    credsCambiadas() {
      if (cerrado) return
      pendiente ??= nuevoPendiente()
      pendiente.creds = serializar(creds)
      programar()
    },
    confirmar,
    vaciar,
    cerrar,
    credsSerializadas: () => serializar(creds),
    cuantasClaves: () => [...claves.values()].reduce((n, m) => n + m.size, 0),
    /** Every stored key as {tipo: {id: valor}} (tests compare it with what the core holds). */
    instantanea() {
      const salida = {}
      for (const [tipo, mapa] of claves) {
        if (!mapa.size) continue
        salida[tipo] = {}
        for (const [id, texto] of mapa) salida[tipo][id] = JSON.parse(texto)
      }
      return salida
    },
    get enVuelo() {
      return enVuelo?.lote ?? null
    },
  }
}
