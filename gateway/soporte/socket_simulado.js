// Stand-in for makeWASocket: an EventEmitter socket emitting Baileys-shaped events built with the real proto.
//
// Used by the node tests (in-process) and by the Python tests through ENLACE_GATEWAY_FABRICA_SOCKET.
// It never opens a network connection. Behaviour without commands: a fresh socket shows a QR (refreshed
// every ENLACE_SIMULADO_QR_MS); a registered one opens. `simular(accion, datos)` drives the rest.

import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'

import { Boom } from '@hapi/boom'
import { bytesToCrockford, generateMessageIDV2, proto } from 'baileys'

/** Every socket built, in order, and a log of creations and end() calls (tests check the order). */
export const sockets = []
export const bitacora = []

export function reiniciarRegistro() {
  sockets.length = 0
  bitacora.length = 0
}

const Estado = proto.WebMessageInfo.Status
const NUMERO_AGENTE = '5215512345678'
const entero = (nombre, defecto) => {
  const n = Number(process.env[nombre])
  return Number.isFinite(n) && n >= 0 ? n : defecto
}

function ahora() {
  return Math.floor(Date.now() / 1000)
}

/** A Mexican 52+10 number as WhatsApp usually addresses it (521+10); anything else unchanged. */
function jidDeTelefono(digitos) {
  const d = String(digitos).replace(/\D/g, '')
  const usuario = d.length === 12 && d.startsWith('52') ? '521' + d.slice(2) : d
  return `${usuario}@s.whatsapp.net`
}

class SocketSimulado {
  constructor(config) {
    this.numero = sockets.length
    this.config = config
    this.auth = config.auth
    this.ev = new EventEmitter()
    this.ev.setMaxListeners(0)
    this.user = undefined
    this.abierto = false
    this.cerrado = false
    this.llamadasEnd = []
    this.enviados = []
    this.presencias = []
    this.consultas = []
    this.qrs = 0
    this.codigoFallo = null
    this.retrasoMs = entero('ENLACE_SIMULADO_RETRASO_MS', 5)
    this.intervaloQrMs = entero('ENLACE_SIMULADO_QR_MS', 20000)
    this.temporizadores = new Set()
    this.lids = new Map()
    this.signalRepository = { lidMapping: { getPNForLID: async (lid) => this.lids.get(lid) ?? null } }
    this.programar(0, () => this.arrancar())
  }

  programar(ms, fn) {
    const t = setTimeout(() => {
      this.temporizadores.delete(t)
      if (!this.cerrado) Promise.resolve(fn()).catch(() => {})
    }, ms)
    t.unref?.()
    this.temporizadores.add(t)
  }

  arrancar() {
    this.ev.emit('connection.update', { connection: 'connecting', receivedPendingNotifications: false })
    if (this.auth.creds.registered && this.auth.creds.me) return this.abrir()
    this.emitirQr()
  }

  emitirQr() {
    this.qrs += 1
    const c = this.auth.creds
    const ref = `2@${randomBytes(12).toString('base64')}`
    const partes = [ref, Buffer.from(c.noiseKey.public).toString('base64'), Buffer.from(c.signedIdentityKey.public).toString('base64'), c.advSecretKey]
    this.ev.emit('connection.update', { qr: partes.join(',') })
    this.programar(this.intervaloQrMs, () => this.emitirQr())
  }

  async abrir() {
    const me = this.auth.creds.me
    this.user = { id: me.id, lid: me.lid, name: me.name }
    // A real socket uploads pre-keys when it connects: that goes through keys.set.
    await this.auth.keys.set({ 'pre-key': { [String(this.numero + 1)]: { public: randomBytes(32), private: randomBytes(32) } } })
    this.abierto = true
    this.ev.emit('connection.update', { connection: 'open', receivedPendingNotifications: true })
  }

  /** The phone scanned the QR (or typed the pairing code): pair-success, then the server asks for 515. */
  escanear({ numero = NUMERO_AGENTE, lid = '190000000000001' } = {}) {
    if (this.abierto) throw new Error('el socket ya está abierto')
    const creds = this.auth.creds
    creds.me = { id: `${numero}:7@s.whatsapp.net`, lid: `${lid}:7@lid`, name: 'Agente' }
    creds.registered = true
    creds.platform = 'android'
    this.ev.emit('creds.update', { me: creds.me, registered: true, platform: 'android' })
    this.ev.emit('connection.update', { isNewLogin: true, qr: undefined })
    this.programar(0, () => this.end(new Boom('Stream Errored (restart required)', { statusCode: 515 })))
    return { wa_id: `${numero}@s.whatsapp.net` }
  }

  async requestPairingCode(telefono) {
    const codigo = bytesToCrockford(randomBytes(5))
    this.auth.creds.pairingCode = codigo
    this.auth.creds.me = { id: `${telefono}@s.whatsapp.net`, name: '~' }
    this.ev.emit('creds.update', this.auth.creds)
    return codigo
  }

