// Stand-in for makeWASocket: an EventEmitter socket emitting Baileys-shaped events built with the real proto.
//
// Used by the node tests (in-process) and by the Python tests through ENLACE_GATEWAY_FABRICA_SOCKET.
// It never opens a network connection. Behaviour without commands: a fresh socket shows a QR (refreshed
// every ENLACE_SIMULADO_QR_MS); a registered one opens. `simular(accion, datos)` drives the rest.
//
// It is as strict as WhatsApp where the code could rely on kindness: no server-ack on a successful send
// (Baileys emits none), a send to an id nobody is registered under is accepted and never delivered,
// an outdated client version is refused with 405, a timelocked account gets 463 when it writes to
// someone who never wrote to it (no trusted-contact token), and those tokens live in the auth state.

import { appendFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'

import { Boom } from '@hapi/boom'
import { bytesToCrockford, generateMessageIDV2, proto } from 'baileys'

/** Every socket built, in order, and a log of creations and end() calls (tests check the order). */
export const sockets = []
export const bitacora = []

// What the "server" knows about each account (by phone digits), across sockets and reconnects.
const cuentas = new Map()

export function reiniciarRegistro() {
  sockets.length = 0
  bitacora.length = 0
  cuentas.clear()
}

function cuenta(numero) {
  let c = cuentas.get(numero)
  if (!c) {
    c = { timelock: null, tope: null, chatsNuevos: new Set() }
    cuentas.set(numero, c)
  }
  return c
}

/**
 * The id a number is registered under, or null when it is not on WhatsApp. Mexican mobiles are
 * registered as 521 + 10 digits; landlines and Business numbers (here: national numbers ending in
 * 1111) as 52 + 10. Numbers ending in 0000 are not on WhatsApp.
 */
export function idRegistrado(digitos) {
  let d = String(digitos).replace(/\D/g, '')
  if (d.endsWith('0000')) return null
  if (d.length === 13 && d.startsWith('521')) d = '52' + d.slice(3)
  if (d.length === 12 && d.startsWith('52')) return d.endsWith('1111') ? d : '521' + d.slice(2)
  return d.length >= 8 && d.length <= 15 ? d : null
}

/** Does a send to `jid` reach anyone? Only the exact registered id (or a LID) does. */
function entregable(jid) {
  const [usuario, dominio] = String(jid).split('@')
  if (dominio === 'lid') return true
  if (dominio !== 's.whatsapp.net') return false
  const d = usuario.split(':')[0]
  return idRegistrado(d) === d
}

function compararVersion(a, b) {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d) return d
  }
  return 0
}

const TC_INDICE = '__index'
const TC_VIGENCIA_S = 28 * 24 * 3600 // Baileys: 4 buckets of 7 days

const Estado = proto.WebMessageInfo.Status
const NUMERO_AGENTE = '5215512345678'
const entero = (nombre, defecto) => {
  const n = Number(process.env[nombre])
  return Number.isFinite(n) && n >= 0 ? n : defecto
}

