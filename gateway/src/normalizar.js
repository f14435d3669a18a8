// Pure translations from Baileys shapes to the gateway protocol (no socket, no I/O): easy to test alone.

import {
  getContentType,
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  isJidStatusBroadcast,
  isLidUser,
  jidNormalizedUser,
  normalizeMessageContent,
  proto,
  toNumber,
} from 'baileys'

import { analizarJid } from './numeros.js'

const ESTADOS = {
  [proto.WebMessageInfo.Status.ERROR]: 'fallido',
  [proto.WebMessageInfo.Status.SERVER_ACK]: 'enviado',
  [proto.WebMessageInfo.Status.DELIVERY_ACK]: 'entregado',
  [proto.WebMessageInfo.Status.READ]: 'leido',
  [proto.WebMessageInfo.Status.PLAYED]: 'reproducido',
}

const CAPPING = {
  NONE: 'ninguno',
  FIRST_WARNING: 'primer_aviso',
  SECOND_WARNING: 'segundo_aviso',
  CAPPED: 'limitado',
}

const MEDIOS = {
  imageMessage: 'imagen',
  videoMessage: 'video',
  ptvMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'documento',
  stickerMessage: 'sticker',
}

const OTROS = {
  locationMessage: 'ubicacion',
  liveLocationMessage: 'ubicacion',
  contactMessage: 'contacto',
  contactsArrayMessage: 'contacto',
  templateMessage: 'plantilla',
  highlyStructuredMessage: 'plantilla',
  interactiveMessage: 'plantilla',
  buttonsMessage: 'plantilla',
  listMessage: 'plantilla',
}

/** What to do after a socket closed with `codigo` (DisconnectReason / Boom status code). */
export function clasificarDesconexion(codigo) {
  switch (codigo) {
    case 515:
      return 'reiniciar' // restartRequired: normal right after pairing, reconnect at once with the same creds
    case 401:
      return 'sesion_cerrada'
    case 440:
      return 'reemplazada'
    case 403:
      return 'bloqueada'
    case 405:
      return 'desactualizada' // this client version is refused: retrying with it cannot help
    default:
      return 'transitoria' // 408, 428, 500, 503, 411 (bounded by the supervisor), network errors without a code
  }
}

export function codigoDeError(error) {
  const codigo = error?.output?.statusCode ?? error?.data?.statusCode
  return typeof codigo === 'number' ? codigo : null
}

export function estadoDeEntrega(status) {
  if (status === null || status === undefined) return null
  return ESTADOS[status] ?? null
}

export function nivelCapping(info) {
  return CAPPING[info?.capping_status] ?? 'ninguno'
}

/** Seconds since the epoch from a proto timestamp (number, Long or string); now when absent. */
export function segundos(valor) {
  if (valor === null || valor === undefined || valor === '') return Math.floor(Date.now() / 1000)
  const n = typeof valor === 'string' ? Number(valor) : toNumber(valor)
  return Number.isFinite(n) && n > 0 ? n : Math.floor(Date.now() / 1000)
}

export function normalizarJid(jid) {
  if (!jid) return null
  try {
    return jidNormalizedUser(jid) || null
  } catch {
    return null
  }
}

/** Chats we never report: status broadcasts, broadcast lists, newsletters. */
export function chatIgnorado(jid) {
  return !jid || isJidStatusBroadcast(jid) || isJidBroadcast(jid) || isJidNewsletter(jid)
}

/**
 * Phone jid and LID of the other party of a 1:1 message, from key.remoteJid / key.remoteJidAlt.
 * Returns {telefono, lid}: either may be null.
 */
export function identidades(key) {
  const principal = normalizarJid(key?.remoteJid)
  const alterno = normalizarJid(key?.remoteJidAlt)
  let telefono = null
  let lid = null
  for (const jid of [principal, alterno]) {
    if (!jid) continue
    const { tipo } = analizarJid(jid)
    if (tipo === 'lid' || isLidUser(jid)) lid = lid ?? jid
    else if (tipo === 'telefono') telefono = telefono ?? jid
  }
  return { telefono, lid }
}

function textoDe(contenido) {
  if (!contenido) return null
  return contenido.conversation || contenido.extendedTextMessage?.text || null
}

/**
 * Content of a message as {tipo, texto, medio, referencia_id}, or null when the message is not
 * something a person sees (key distribution, app-state keys, history notifications...).
 */
