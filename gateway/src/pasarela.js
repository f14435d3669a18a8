// Many Baileys sockets in one process, keyed by agente_id; commands in, protocol events out.

import { isLidUser, makeCacheableSignalKeyStore, makeWASocket } from 'baileys'

import { crearEstadoAuth } from './credenciales.js'
import {
  claveTelefono,
  clasificarDesconexion,
  codigoDeError,
  cuentaPropia,
  nivelCapping,
  normalizarEstado,
  normalizarJid,
  normalizarMensaje,
  segundos,
} from './normalizar.js'
import { crearRegistro } from './registro.js'

// Right after pairing the server asks for a restart (515); more than a few in a row means a loop.
const MAX_REINICIOS_SEGUIDOS = 3
const PRESENCIAS = new Set(['composing', 'paused', 'available', 'unavailable'])

export class ErrorPasarela extends Error {
  constructor(codigo, mensaje, { reintentable = false, estado = null } = {}) {
    super(mensaje)
    this.codigo = codigo
    this.reintentable = reintentable
    this.estado = estado
  }
}

function agenteIdValido(valor) {
  const id = Number(valor)
  if (!Number.isSafeInteger(id) || id <= 0) throw new ErrorPasarela('agente_invalido', 'agente_id debe ser un entero positivo')
  return id
}

function digitos(telefono) {
  const limpio = String(telefono ?? '').replace(/\D/g, '')
  if (limpio.length < 8 || limpio.length > 15) {
    throw new ErrorPasarela('telefono_invalido', `Teléfono inválido: ${telefono}`)
  }
  return limpio
}

/**
 * Digits for requestPairingCode: the id WhatsApp registered the number under. Mexican mobiles are
 * registered as 521 + 10 digits, so a typed 52 + 10 is resolved to that form first.
 */
export function numeroParaCodigo(telefono) {
  const d = digitos(telefono)
  if (d.length === 12 && d.startsWith('52')) return '521' + d.slice(2)
  return d
}

function conLimite(promesa, ms, mensaje) {
  let temporizador
  const limite = new Promise((_, rechazar) => {
    temporizador = setTimeout(() => rechazar(new ErrorPasarela('tiempo_agotado', mensaje, { reintentable: true })), ms)
  })
  return Promise.race([promesa, limite]).finally(() => clearTimeout(temporizador))
}

class Sesion {
  constructor(pasarela, agenteId, credenciales, telefono) {
    this.pasarela = pasarela
    this.agenteId = agenteId
    this.registro = pasarela.registro.child({ agente_id: agenteId })
    this.auth = crearEstadoAuth(credenciales, {
      enviar: (lote, delta) => this.emitir('credenciales', { lote, datos: delta }),
      esperaMs: pasarela.esperaCredencialesMs,
      alFallar: (err) => this.alFallarCredenciales(err),
    })
    // One cache per session, kept across the 515 restart so keys written during pairing stay warm.
    this.claves = makeCacheableSignalKeyStore(this.auth.keys, this.registro)
    this.telefono = telefono ? digitos(telefono) : null
    this.socket = null // the socket whose events we listen to
    this.ultimo = null // the last socket built, ended before building another
    this.estado = 'iniciando'
    this.terminada = false
    this.qrVistos = 0
    this.codigoPedido = false
    this.reinicios = 0
    this.restringida = false
    this.cuenta = null
    this.mapeos = new Set()
    this.esperasQr = []
    this.cola = Promise.resolve()
    this.aperturas = 0 // bumped on every abrir(): a turn granted to an older attempt is ignored
    this.disponible = false // presence 'available' sent and not yet 'unavailable'
  }

  emitir(evento, datos = {}) {
    this.pasarela.emitir({ evento, agente_id: this.agenteId, ...datos })
  }

  /** Message events go through one chain per session so they leave in the order Baileys gave them. */
  enCola(trabajo) {
    this.cola = this.cola.then(trabajo).catch((err) => this.registro.error({ err }, 'fallo procesando un evento'))
  }

  /** Every socket start (first, after 515, after a drop) waits for a turn of the node-wide rate limit. */
  abrir() {
    this.retirarSocket()
    this.estado = 'esperando_turno'
    const apertura = ++this.aperturas
    Promise.resolve(this.pasarela.pedirTurno(this.agenteId)).then(
      () => {
        if (this.terminada || apertura !== this.aperturas || this.pasarela.sesiones.get(this.agenteId) !== this) return
        this.crearSocket()
      },
      (err) => this.registro.error({ err }, 'no se obtuvo turno de conexión'),
    )
  }

