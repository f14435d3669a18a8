// Mexican numbers and WhatsApp ids in the gateway: the twin of enlace.comun.telefonos (Python).
// Both are checked against the same examples, tests/vectores/numeros.json; change the rules in both.

export const DOMINIO_TELEFONO = 's.whatsapp.net'
const DOMINIOS_TELEFONO = new Set(['s.whatsapp.net', 'c.us'])
const DOMINIOS_GRUPO = new Set(['g.us'])
const DOMINIOS_DIFUSION = new Set(['broadcast', 'newsletter', 'call'])
const SOLO_DIGITOS = /^\d{6,20}$/

function usuarioYDominio(jid) {
  const texto = String(jid).trim()
  const arroba = texto.indexOf('@')
  let usuario = arroba >= 0 ? texto.slice(0, arroba) : texto
  const dominio = arroba >= 0 ? texto.slice(arroba + 1).toLowerCase() : ''
  // '5215512345678:12@s.whatsapp.net' (device) and '5215512345678.0:12@…' (agent) name the same user.
  usuario = usuario.split(':')[0].split('.')[0]
  return { usuario, dominio }
}

/** Digits of a WhatsApp phone id → '+52' + 10 digits for Mexico ('521…' or '52…'), '+' + digits elsewhere. */
export function telefonoDeDigitos(digitos) {
  const d = String(digitos).replace(/^\++/, '')
  if (!/^\d+$/.test(d)) return null
  if (d.startsWith('521') && d.length === 13) return '+52' + d.slice(3)
  if (d.startsWith('52') && d.length === 12) return '+52' + d.slice(2)
  if (d.startsWith('52')) return null // a Mexican prefix with the wrong length matches nobody
  if (d.length >= 8 && d.length <= 15) return '+' + d
  return null
}

/** {tipo: telefono|lid|grupo|difusion|invalido, usuario, telefono} for a jid as an engine reports it. */
export function analizarJid(jid) {
  if (!jid) return { tipo: 'invalido', usuario: '', telefono: null }
  const { usuario, dominio } = usuarioYDominio(jid)
  if (!dominio) {
    const sinMas = usuario.replace(/^\++/, '')
    if (SOLO_DIGITOS.test(sinMas)) {
      const telefono = telefonoDeDigitos(usuario)
      return { tipo: telefono ? 'telefono' : 'invalido', usuario: sinMas, telefono }
    }
    return { tipo: 'invalido', usuario, telefono: null }
  }
  if (DOMINIOS_TELEFONO.has(dominio)) {
    const telefono = telefonoDeDigitos(usuario)
    return { tipo: telefono ? 'telefono' : 'invalido', usuario, telefono }
  }
  if (dominio === 'lid') return { tipo: /^\d+$/.test(usuario) ? 'lid' : 'invalido', usuario, telefono: null }
  if (DOMINIOS_GRUPO.has(dominio)) return { tipo: 'grupo', usuario, telefono: null }
  if (DOMINIOS_DIFUSION.has(dominio) || usuario === 'status') return { tipo: 'difusion', usuario, telefono: null }
  return { tipo: 'invalido', usuario, telefono: null }
}

/** Digits of a jid's user part or of a typed phone. */
export function digitosDe(jidOTelefono) {
  return String(jidOTelefono ?? '')
    .split('@')[0]
    .split(':')[0]
    .replace(/\D/g, '')
}

/** Key to match an onWhatsApp answer to the number asked: '521' + 10 and '52' + 10 digits are one key. */
export function claveTelefono(jidOTelefono) {
  const d = digitosDe(jidOTelefono)
  return d.length === 13 && d.startsWith('521') ? '52' + d.slice(3) : d
}

/** Lenient Mexican canonical form ('+52' + 10 digits) of an id or typed number, or null. */
export function canonicoMx(valor) {
  let d = digitosDe(valor)
  if (d.length === 13 && d.startsWith('521')) d = d.slice(3)
  else if (d.length === 12 && d.startsWith('52')) d = d.slice(2)
  return d.length === 10 ? '+52' + d : null
}

/** Digits WhatsApp expects for a pairing code: '52' + 10 for Mexico, international digits otherwise. */
export function digitosParaEmparejar(telefono) {
  const mx = canonicoMx(telefono)
  if (mx) return mx.slice(1)
  const d = digitosDe(telefono)
  return d.length >= 8 && d.length <= 15 && !d.startsWith('52') ? d : null
}

/** The phone jid of a canonical Mexican number in one of its two forms. */
export function jidMx(telefono, usa521) {
  return (usa521 ? '521' : '52') + String(telefono).replace(/^\+52/, '') + '@' + DOMINIO_TELEFONO
}

/** WhatsApp ids a canonical phone may use, most likely first (Mexican mobiles are usually '521…'). */
export function jidsCandidatos(telefono) {
  const d = String(telefono).replace(/^\+/, '')
  const usuarios = d.startsWith('52') && d.length === 12 ? ['521' + d.slice(2), d] : [d]
  return usuarios.map((u) => `${u}@${DOMINIO_TELEFONO}`)
}