function ahora() {
  return Math.floor(Date.now() / 1000)
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
    // A real socket has a websocket that can be paused (backpressure); this one only records it.
    this.pausado = false
    this.pausas = 0
    this.ws = {
      socket: {
        pause: () => {
          this.pausado = true
          this.pausas += 1
        },
        resume: () => (this.pausado = false),
      },
    }
    if (process.env.ENLACE_SIMULADO_BITACORA) {
      // One line per socket start, for the storm test across processes.
      appendFileSync(process.env.ENLACE_SIMULADO_BITACORA, JSON.stringify({ t: Date.now(), pid: process.pid }) + '\n')
    }
    this.programar(0, () => this.arrancar())
  }

  get numeroCuenta() {
    return String(this.auth.creds.me?.id ?? '').split('@')[0].split(':')[0]
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
    // WhatsApp refuses an outdated client at the handshake: 405, before any QR or login.
    const minima = process.env.ENLACE_SIMULADO_VERSION_MINIMA?.split('.').map(Number)
    if (minima && compararVersion(this.config.version ?? [0, 0, 0], minima) < 0) {
      return this.end(new Boom('Connection Failure', { statusCode: 405, data: { reason: '405' } }))
    }
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
    const registroClaves = process.env.ENLACE_SIMULADO_BITACORA_CLAVES
    if (registroClaves) {
      // Kill test: the session keys this socket starts from, to compare with what was confirmed before.
      const ids = Array.from({ length: entero('ENLACE_SIMULADO_CHURN_CLAVES', 200) }, (_, i) => `c${i}`)
      const claves = await this.auth.keys.get('session', ids)
      appendFileSync(registroClaves, JSON.stringify({ fase: 'inicio', pid: process.pid, claves }) + '\n')
    }
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

  /** A valid (unexpired) trusted-contact token for this chat, as Baileys' buildTcTokenFromJid checks it. */
  async tieneToken(jid) {
    const candidatos = [jid, ...[...this.lids].filter(([, pn]) => pn === jid).map(([lid]) => lid)]
    const guardados = await this.auth.keys.get('tctoken', candidatos)
    return candidatos.some((j) => {
      const t = guardados[j]
      return t?.token?.length && Number(t.timestamp) > ahora() - TC_VIGENCIA_S
    })
  }

  /** Someone wrote to us: WhatsApp hands out a trusted-contact token for that chat, stored as an auth key. */
  async guardarToken(jid) {
    const indice = await this.auth.keys.get('tctoken', [TC_INDICE])
    let lista = []
    try {
      lista = JSON.parse(Buffer.from(indice[TC_INDICE]?.token ?? '[]').toString())
    } catch {}
    if (!lista.includes(jid)) lista.push(jid)
    await this.auth.keys.set({
      tctoken: {
        [jid]: { token: randomBytes(16), timestamp: String(ahora()) },
        [TC_INDICE]: { token: Buffer.from(JSON.stringify(lista)) },
      },
    })
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
    const servidor = cuenta(this.numeroCuenta)
    const conToken = await this.tieneToken(jid)
    const bloqueado = servidor.timelock?.isActive && !conToken
    const codigo = this.codigoFallo ?? (bloqueado ? 463 : null)
    if (codigo) {
      // A bad ack: Baileys turns it into an ERROR status with the code (no retry: it counts as reaching out).
      this.programar(this.retrasoMs, () =>
        this.ev.emit('messages.update', [{ key, update: { status: Estado.ERROR, messageStubParameters: [String(codigo)] } }]),
      )
      return msg
    }
    if (!conToken) servidor.chatsNuevos.add(jid)
    // Success: no SERVER_ACK (Baileys emits none). An id nobody is registered under gets nothing at all.
    if (entregable(jid)) {
      const paso = (n, status) =>
        this.programar(this.retrasoMs * n, () => this.ev.emit('messages.update', [{ key, update: { status, messageTimestamp: ahora() } }]))
      paso(1, Estado.DELIVERY_ACK)
      paso(2, Estado.READ)
    }
    return msg
  }

  async sendPresenceUpdate(estado, jid) {
    if (!this.abierto) throw new Boom('Connection Closed', { statusCode: 428 })
    this.presencias.push({ estado, jid })
  }

  /** Like the server: only numbers on WhatsApp come back, each with the id it is registered under. */
  async onWhatsApp(...telefonos) {
    if (!this.abierto) throw new Boom('Connection Closed', { statusCode: 428 })
    this.consultas.push(telefonos)
    return telefonos.map((t) => idRegistrado(t)).filter(Boolean).map((d) => ({ jid: `${d}@s.whatsapp.net`, exists: true }))
  }

  /** Baileys rc14: reads the account's reach-out timelock and also emits it as connection.update. */
  async fetchAccountReachoutTimelock() {
    if (!this.abierto) throw new Boom('Connection Closed', { statusCode: 428 })
    const t = cuenta(this.numeroCuenta).timelock
    const resultado = t?.isActive
      ? { isActive: true, timeEnforcementEnds: t.timeEnforcementEnds, enforcementType: t.enforcementType }
      : { isActive: false, timeEnforcementEnds: undefined, enforcementType: 'DEFAULT' }
    this.ev.emit('connection.update', { reachoutTimeLock: resultado })
    return resultado
  }

  /** Baileys rc14: the new-chat cap (the xwa2_message_capping_info payload). */
  async fetchNewChatMessageCap() {
    if (!this.abierto) throw new Boom('Connection Closed', { statusCode: 428 })
    const c = cuenta(this.numeroCuenta)
    if (!c.tope) return { capping_status: 'NONE' }
    const usada = c.tope.usada + c.chatsNuevos.size
    return { capping_status: usada >= c.tope.total ? 'CAPPED' : c.tope.estado ?? 'NONE', total_quota: c.tope.total, used_quota: usada }
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

  /**
   * Heavy key churn (kill test): one keys.set after another on 'session' keys c0..cN-1, each a few
   * random sets or deletes, every one awaited. Before each write a 'pide' line and after it resolves an
   * 'ok' line go to ENLACE_SIMULADO_BITACORA_CLAVES, so a test knows what the socket saw confirmed.
   */
  churn({ pausaMs = 0 } = {}) {
    const ruta = process.env.ENLACE_SIMULADO_BITACORA_CLAVES
    const total = entero('ENLACE_SIMULADO_CHURN_CLAVES', 200)
    if (!ruta || this.churnActivo) return { churn: false }
    this.churnActivo = true
    const bucle = async () => {
      for (let n = 1; !this.cerrado; n++) {
        const delta = {}
        const cuantas = 1 + Math.floor(Math.random() * 4)
        for (let i = 0; i < cuantas; i++) {
          const id = `c${Math.floor(Math.random() * total)}`
          delta[id] = Math.random() < 0.3 ? null : { n, v: randomBytes(6).toString('hex') }
        }
        const seq = `${process.pid}-${this.numero}-${n}`
        appendFileSync(ruta, JSON.stringify({ fase: 'pide', seq, delta }) + '\n')
        try {
          await this.auth.keys.set({ session: delta })
        } catch {
          return // the session ended: this write was never confirmed
        }
        appendFileSync(ruta, JSON.stringify({ fase: 'ok', seq }) + '\n')
        if (pausaMs) await new Promise((r) => setTimeout(r, pausaMs))
      }
    }
    bucle()
    return { churn: true }
  }

  /** A person writes: the message arrives, and the chat gets a trusted-contact token (an auth key). */
  async recibirDePersona(datos) {
    const r = this.recibir(datos)
    const jid = datos.lid ?? datos.de
    if (jid) await this.guardarToken(jid)
    return r
  }

  async simular(accion, datos = {}) {
    switch (accion) {
      case 'escanear':
        return this.escanear(datos)
      case 'recibir':
        return this.recibirDePersona(datos)
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
      case 'restringir': {
        // The server restricts the account (kept across reconnects) and notifies the open socket.
        const lock = {
          isActive: datos.activo !== false,
          timeEnforcementEnds: datos.hasta ? new Date(datos.hasta) : undefined,
          enforcementType: datos.tipo ?? 'BIZ_QUALITY',
        }
        cuenta(this.numeroCuenta).timelock = lock.isActive ? lock : null
        this.ev.emit('connection.update', { reachoutTimeLock: lock })
        return {}
      }
      case 'tope':
        cuenta(this.numeroCuenta).tope = { total: datos.total ?? 0, usada: datos.usada ?? 0, estado: datos.estado }
        return {}
      case 'churn':
        return this.churn(datos)
      case 'rafaga': {
        // Many incoming messages at once (backpressure test); `pausas` tells whether the gateway paused us.
        for (let i = 0; i < (datos.cuantos ?? 100); i++) {
          this.recibir({ de: datos.de ?? '5215511112222@s.whatsapp.net', texto: 'x'.repeat(datos.tamano ?? 10000), id: `RAF${i}` })
        }
        return {}
      }
      case 'pausas':
        return { pausas: this.pausas, pausado: this.pausado }
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