  crearSocket() {
    this.estado = 'conectando'
    this.qrVistos = 0
    let sock
    try {
      sock = this.pasarela.crearSocket({
        ...this.pasarela.opcionesSocket,
        auth: { creds: this.auth.creds, keys: this.claves },
        logger: this.registro,
        // false keeps the agent's phone receiving notifications while the gateway is linked.
        markOnlineOnConnect: false,
        syncFullHistory: false,
        getMessage: async () => undefined,
      })
    } catch (err) {
      this.registro.error({ err }, 'no se pudo crear el socket')
      this.estado = 'cerrada'
      this.pasarela.olvidar(this)
      this.emitir('desconectado', { clase: 'transitoria', codigo: null, detalle: `no se pudo crear el socket: ${err?.message}` })
      return
    }
    this.socket = sock
    this.ultimo = sock
    this.vincular(sock)
  }

  /** End the current socket without reporting its close (it is being replaced or stopped on purpose). */
  retirarSocket() {
    const anterior = this.ultimo
    this.socket = null
    this.ultimo = null
    if (!anterior) return
    try {
      anterior.end(undefined)
    } catch (err) {
      this.registro.warn({ err }, 'end() del socket anterior falló')
    }
  }

  terminar() {
    this.terminada = true
    this.estado = 'cerrada'
    this.rechazarEsperasQr(new ErrorPasarela('sin_sesion', 'La sesión se detuvo'))
    this.retirarSocket()
    this.auth.cerrar()
  }

  /** The core did not confirm a batch of keys: going on would let WhatsApp see keys nobody stored. */
  alFallarCredenciales(err) {
    if (this.terminada) return
    this.registro.error({ err }, 'credenciales sin confirmar: se cierra el socket y se reanuda desde lo guardado')
    this.terminada = true
    this.estado = 'cerrada'
    this.rechazarEsperasQr(new ErrorPasarela('sin_sesion', 'La sesión se detuvo'))
    this.retirarSocket()
    this.pasarela.olvidar(this)
    this.emitir('desconectado', { clase: 'transitoria', codigo: null, detalle: 'credenciales sin confirmar por el núcleo' })
  }

  vincular(sock) {
    const propio = (manejador) => (...args) => {
      if (sock !== this.socket) return // a replaced socket: its late events mean nothing
      try {
        const r = manejador(...args)
        if (r && typeof r.catch === 'function') r.catch((err) => this.registro.error({ err }, 'fallo en manejador'))
      } catch (err) {
        this.registro.error({ err }, 'fallo en manejador')
      }
    }
    const ev = sock.ev
    ev.on('creds.update', propio(() => this.auth.credsCambiadas()))
    ev.on('connection.update', propio((u) => this.alActualizarConexion(sock, u)))
    ev.on('messages.upsert', propio(({ messages }) => this.enCola(() => this.alRecibirMensajes(sock, messages ?? []))))
    ev.on('messages.update', propio((updates) => this.enCola(() => this.alActualizarEstados(updates ?? []))))
    ev.on('lid-mapping.update', propio((m) => this.enCola(() => this.mapeo(m?.lid, m?.pn))))
    ev.on('message-capping.update', propio((info) => this.enCola(() => this.alCambiarCapping(info))))
    ev.on('messaging-history.set', propio((datos) => this.enCola(() => this.alRecibirHistorial(sock, datos))))
  }

  alActualizarConexion(sock, u) {
    if (u.qr) this.alRecibirQr(u.qr)
    if (u.connection === 'open') {
      this.estado = 'abierta'
      this.reinicios = 0
      this.cuenta = cuentaPropia(sock.user)
      this.rechazarEsperasQr(new ErrorPasarela('ya_conectada', 'La sesión ya está conectada'))
      const cuenta = this.cuenta ?? { wa_id: null, numero: null, lid: null }
      // `conectado` (and every event after it) waits until the creds that made the link are committed.
      this.enCola(async () => {
        await this.auth.vaciar()
        if (sock !== this.socket) return
        this.emitir('conectado', { ...cuenta, nuevo_inicio: Boolean(u.isNewLogin) })
        await this.leerLimites(sock)
      })
    }
    if (u.reachoutTimeLock) this.alCambiarRestriccion(u.reachoutTimeLock)
    if (u.connection === 'close') this.alCerrar(sock, u.lastDisconnect?.error)
  }