  async sendMessage(jid, contenido, opciones = {}) {
    if (!this.abierto) throw new Boom('Connection Closed', { statusCode: 428 })
    const id = opciones.messageId ?? generateMessageIDV2(this.user.id)
    const msg = proto.WebMessageInfo.fromObject({
      key: { remoteJid: jid, fromMe: true, id },
      message: { extendedTextMessage: { text: contenido.text } },
      messageTimestamp: ahora(),
      status: Estado.PENDING,
    })
    this.enviados.push({ jid, texto: contenido.text, id })
    process.nextTick(() => {
      if (!this.cerrado) this.ev.emit('messages.upsert', { messages: [msg], type: 'append' })
    })
    const key = { remoteJid: jid, fromMe: true, id }
    const codigo = this.codigoFallo ?? (String(jid).startsWith('52999') || String(jid).startsWith('521999') ? 463 : null)
    if (codigo) {
      this.programar(this.retrasoMs, () =>
        this.ev.emit('messages.update', [{ key, update: { status: Estado.ERROR, messageStubParameters: [String(codigo)] } }]),
      )
    } else {
      const paso = (n, status) =>
        this.programar(this.retrasoMs * n, () => this.ev.emit('messages.update', [{ key, update: { status, messageTimestamp: ahora() } }]))
      paso(1, Estado.SERVER_ACK)
      paso(2, Estado.DELIVERY_ACK)
      paso(3, Estado.READ)
    }
    return msg
  }

  async sendPresenceUpdate(estado, jid) {
    if (!this.abierto) throw new Boom('Connection Closed', { statusCode: 428 })
    this.presencias.push({ estado, jid })
  }

  /** Numbers ending in 0000 are "not on WhatsApp"; Mexican 52+10 come back as 521+10 like the real server. */
  async onWhatsApp(...telefonos) {
    this.consultas.push(telefonos)
    return telefonos.filter((t) => !String(t).endsWith('0000')).map((t) => ({ jid: jidDeTelefono(t), exists: true }))
  }

  async logout() {
    if (!this.abierto) throw new Boom('Connection Closed', { statusCode: 428 })
    this.end(new Boom('Intentional Logout', { statusCode: 401 }))
  }

  end(error) {
    this.llamadasEnd.push(error)
    bitacora.push(['end', this.numero])
    if (this.cerrado) return
    this.cerrado = true
    this.abierto = false
    for (const t of this.temporizadores) clearTimeout(t)
    this.temporizadores.clear()
    this.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } })
  }

  recibir({ de, texto, lid = null, id = null, nombre = 'Contacto', mensaje = null, deMi = false, tipo = 'notify' }) {
    const wa = id ?? generateMessageIDV2()
    const remoteJid = lid ?? de
    const msg = proto.WebMessageInfo.fromObject({
      key: { remoteJid, fromMe: deMi, id: wa },
      message: mensaje ?? { conversation: texto },
      messageTimestamp: ahora(),
      pushName: deMi ? undefined : nombre,
    })
    // remoteJidAlt / addressingMode are not proto fields: Baileys adds them to the key object.
    if (lid) {
      msg.key = { ...msg.key.toJSON(), remoteJidAlt: de ?? undefined, addressingMode: 'lid' }
      if (de) this.lids.set(lid, de)
    }
    this.ev.emit('messages.upsert', { messages: [msg], type: tipo })
    return { wa_message_id: wa }
  }

  async simular(accion, datos = {}) {
    switch (accion) {
      case 'escanear':
        return this.escanear(datos)
      case 'recibir':
        return this.recibir(datos)
      case 'escribir_en_telefono':
        return this.recibir({ ...datos, de: datos.a, deMi: true })
      case 'estado':
        this.ev.emit('messages.update', [
          {
            key: { remoteJid: datos.jid, fromMe: true, id: datos.wa_message_id },
            update: { status: datos.status, messageStubParameters: datos.codigo ? [String(datos.codigo)] : undefined, messageTimestamp: ahora() },
          },
        ])
        return {}
      case 'desconectar':
        this.end(new Boom(datos.mensaje ?? 'desconexión simulada', { statusCode: datos.codigo ?? 428 }))
        return {}
      case 'capping':
        this.ev.emit('message-capping.update', { capping_status: datos.capping_status, total_quota: datos.total_quota, used_quota: datos.used_quota })
        return {}
      case 'restringir':
        this.ev.emit('connection.update', {
          reachoutTimeLock: {
            isActive: datos.activo !== false,
            timeEnforcementEnds: datos.hasta ? new Date(datos.hasta) : undefined,
            enforcementType: datos.tipo ?? 'BIZ_QUALITY',
          },
        })
        return {}
      case 'mapeo':
        this.lids.set(datos.lid, datos.pn)
        this.ev.emit('lid-mapping.update', { lid: datos.lid, pn: datos.pn })
        return {}
      case 'claves':
        await this.auth.keys.set(datos.datos)
        return {}
      case 'historial': {
        const mensajes = (datos.mensajes ?? []).map((m, i) =>
          proto.WebMessageInfo.fromObject({
            key: { remoteJid: m.de, fromMe: Boolean(m.deMi), id: m.id ?? `HIST${i}` },
            message: { conversation: m.texto },
            messageTimestamp: m.momento ?? ahora() - 3600,
          }),
        )
        this.ev.emit('messaging-history.set', { chats: [], contacts: [], messages: mensajes, lidPnMappings: datos.mapeos ?? [], isLatest: true, progress: 100 })
        return {}
      }
      case 'fallar_envios':
        this.codigoFallo = datos.codigo ?? null
        return {}
      default:
        throw new Error(`acción desconocida: ${accion}`)
    }
  }
}

export function crearSocket(config) {
  const socket = new SocketSimulado(config)
  sockets.push(socket)
  bitacora.push(['crear', socket.numero])
  return socket
}

export default crearSocket