export function normalizarContenido(mensaje) {
  const contenido = normalizeMessageContent(mensaje)
  const tipo = getContentType(contenido)
  if (!contenido || !tipo) return null
  const cuerpo = contenido[tipo]
  if (tipo === 'conversation') return { tipo: 'texto', texto: contenido.conversation, medio: null, referencia_id: null }
  if (tipo === 'extendedTextMessage') return { tipo: 'texto', texto: cuerpo?.text ?? null, medio: null, referencia_id: null }
  if (tipo === 'protocolMessage') {
    const Tipo = proto.Message.ProtocolMessage.Type
    if (cuerpo?.type === Tipo.REVOKE) {
      return { tipo: 'borrado', texto: null, medio: null, referencia_id: cuerpo.key?.id ?? null }
    }
    if (cuerpo?.type === Tipo.MESSAGE_EDIT) {
      const editado = cuerpo.editedMessage
      const texto = textoDe(editado) ?? editado?.imageMessage?.caption ?? editado?.videoMessage?.caption ?? null
      return { tipo: 'edicion', texto, medio: null, referencia_id: cuerpo.key?.id ?? null }
    }
    return null
  }
  if (tipo === 'reactionMessage') {
    // An empty reaction text means the reaction was removed.
    return { tipo: 'reaccion', texto: cuerpo?.text || null, medio: null, referencia_id: cuerpo?.key?.id ?? null }
  }
  if (MEDIOS[tipo]) {
    const tamano = cuerpo?.fileLength === null || cuerpo?.fileLength === undefined ? null : toNumber(cuerpo.fileLength)
    return {
      tipo: MEDIOS[tipo],
      texto: cuerpo?.caption || null,
      medio: {
        mime: cuerpo?.mimetype || null,
        tamano: Number.isFinite(tamano) ? tamano : null,
        nombre_archivo: cuerpo?.fileName || null,
      },
      referencia_id: null,
    }
  }
  if (OTROS[tipo]) {
    const texto = cuerpo?.name || cuerpo?.address || cuerpo?.displayName || cuerpo?.hydratedTemplate?.hydratedContentText || null
    return { tipo: OTROS[tipo], texto, medio: null, referencia_id: null }
  }
  if (tipo === 'senderKeyDistributionMessage' || tipo === 'messageContextInfo') return null
  return { tipo: 'otro', texto: null, medio: null, referencia_id: null }
}

/**
 * One WAMessage as a `mensaje` protocol payload (without agente_id), or null when it is not
 * reportable. `telefonoConocido` is the phone jid resolved from the LID mapping, if any.
 */
export function normalizarMensaje(msg, { historial = false, telefonoConocido = null } = {}) {
  const key = msg?.key
  if (!key?.id || chatIgnorado(key.remoteJid)) return null
  const contenido = normalizarContenido(msg.message)
  if (!contenido) return null
  const esGrupo = isJidGroup(key.remoteJid)
  const { telefono, lid } = esGrupo ? { telefono: null, lid: null } : identidades(key)
  const medio = contenido.medio ? { ...contenido.medio, referencia: `${key.remoteJid}/${key.id}` } : null
  return {
    wa_message_id: key.id,
    de_mi: Boolean(key.fromMe),
    chat_jid: key.remoteJid,
    telefono_jid: telefono ?? telefonoConocido ?? null,
    lid,
    momento: segundos(msg.messageTimestamp),
    tipo: contenido.tipo,
    texto: contenido.texto,
    medio,
    referencia_id: contenido.referencia_id,
    nombre_perfil: key.fromMe ? null : msg.pushName || null,
    historial,
    es_grupo: esGrupo,
  }
}

/** One messages.update entry as an `estado` payload (without agente_id), or null. */
export function normalizarEstado({ key, update }) {
  if (!key?.id || !update) return null
  const estado = estadoDeEntrega(update.status)
  if (!estado) return null
  // Receipts for messages others sent us (our own read marks) are not deliveries of ours.
  if (key.fromMe === false) return null
  const parametros = update.messageStubParameters ?? []
  let codigo = null
  if (estado === 'fallido' && parametros.length) {
    const n = Number.parseInt(String(parametros[0]), 10)
    codigo = Number.isFinite(n) ? n : null
  }
  return {
    wa_message_id: key.id,
    estado,
    momento: segundos(update.messageTimestamp),
    codigo_error: codigo,
    detalle_error: estado === 'fallido' && parametros.length ? parametros.map(String).join(' | ') : null,
    chat_jid: key.remoteJid ?? null,
  }
}

/** sock.user.id ('5215512345678:12@s.whatsapp.net') as {wa_id, numero (digits), lid}. */
export function cuentaPropia(user) {
  const waId = normalizarJid(user?.id)
  if (!waId) return null
  return { wa_id: waId, numero: waId.split('@')[0], lid: normalizarJid(user?.lid) }
}

// Matching onWhatsApp answers to the numbers asked (521 vs 52) is a number rule: it lives in numeros.js.
export { claveTelefono } from './numeros.js'