  alCerrar(sock, error) {
    const codigo = codigoDeError(error)
    const accion = clasificarDesconexion(codigo)
    this.socket = null
    this.estado = 'cerrada'
    if (accion === 'reiniciar' && this.reinicios < MAX_REINICIOS_SEGUIDOS) {
      this.reinicios += 1
      this.registro.info({ codigo }, 'reinicio pedido por el servidor; nuevo socket con las mismas credenciales')
      // Outside Baileys' own close handler, so it finishes before the replacement starts.
      setImmediate(() => {
        if (!this.terminada && this.pasarela.sesiones.get(this.agenteId) === this && this.socket === null) this.abrir()
      })
      return
    }
    this.rechazarEsperasQr(new ErrorPasarela('sin_sesion', 'La conexión se cerró'))
    this.retirarSocket()
    this.auth.cerrar()
    this.pasarela.olvidar(this)
    const clase = accion === 'reiniciar' ? 'transitoria' : accion
    this.emitir('desconectado', { clase, codigo, detalle: error?.message ?? '' })
  }

  alRecibirQr(qr) {
    this.qrVistos += 1
    if (this.estado !== 'abierta') this.estado = 'esperando_qr'
    this.resolverEsperasQr()
    if (this.telefono && !this.codigoPedido) {
      this.pedirCodigo(this.telefono).catch((err) => this.registro.warn({ err }, 'no se pudo pedir el código'))
      return
    }
    // While linking by pairing code the QR is noise for the agent.
    if (this.codigoPedido) return
    this.emitir('qr', { qr, expira_en_s: this.qrVistos === 1 ? 60 : 20 })
  }

  esperarQr(ms) {
    if (this.qrVistos > 0) return Promise.resolve()
    return conLimite(
      new Promise((resolver, rechazar) => this.esperasQr.push({ resolver, rechazar })),
      ms,
      'WhatsApp no respondió a tiempo para emparejar',
    )
  }

  resolverEsperasQr() {
    const esperas = this.esperasQr
    this.esperasQr = []
    for (const e of esperas) e.resolver()
  }

  rechazarEsperasQr(error) {
    const esperas = this.esperasQr
    this.esperasQr = []
    for (const e of esperas) e.rechazar(error)
  }

  async pedirCodigo(telefono) {
    if (this.estado === 'abierta') throw new ErrorPasarela('ya_conectada', 'La sesión ya está vinculada')
    // WhatsApp matches the code request against the id the number is registered under (521… in Mexico).
    const numero = numeroParaCodigo(telefono)
    this.telefono = numero
    this.codigoPedido = true
    await this.esperarQr(this.pasarela.esperaQrMs)
    const sock = this.socket
    if (!sock) throw new ErrorPasarela('sin_sesion', 'La sesión no está activa')
    const codigo = await sock.requestPairingCode(numero)
    this.emitir('codigo', { codigo })
    return codigo
  }

  alCambiarRestriccion(lock) {
    if (lock.isActive) {
      if (this.restringida) return
      this.restringida = true
      const hasta = lock.timeEnforcementEnds instanceof Date ? lock.timeEnforcementEnds.toISOString() : null
      // The socket stays open: replies and receipts keep arriving, only sending is refused.
      this.emitir('desconectado', {
        clase: 'restringida',
        codigo: null,
        detalle: `reachoutTimeLock ${lock.enforcementType ?? ''}${hasta ? ' hasta ' + hasta : ''}`.trim(),
        hasta,
      })
    } else if (this.restringida) {
      this.restringida = false
      if (this.estado === 'abierta' && this.cuenta) this.emitir('conectado', { ...this.cuenta, restriccion_levantada: true })
    }
  }

