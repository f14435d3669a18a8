// In-memory auth state of one session: loaded from the `iniciar` command, every change reported as a delta.

import { BufferJSON, initAuthCreds, proto } from 'baileys'

/** A value in its stored form (Buffers as {type:'Buffer', data: base64}): plain JSON. */
export function serializar(valor) {
  return JSON.parse(JSON.stringify(valor, BufferJSON.replacer))
}

export function revivir(valorSerializado) {
  return JSON.parse(JSON.stringify(valorSerializado), BufferJSON.reviver)
}

/**
 * Builds `{creds, keys}` for makeWASocket from the stored dict (or fresh creds when null).
 * Keys are kept as JSON strings, which is both what Python sent and the most compact form in
 * memory; `alCambiar(delta)` receives `{keys: {tipo: {id: valor|null}}}` on every set, before
 * Baileys goes on, so the Python side can store them (messages stop arriving when keys are lost).
 */
export function crearEstadoAuth(guardado, alCambiar) {
  const creds = guardado?.creds ? revivir(guardado.creds) : initAuthCreds()
  const claves = new Map()
  for (const [tipo, porId] of Object.entries(guardado?.keys ?? {})) {
    const mapa = new Map()
    for (const [id, valor] of Object.entries(porId ?? {})) {
      if (valor !== null && valor !== undefined) mapa.set(id, JSON.stringify(valor))
    }
    claves.set(tipo, mapa)
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
    async set(datos) {
      const delta = {}
      for (const [tipo, porId] of Object.entries(datos ?? {})) {
        if (!porId) continue
        let mapa = claves.get(tipo)
        if (!mapa) {
          mapa = new Map()
          claves.set(tipo, mapa)
        }
        delta[tipo] = {}
        for (const [id, valor] of Object.entries(porId)) {
          if (valor === null || valor === undefined) {
            mapa.delete(id)
            delta[tipo][id] = null
          } else {
            const texto = JSON.stringify(valor, BufferJSON.replacer)
            mapa.set(id, texto)
            delta[tipo][id] = JSON.parse(texto)
          }
        }
      }
      if (Object.keys(delta).length) alCambiar({ keys: delta })
    },
    async clear() {
      claves.clear()
    },
  }

  return {
    creds,
    keys,
    credsSerializadas: () => serializar(creds),
    cuantasClaves: () => [...claves.values()].reduce((n, m) => n + m.size, 0),
  }
}