  /**
   * On open: the account's reach-out timelock and its new-chat cap, read from WhatsApp (Baileys
   * rc14 `fetchAccountReachoutTimelock`, `fetchNewChatMessageCap`) and reported as one `restriccion`
   * event the core turns into safety stops. The timelock read also fires connection.update, which
   * reports `desconectado restringida` as before.
   */
  async leerLimites(sock) {
    const limite = this.pasarela.limiteComandoMs
    let bloqueo = null
    let cupo = null
    if (typeof sock.fetchAccountReachoutTimelock === 'function') {
      try {
        bloqueo = await conLimite(sock.fetchAccountReachoutTimelock(), limite, 'timelock sin respuesta')
      } catch (err) {
        this.registro.warn({ err }, 'no se pudo leer el reachout timelock')
      }
    }
    if (typeof sock.fetchNewChatMessageCap === 'function') {
      try {
        cupo = await conLimite(sock.fetchNewChatMessageCap(), limite, 'tope de chats nuevos sin respuesta')
      } catch (err) {
        this.registro.warn({ err }, 'no se pudo leer el tope de chats nuevos')
      }
    }
    if (sock !== this.socket || (!bloqueo && !cupo)) return
    const hasta = bloqueo?.timeEnforcementEnds instanceof Date ? bloqueo.timeEnforcementEnds.toISOString() : null
    const total = Number.isFinite(Number(cupo?.total_quota)) && cupo?.total_quota !== null && cupo?.total_quota !== undefined ? Number(cupo.total_quota) : null
    const usada = Number.isFinite(Number(cupo?.used_quota)) && cupo?.used_quota !== null && cupo?.used_quota !== undefined ? Number(cupo.used_quota) : null
    const nivel = cupo ? nivelCapping(cupo) : 'ninguno'
    const motivos = []
    if (bloqueo?.isActive) motivos.push(`WhatsApp restringió iniciar chats nuevos (${bloqueo.enforcementType ?? 'timelock'})${hasta ? ' hasta ' + hasta : ''}`)
    if (nivel === 'limitado' || (total !== null && usada !== null && usada >= total)) motivos.push(`tope de chats nuevos alcanzado (${usada ?? '?'} de ${total ?? '?'})`)
    this.emitir('restriccion', {
      timelock_activo: Boolean(bloqueo?.isActive),
      timelock_hasta: bloqueo?.isActive ? hasta : null,
      timelock_tipo: bloqueo?.enforcementType ?? null,
      cupo_chats_nuevos: total !== null && usada !== null ? Math.max(0, total - usada) : null,
      cuota_total: total,
      cuota_usada: usada,
      nivel,
      detalle: motivos.join('; '),
    })
  }

  alCambiarCapping(info) {
    this.emitir('capping', {
      nivel: nivelCapping(info),
      detalle: info?.capping_status ?? '',
      cuota_total: info?.total_quota ?? null,
      cuota_usada: info?.used_quota ?? null,
    })
  }

  async telefonoDeLid(sock, lid) {
    try {
      const pn = await sock.signalRepository?.lidMapping?.getPNForLID?.(lid)
      return normalizarJid(pn)
    } catch {
      return null
    }
  }

  async normalizar(sock, msg, historial) {
    let telefonoConocido = null
    const key = msg?.key
    if (key && isLidUser(key.remoteJid ?? '') && !key.remoteJidAlt) telefonoConocido = await this.telefonoDeLid(sock, key.remoteJid)
    const datos = normalizarMensaje(msg, { historial, telefonoConocido })
    if (datos?.lid && datos.telefono_jid) this.mapeo(datos.lid, datos.telefono_jid)
    return datos
  }

  async alRecibirMensajes(sock, mensajes) {
    for (const msg of mensajes) {
      const datos = await this.normalizar(sock, msg, false)
      if (datos) this.emitir('mensaje', datos)
    }
  }

  alActualizarEstados(updates) {
    for (const u of updates) {
      const datos = normalizarEstado(u ?? {})
      if (datos) this.emitir('estado', datos)
    }
  }

  mapeo(lid, pn) {
    const l = normalizarJid(lid)
    const t = normalizarJid(pn)
    if (!l || !t || !isLidUser(l)) return
    const clave = `${l}|${t}`
    if (this.mapeos.has(clave)) return
    this.mapeos.add(clave)
    this.emitir('mapeo', { lid: l, telefono_jid: t })
  }

  async alRecibirHistorial(sock, datos) {
    for (const m of datos?.lidPnMappings ?? []) this.mapeo(m.lid, m.pn)
    const lote = []
    const tam = this.pasarela.loteHistorial
    const mensajes = datos?.messages ?? []
    for (let i = 0; i < mensajes.length; i++) {
      const normalizado = await this.normalizar(sock, mensajes[i], true)
      if (normalizado) lote.push(normalizado)
      if (lote.length >= tam) this.emitir('historial', { mensajes: lote.splice(0, lote.length), progreso: datos?.progress ?? null })
    }
    if (lote.length) this.emitir('historial', { mensajes: lote, progreso: datos?.progress ?? null })
  }

  requerirAbierta() {
    if (this.estado !== 'abierta' || !this.socket) {
      throw new ErrorPasarela('sin_sesion', 'La sesión de WhatsApp no está conectada', { reintentable: true })
    }
    return this.socket
  }
}

export class Pasarela {
  /**
   * @param {object} o
   * @param {Function} [o.crearSocket] makeWASocket or a stand-in with the same shape (tests)
   * @param {Function} o.emitir receives every protocol event object
   */
  constructor({
    crearSocket = makeWASocket,
    emitir,
    registro = crearRegistro(),
    opcionesSocket = {},
    loteHistorial = 100,
    esperaQrMs = 30000,
    limiteComandoMs = 60000,
    esperaCredencialesMs = 30000,
    pedirTurno = () => Promise.resolve(),
  } = {}) {
    this.crearSocket = crearSocket
    this.emitirCrudo = emitir
    this.registro = registro
    this.opcionesSocket = opcionesSocket
    this.loteHistorial = loteHistorial
    this.esperaQrMs = esperaQrMs
    this.limiteComandoMs = limiteComandoMs
    this.esperaCredencialesMs = esperaCredencialesMs
    this.pedirTurno = pedirTurno
    this.sesiones = new Map()
  }

  emitir(evento) {
    try {
      this.emitirCrudo(evento)
    } catch (err) {
      this.registro.error({ err }, 'no se pudo emitir un evento')
    }
  }

  olvidar(sesion) {
    if (this.sesiones.get(sesion.agenteId) === sesion) this.sesiones.delete(sesion.agenteId)
  }

  sesion(agenteId) {
    const s = this.sesiones.get(agenteIdValido(agenteId))
    if (!s) throw new ErrorPasarela('sin_sesion', 'No hay sesión iniciada para este agente', { reintentable: false })
    return s
  }

  async ejecutar(cmd) {
    switch (cmd?.cmd) {
      case 'ping':
        return { pong: true, sesiones: this.sesiones.size, rss: process.memoryUsage().rss }
      case 'iniciar':
        return this.iniciar(cmd)
      case 'codigo_emparejamiento':
        return { codigo: await this.sesion(cmd.agente_id).pedirCodigo(cmd.telefono) }
      case 'detener':
        return this.detener(cmd)
      case 'cerrar_sesion':
        return this.cerrarSesion(cmd)
      case 'enviar_texto':
        return this.enviarTexto(cmd)
      case 'presencia':
        return this.presencia(cmd)
      case 'consultar_numero':
        return this.consultarNumero(cmd)
      case 'estado':
        return {
          sesiones: [...this.sesiones.values()].map((s) => ({ agente_id: s.agenteId, estado: s.estado, restringida: s.restringida })),
        }
      case 'simular':
        return this.simular(cmd)
      case 'confirmar_credenciales':
        return this.confirmarCredenciales(cmd)
      default:
        throw new ErrorPasarela('comando_desconocido', `Comando desconocido: ${cmd?.cmd}`)
    }
  }

  iniciar({ agente_id, credenciales = null, telefono = null }) {
    const id = agenteIdValido(agente_id)
    const anterior = this.sesiones.get(id)
    if (anterior) anterior.terminar() // end() the old socket before a new one takes its place
    const sesion = new Sesion(this, id, credenciales, telefono)
    this.sesiones.set(id, sesion)
    sesion.abrir()
    return { agente_id: id, estado: sesion.estado }
  }

  detener({ agente_id }) {
    const id = agenteIdValido(agente_id)
    const sesion = this.sesiones.get(id)
    if (!sesion) return { detenida: false }
    sesion.terminar()
    this.olvidar(sesion)
    return { detenida: true }
  }

  async cerrarSesion({ agente_id }) {
    const id = agenteIdValido(agente_id)
    const sesion = this.sesiones.get(id)
    if (sesion?.estado === 'abierta' && sesion.socket) {
      try {
        // Baileys removes the linked device, then ends the socket with 401: the close handler reports it.
        await conLimite(sesion.socket.logout(), 10000, 'logout sin respuesta')
        return { cerrada: true }
      } catch (err) {
        sesion.registro.warn({ err }, 'logout falló; se cierra localmente')
      }
    }
    if (sesion && this.sesiones.get(id) === sesion) {
      sesion.terminar()
      this.olvidar(sesion)
    }
    if (sesion) {
      sesion.emitir('desconectado', { clase: 'sesion_cerrada', codigo: 401, detalle: 'sesión cerrada sin conexión con WhatsApp' })
    } else {
      this.emitir({ evento: 'desconectado', agente_id: id, clase: 'sesion_cerrada', codigo: 401, detalle: 'no había sesión activa' })
    }
    return { cerrada: true }
  }

  async enviarTexto({ agente_id, jid, texto, wa_message_id }) {
    const sesion = this.sesion(agente_id)
    const sock = sesion.requerirAbierta()
    if (sesion.restringida) {
      throw new ErrorPasarela('restringida', 'La cuenta tiene restringidos los envíos (reachoutTimeLock)', { estado: 463 })
    }
    if (!jid || typeof texto !== 'string' || !texto) throw new ErrorPasarela('datos_invalidos', 'jid y texto son obligatorios')
    let msg
    try {
      msg = await conLimite(
        sock.sendMessage(jid, { text: texto }, wa_message_id ? { messageId: wa_message_id } : {}),
        this.limiteComandoMs,
        'El envío no terminó a tiempo',
      )
    } catch (err) {
      if (err instanceof ErrorPasarela) throw err
      const codigo = codigoDeError(err)
      // Connection-level codes mean the stanza never left; anything else may have been written.
      throw new ErrorPasarela('envio_fallido', err?.message ?? 'envío fallido', {
        reintentable: [408, 428, 503].includes(codigo),
        estado: codigo,
      })
    }
    // Typing ends like on a phone: the account goes back to unavailable once the message left.
    if (sesion.disponible) {
      sesion.disponible = false
      sock.sendPresenceUpdate('unavailable').catch((err) => sesion.registro.warn({ err }, 'presencia unavailable falló'))
    }
    return { wa_message_id: msg?.key?.id ?? wa_message_id, momento: segundos(msg?.messageTimestamp) }
  }

  /**
   * WhatsApp only shows 'composing' from an account that is 'available' (we connect with
   * markOnlineOnConnect false), so typing is available → composing; the send then goes unavailable.
   */
  async presencia({ agente_id, jid, estado }) {
    if (!PRESENCIAS.has(estado)) throw new ErrorPasarela('datos_invalidos', `Presencia inválida: ${estado}`)
    const sesion = this.sesion(agente_id)
    const sock = sesion.requerirAbierta()
    if ((estado === 'composing' || estado === 'paused') && !sesion.disponible) {
      await sock.sendPresenceUpdate('available')
      sesion.disponible = true
    }
    await sock.sendPresenceUpdate(estado, estado === 'available' || estado === 'unavailable' ? undefined : jid)
    if (estado === 'available') sesion.disponible = true
    if (estado === 'unavailable') sesion.disponible = false
    return {}
  }

  async consultarNumero({ agente_id, telefonos }) {
    const sock = this.sesion(agente_id).requerirAbierta()
    const lista = (telefonos ?? []).map((t) => String(t))
    const respuestas = lista.length ? ((await sock.onWhatsApp(...lista.map((t) => digitos(t)))) ?? []) : []
    const encontrados = new Map()
    for (const r of respuestas) if (r?.exists && r.jid) encontrados.set(claveTelefono(r.jid), normalizarJid(r.jid))
    const resultado = {}
    for (const t of lista) resultado[t] = encontrados.get(claveTelefono(t)) ?? null
    return { resultado }
  }

  /** The core committed batch `lote` of this session's keys: the keys.set waiting on it resolve. */
  confirmarCredenciales({ agente_id, lote }) {
    const sesion = this.sesiones.get(agenteIdValido(agente_id))
    return { confirmado: Boolean(sesion?.auth.confirmar(Number(lote))) }
  }

  async simular({ agente_id, accion, datos = {} }) {
    const sesion = this.sesion(agente_id)
    const sock = sesion.ultimo
    if (typeof sock?.simular !== 'function') {
      throw new ErrorPasarela('no_soportado', 'simular solo existe con el socket de pruebas')
    }
    return (await sock.simular(accion, datos)) ?? {}
  }

  /** stdout is full: stop reading from WhatsApp (TCP flow control) until it drains. */
  pausarEntrada() {
    for (const s of this.sesiones.values()) {
      try {
        s.socket?.ws?.socket?.pause?.()
      } catch {}
    }
  }

  reanudarEntrada() {
    for (const s of this.sesiones.values()) {
      try {
        s.socket?.ws?.socket?.resume?.()
      } catch {}
    }
  }

  cerrarTodo() {
    for (const sesion of [...this.sesiones.values()]) {
      sesion.terminar()
      this.olvidar(sesion)
    }
  }
}
