// Gateway behaviour against the stand-in socket: every Baileys mapping the protocol promises.

import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, test } from 'node:test'

import { BufferJSON, proto } from 'baileys'

import { Pasarela } from '../src/pasarela.js'
import { crearRegistro } from '../src/registro.js'
import { bitacora, crearSocket, reiniciarRegistro, sockets } from '../soporte/socket_simulado.js'

const Estado = proto.WebMessageInfo.Status
let actual

function montar(opciones = {}) {
  reiniciarRegistro()
  const eventos = []
  const { confirmar = true, ...resto } = opciones
  const pasarela = new Pasarela({
    crearSocket: opciones.crearSocket ?? crearSocket,
    emitir: (e) => {
      eventos.push(JSON.parse(JSON.stringify(e))) // exactly what crosses the pipe
      // Acting as the core: every batch of keys is "committed" right away unless the test says otherwise.
      if (e.evento === 'credenciales' && confirmar) {
        setImmediate(() => pasarela.ejecutar({ cmd: 'confirmar_credenciales', agente_id: e.agente_id, lote: e.lote }))
      }
    },
    registro: crearRegistro('silent'),
    ...resto,
  })
  const esperar = async (predicado, ms = 3000) => {
    const limite = Date.now() + ms
    for (;;) {
      const hallado = eventos.find(predicado)
      if (hallado) return hallado
      if (Date.now() > limite) throw new Error('evento no llegó; eventos: ' + JSON.stringify(eventos.map((e) => e.evento)))
      await new Promise((r) => setTimeout(r, 5))
    }
  }
  const pausa = (ms) => new Promise((r) => setTimeout(r, ms))
  actual = { pasarela, eventos, esperar, pausa }
  return actual
}

/** Merge credenciales deltas the way the Python side stores them. */
function fusionar(eventos, agenteId) {
  const estado = { creds: null, keys: {} }
  for (const e of eventos) {
    if (e.evento !== 'credenciales' || e.agente_id !== agenteId) continue
    if (e.datos.creds) estado.creds = e.datos.creds
    for (const [tipo, porId] of Object.entries(e.datos.keys ?? {})) {
      estado.keys[tipo] ??= {}
      for (const [id, valor] of Object.entries(porId)) {
        if (valor === null) delete estado.keys[tipo][id]
        else estado.keys[tipo][id] = valor
      }
    }
  }
  return estado
}

async function vincular(m, agenteId = 1) {
  await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: agenteId, credenciales: null })
  await m.esperar((e) => e.evento === 'qr' && e.agente_id === agenteId)
  await m.pasarela.ejecutar({ cmd: 'simular', agente_id: agenteId, accion: 'escanear' })
  return m.esperar((e) => e.evento === 'conectado' && e.agente_id === agenteId)
}

beforeEach(() => {
  process.env.ENLACE_SIMULADO_RETRASO_MS = '2'
  delete process.env.ENLACE_SIMULADO_QR_MS
})

afterEach(() => actual?.pasarela.cerrarTodo())

describe('vinculación', () => {
  test('QR: el primero dura 60 s y los siguientes 20 s', async () => {
    process.env.ENLACE_SIMULADO_QR_MS = '10'
    const m = montar()
    await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 1, credenciales: null })
    await m.esperar((e) => e.evento === 'qr' && e.expira_en_s === 20)
    const qrs = m.eventos.filter((e) => e.evento === 'qr')
    assert.equal(qrs[0].expira_en_s, 60)
    assert.match(qrs[0].qr, /^2@.+,.+,.+,.+$/)
    assert.notEqual(qrs[0].qr, qrs[1].qr)
  })

  test('515 tras emparejar: reinicio transparente, end() antes del nuevo socket, conectado con número y LID', async () => {
    const m = montar()
    const conectado = await vincular(m)
    assert.equal(conectado.wa_id, '5215512345678@s.whatsapp.net')
    assert.equal(conectado.numero, '5215512345678')
    assert.equal(conectado.lid, '190000000000001@lid')
    assert.equal(sockets.length, 2)
    assert.ok(bitacora.findIndex((b) => b[0] === 'end' && b[1] === 0) < bitacora.findIndex((b) => b[0] === 'crear' && b[1] === 1))
    assert.equal(m.eventos.filter((e) => e.evento === 'desconectado').length, 0, 'el 515 no se reporta')
    assert.equal(sockets[1].config.markOnlineOnConnect, false)
  })

  test('credenciales: creds.update y cada keys.set salen como delta y bastan para reanudar sin QR', async () => {
    const m = montar()
    await vincular(m)
    const creds = m.eventos.filter((e) => e.evento === 'credenciales' && e.datos.creds)
    assert.ok(creds.length >= 1)
    assert.equal(creds.at(-1).datos.creds.me.id, '5215512345678:7@s.whatsapp.net')
    assert.equal(creds.at(-1).datos.creds.noiseKey.private.type, 'Buffer') // BufferJSON form
    const claves = await m.esperar((e) => e.evento === 'credenciales' && e.datos.keys?.['pre-key'])
    assert.equal(Object.keys(claves.datos.keys['pre-key']).length, 1)

    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'claves', datos: { datos: { session: { 'a.0': Buffer.from('x'), 'b.0': null } } } })
    const delta = await m.esperar((e) => e.evento === 'credenciales' && e.datos.keys?.session)
    assert.deepEqual(delta.datos.keys.session['b.0'], null)
    assert.deepEqual(JSON.parse(JSON.stringify(delta.datos.keys.session['a.0']), BufferJSON.reviver), Buffer.from('x'))

    const guardado = fusionar(m.eventos, 1)
    m.pasarela.ejecutar({ cmd: 'detener', agente_id: 1 })
    const m2 = montar()
    await m2.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 1, credenciales: guardado })
    const otra = await m2.esperar((e) => e.evento === 'conectado')
    assert.equal(otra.wa_id, '5215512345678@s.whatsapp.net')
    assert.equal(m2.eventos.filter((e) => e.evento === 'qr').length, 0)
    // The stored keys are readable again through the cacheable store.
    const leidas = await sockets[0].auth.keys.get('session', ['a.0', 'b.0'])
    assert.deepEqual(leidas, { 'a.0': Buffer.from('x') })
  })

  test('código de emparejamiento en lugar de QR', async () => {
    const m = montar()
    await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 3, credenciales: null, telefono: '5215512345678' })
    const codigo = await m.esperar((e) => e.evento === 'codigo')
    assert.match(codigo.codigo, /^[0-9A-Z]{8}$/)
    assert.equal(m.eventos.filter((e) => e.evento === 'qr').length, 0)
    const r = await m.pasarela.ejecutar({ cmd: 'codigo_emparejamiento', agente_id: 3, telefono: '5215512345678' })
    assert.match(r.codigo, /^[0-9A-Z]{8}$/)
  })

  test('iniciar dos veces: end() del socket anterior y su cierre no se reporta', async () => {
    const m = montar()
    await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 1, credenciales: null })
    await m.esperar((e) => e.evento === 'qr')
    await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 1, credenciales: null })
    assert.equal(sockets[0].llamadasEnd.length, 1)
    assert.deepEqual(bitacora.slice(0, 3), [['crear', 0], ['end', 0], ['crear', 1]])
    await m.pausa(20)
    assert.equal(m.eventos.filter((e) => e.evento === 'desconectado').length, 0)
  })
})

describe('desconexiones', () => {
  test('440 reemplazada: se reporta una vez y no se reconecta', async () => {
    const m = montar()
    await vincular(m)
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'desconectar', datos: { codigo: 440 } })
    const d = await m.esperar((e) => e.evento === 'desconectado')
    assert.equal(d.clase, 'reemplazada')
    assert.equal(d.codigo, 440)
    await m.pausa(50)
    assert.equal(sockets.length, 2, 'ningún socket nuevo tras 440')
    assert.equal(m.pasarela.sesiones.size, 0)
    assert.equal(m.eventos.filter((e) => e.evento === 'desconectado').length, 1)
  })

  test('401 por cerrar_sesion: sesion_cerrada', async () => {
    const m = montar()
    await vincular(m)
    await m.pasarela.ejecutar({ cmd: 'cerrar_sesion', agente_id: 1 })
    const d = await m.esperar((e) => e.evento === 'desconectado')
    assert.deepEqual([d.clase, d.codigo], ['sesion_cerrada', 401])
    assert.equal(m.pasarela.sesiones.size, 0)
    await m.pausa(20)
    assert.equal(m.eventos.filter((e) => e.evento === 'desconectado').length, 1)
  })

  test('cerrar_sesion sin conexión también avisa sesion_cerrada', async () => {
    const m = montar()
    await m.pasarela.ejecutar({ cmd: 'cerrar_sesion', agente_id: 9 })
    const d = await m.esperar((e) => e.evento === 'desconectado' && e.agente_id === 9)
    assert.equal(d.clase, 'sesion_cerrada')
  })

  for (const [codigo, clase] of [
    [401, 'sesion_cerrada'],
    [403, 'bloqueada'],
    [408, 'transitoria'],
    [428, 'transitoria'],
    [500, 'transitoria'],
  ]) {
    test(`${codigo} → ${clase}`, async () => {
      const m = montar()
      await vincular(m)
      await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'desconectar', datos: { codigo } })
      const d = await m.esperar((e) => e.evento === 'desconectado')
      assert.deepEqual([d.clase, d.codigo], [clase, codigo])
      await m.pausa(20)
      assert.equal(sockets.length, 2, 'la pasarela no reconecta: lo decide el núcleo')
    })
  }

  test('515 repetido sin abrir: tras unos reinicios se reporta transitoria (sin bucle)', async () => {
    const m = montar()
    await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 1, credenciales: null })
    const { Boom } = await import('@hapi/boom')
    for (let i = 0; i < 10 && !m.eventos.some((e) => e.evento === 'desconectado'); i++) {
      await m.esperar(() => sockets.length === i + 1)
      sockets[i].end(new Boom('restart', { statusCode: 515 }))
      await m.pausa(10)
    }
    const d = await m.esperar((e) => e.evento === 'desconectado')
    assert.deepEqual([d.clase, d.codigo], ['transitoria', 515])
    assert.equal(sockets.length, 4)
  })

  test('reachoutTimeLock: restringida sin cerrar el socket, envíos rechazados, y conectado al levantarse', async () => {
    const m = montar()
    await vincular(m)
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'restringir', datos: { activo: true, hasta: '2026-11-26T00:00:00Z' } })
    const d = await m.esperar((e) => e.evento === 'desconectado')
    assert.equal(d.clase, 'restringida')
    assert.equal(d.hasta, '2026-11-26T00:00:00.000Z')
    await assert.rejects(
      m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid: '5215500000001@s.whatsapp.net', texto: 'hola', wa_message_id: '3EB0AAAAAAAAAAAAAAAAAA' }),
      (err) => err.codigo === 'restringida',
    )
    assert.equal(sockets[1].enviados.length, 0)
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'restringir', datos: { activo: false } })
    const c = await m.esperar((e) => e.evento === 'conectado' && e.restriccion_levantada)
    assert.equal(c.wa_id, '5215512345678@s.whatsapp.net')
  })

  test('un socket que falla al crearse no tumba a los demás agentes', async () => {
    let fallar = false
    const m = montar({
      crearSocket: (config) => {
        if (fallar) throw new Error('fallo de prueba')
        return crearSocket(config)
      },
    })
    await vincular(m, 1)
    fallar = true
    await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 2, credenciales: null })
    const d = await m.esperar((e) => e.evento === 'desconectado' && e.agente_id === 2)
    assert.equal(d.clase, 'transitoria')
    const r = await m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid: '5215500000001@s.whatsapp.net', texto: 'sigo vivo', wa_message_id: '3EB0BBBBBBBBBBBBBBBBBB' })
    assert.equal(r.wa_message_id, '3EB0BBBBBBBBBBBBBBBBBB')
  })
})

describe('mensajes y estados', () => {
  test('enviar con id elegido: eco de_mi con ese id y estados entregado/leido (sin server-ack, como Baileys)', async () => {
    const m = montar()
    await vincular(m)
    const id = '3EB0123456789ABCDEF012'
    const r = await m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid: '5215511112222@s.whatsapp.net', texto: 'Hola Ana', wa_message_id: id })
    assert.equal(r.wa_message_id, id)
    assert.ok(r.momento > 1_600_000_000)
    const eco = await m.esperar((e) => e.evento === 'mensaje' && e.wa_message_id === id)
    assert.equal(eco.de_mi, true)
    assert.equal(eco.texto, 'Hola Ana')
    assert.equal(eco.telefono_jid, '5215511112222@s.whatsapp.net')
    await m.esperar((e) => e.evento === 'estado' && e.estado === 'leido')
    const estados = m.eventos.filter((e) => e.evento === 'estado' && e.wa_message_id === id).map((e) => e.estado)
    assert.deepEqual(estados, ['entregado', 'leido'])
  })

  test('a un id sin registrar (52 + 10 de un celular, o fuera de WhatsApp) se acepta y nunca se entrega', async () => {
    const m = montar()
    await vincular(m)
    for (const [jid, id] of [
      ['525511112222@s.whatsapp.net', '3EB0000000000000000A52'],
      ['5215511110000@s.whatsapp.net', '3EB0000000000000000B00'],
    ]) {
      const r = await m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid, texto: 'hola', wa_message_id: id })
      assert.equal(r.wa_message_id, id) // no error, exactly like relayMessage with no devices
    }
    await m.esperar((e) => e.evento === 'mensaje' && e.wa_message_id === '3EB0000000000000000B00')
    await m.pausa(40)
    assert.equal(m.eventos.filter((e) => e.evento === 'estado').length, 0)
    // The resolved ids are delivered: the mobile's 521 form and a landline registered as 52.
    await m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid: '5215511112222@s.whatsapp.net', texto: 'hola', wa_message_id: '3EB0000000000000000C21' })
    await m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid: '525511111111@s.whatsapp.net', texto: 'hola', wa_message_id: '3EB0000000000000000D52' })
    await m.esperar((e) => e.evento === 'estado' && e.wa_message_id === '3EB0000000000000000C21' && e.estado === 'entregado')
    await m.esperar((e) => e.evento === 'estado' && e.wa_message_id === '3EB0000000000000000D52' && e.estado === 'entregado')
  })

  test('cuenta con timelock: 463 a quien nunca escribió; el token de contacto de confianza (clave del estado) deja pasar', async () => {
    const m = montar()
    await vincular(m)
    const socket = sockets.at(-1)
    // The person writes first: WhatsApp gives the chat a tctoken, stored through keys.set like every key.
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'recibir', datos: { de: '5215533334444@s.whatsapp.net', texto: 'hola' } })
    const token = await m.esperar((e) => e.evento === 'credenciales' && e.datos.keys?.tctoken?.['5215533334444@s.whatsapp.net'])
    assert.equal(token.datos.keys.tctoken['5215533334444@s.whatsapp.net'].token.type, 'Buffer')
    assert.ok(token.datos.keys.tctoken.__index)
    // The timelock: the session reports it and stays open (replies keep arriving), sends are refused.
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'restringir', datos: { activo: true, hasta: '2030-01-01T00:00:00Z' } })
    await m.esperar((e) => e.evento === 'desconectado' && e.clase === 'restringida')
    // Lifted at the gateway level so we can watch the server: the stand-in keeps refusing new chats with 463.
    m.pasarela.sesiones.get(1).restringida = false
    await m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid: '5215599998888@s.whatsapp.net', texto: 'x', wa_message_id: '3EB00000000000000463AA' })
    const e = await m.esperar((x) => x.evento === 'estado' && x.wa_message_id === '3EB00000000000000463AA')
    assert.deepEqual([e.estado, e.codigo_error], ['fallido', 463])
    await m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid: '5215533334444@s.whatsapp.net', texto: 'gracias', wa_message_id: '3EB0000000000000000TOK' })
    await m.esperar((x) => x.evento === 'estado' && x.wa_message_id === '3EB0000000000000000TOK' && x.estado === 'entregado')
    // The token survives a restart: it is an auth-state key that comes back with the stored state.
    const guardado = fusionar(m.eventos, 1)
    m.pasarela.ejecutar({ cmd: 'detener', agente_id: 1 })
    assert.ok(guardado.keys.tctoken['5215533334444@s.whatsapp.net'])
    assert.equal(socket.cerrado, true)
  })

  test('463: estado fallido con el código de messageStubParameters', async () => {
    const m = montar()
    await vincular(m)
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'fallar_envios', datos: { codigo: 463 } })
    await m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid: '5215511112222@s.whatsapp.net', texto: 'x', wa_message_id: '3EB0000000000000000463' })
    const e = await m.esperar((x) => x.evento === 'estado')
    assert.deepEqual([e.estado, e.codigo_error, e.wa_message_id], ['fallido', 463, '3EB0000000000000000463'])
  })

  test('estado reproducido y los PENDING o de mensajes ajenos se ignoran', async () => {
    const m = montar()
    await vincular(m)
    sockets[1].ev.emit('messages.update', [
      { key: { remoteJid: 'a@s.whatsapp.net', fromMe: true, id: 'P1' }, update: { status: Estado.PENDING } },
      { key: { remoteJid: 'a@s.whatsapp.net', fromMe: false, id: 'R1' }, update: { status: Estado.READ } },
      { key: { remoteJid: 'a@s.whatsapp.net', fromMe: true, id: 'V1' }, update: { status: Estado.PLAYED, messageTimestamp: 1_764_000_000 } },
    ])
    const e = await m.esperar((x) => x.evento === 'estado')
    assert.deepEqual([e.wa_message_id, e.estado, e.momento], ['V1', 'reproducido', 1_764_000_000])
    await m.pausa(10)
    assert.equal(m.eventos.filter((x) => x.evento === 'estado').length, 1)
  })

  test('LID: remoteJidAlt da el teléfono y produce un mapeo', async () => {
    const m = montar()
    await vincular(m)
    await m.pasarela.ejecutar({
      cmd: 'simular',
      agente_id: 1,
      accion: 'recibir',
      datos: { de: '5215599998888@s.whatsapp.net', lid: '123456789012345@lid', texto: 'Me interesa', nombre: 'Ana' },
    })
    const msg = await m.esperar((e) => e.evento === 'mensaje' && !e.de_mi)
    assert.equal(msg.chat_jid, '123456789012345@lid')
    assert.equal(msg.telefono_jid, '5215599998888@s.whatsapp.net')
    assert.equal(msg.nombre_perfil, 'Ana')
    assert.deepEqual([msg.tipo, msg.texto], ['texto', 'Me interesa'])
    const mapeo = await m.esperar((e) => e.evento === 'mapeo')
    assert.deepEqual([mapeo.lid, mapeo.telefono_jid], ['123456789012345@lid', '5215599998888@s.whatsapp.net'])
  })

  test('LID sin remoteJidAlt: el teléfono sale del lidMapping del socket; lid-mapping.update se reporta una vez', async () => {
    const m = montar()
    await vincular(m)
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'mapeo', datos: { lid: '555@lid', pn: '5215544443333@s.whatsapp.net' } })
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'mapeo', datos: { lid: '555@lid', pn: '5215544443333@s.whatsapp.net' } })
    sockets[1].recibir({ de: null, lid: '555@lid', texto: 'hola' })
    const msg = await m.esperar((e) => e.evento === 'mensaje')
    assert.equal(msg.telefono_jid, '5215544443333@s.whatsapp.net')
    assert.equal(m.eventos.filter((e) => e.evento === 'mapeo').length, 1)
  })

  test('contenido: medio con pie, reacción, edición, borrado, efímero; lo que no es visible se ignora', async () => {
    const m = montar()
    await vincular(m)
    const s = sockets[1]
    const de = '5215511110000@s.whatsapp.net'
    s.recibir({ de, id: 'IMG', mensaje: { imageMessage: { caption: 'mi INE', mimetype: 'image/jpeg', fileLength: 34567 } } })
    s.recibir({ de, id: 'DOC', mensaje: { documentWithCaptionMessage: { message: { documentMessage: { fileName: 'recibo.pdf', mimetype: 'application/pdf', caption: 'recibo' } } } } })
    s.recibir({ de, id: 'REA', mensaje: { reactionMessage: { key: { id: 'ORIG1', remoteJid: de, fromMe: true }, text: '👍' } } })
    s.recibir({ de, id: 'EDI', mensaje: { editedMessage: { message: { protocolMessage: { type: 14, key: { id: 'ORIG2' }, editedMessage: { conversation: 'corregido' } } } } } })
    s.recibir({ de, id: 'DEL', mensaje: { protocolMessage: { type: 0, key: { id: 'ORIG3' } } } })
    s.recibir({ de, id: 'EFI', mensaje: { ephemeralMessage: { message: { extendedTextMessage: { text: 'efímero' } } } } })
    s.recibir({ de, id: 'SKD', mensaje: { senderKeyDistributionMessage: { groupId: 'x' } } })
    s.recibir({ de, id: 'FIN', texto: 'último' })
    await m.esperar((e) => e.evento === 'mensaje' && e.wa_message_id === 'FIN')
    const por = Object.fromEntries(m.eventos.filter((e) => e.evento === 'mensaje').map((e) => [e.wa_message_id, e]))
    assert.deepEqual([por.IMG.tipo, por.IMG.texto, por.IMG.medio.mime, por.IMG.medio.tamano], ['imagen', 'mi INE', 'image/jpeg', 34567])
    assert.equal(por.IMG.medio.referencia, `${de}/IMG`)
    assert.deepEqual([por.DOC.tipo, por.DOC.medio.nombre_archivo, por.DOC.texto], ['documento', 'recibo.pdf', 'recibo'])
    assert.deepEqual([por.REA.tipo, por.REA.texto, por.REA.referencia_id], ['reaccion', '👍', 'ORIG1'])
    assert.deepEqual([por.EDI.tipo, por.EDI.texto, por.EDI.referencia_id], ['edicion', 'corregido', 'ORIG2'])
    assert.deepEqual([por.DEL.tipo, por.DEL.referencia_id], ['borrado', 'ORIG3'])
    assert.deepEqual([por.EFI.tipo, por.EFI.texto], ['texto', 'efímero'])
    assert.equal(por.SKD, undefined)
  })

  test('escrito en el teléfono: de_mi sin nombre de perfil', async () => {
    const m = montar()
    await vincular(m)
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'escribir_en_telefono', datos: { a: '5215511112222@s.whatsapp.net', texto: 'desde el cel' } })
    const msg = await m.esperar((e) => e.evento === 'mensaje')
    assert.deepEqual([msg.de_mi, msg.nombre_perfil, msg.texto], [true, null, 'desde el cel'])
  })

  test('grupos y difusiones: es_grupo o se ignoran', async () => {
    const m = montar()
    await vincular(m)
    sockets[1].recibir({ de: 'status@broadcast', texto: 'estado' })
    sockets[1].recibir({ de: '1203630@g.us', texto: 'grupo', id: 'G1' })
    const g = await m.esperar((e) => e.evento === 'mensaje')
    assert.deepEqual([g.wa_message_id, g.es_grupo, g.telefono_jid], ['G1', true, null])
    assert.equal(m.eventos.filter((e) => e.evento === 'mensaje').length, 1)
  })

  test('capping: nivel normalizado', async () => {
    const m = montar()
    await vincular(m)
    for (const [status, nivel] of [['FIRST_WARNING', 'primer_aviso'], ['SECOND_WARNING', 'segundo_aviso'], ['CAPPED', 'limitado'], ['NONE', 'ninguno']]) {
      await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'capping', datos: { capping_status: status, total_quota: 100, used_quota: 80 } })
      const c = await m.esperar((e) => e.evento === 'capping' && e.detalle === status)
      assert.deepEqual([c.nivel, c.cuota_total, c.cuota_usada], [nivel, 100, 80])
    }
  })

  test('historial: mensajes marcados historial, en lotes, y sus mapeos', async () => {
    const m = montar({ loteHistorial: 2 })
    await vincular(m)
    const mensajes = [1, 2, 3, 4, 5].map((i) => ({ de: '5215511112222@s.whatsapp.net', texto: `h${i}`, id: `H${i}` }))
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'historial', datos: { mensajes, mapeos: [{ lid: '77@lid', pn: '5215511112222@s.whatsapp.net' }] } })
    await m.esperar((e) => e.evento === 'historial' && e.mensajes.some((x) => x.wa_message_id === 'H5'))
    const lotes = m.eventos.filter((e) => e.evento === 'historial')
    assert.deepEqual(lotes.map((l) => l.mensajes.length), [2, 2, 1])
    assert.ok(lotes.every((l) => l.mensajes.every((x) => x.historial === true)))
    assert.ok(m.eventos.some((e) => e.evento === 'mapeo' && e.lid === '77@lid'))
  })
})

describe('comandos', () => {
  test('consultar_numero: jid 521 para números 52, null si no está en WhatsApp', async () => {
    const m = montar()
    await vincular(m)
    const r = await m.pasarela.ejecutar({ cmd: 'consultar_numero', agente_id: 1, telefonos: ['525512345678', '5215587654321', '525500000000'] })
    assert.deepEqual(r.resultado, {
      525512345678: '5215512345678@s.whatsapp.net',
      5215587654321: '5215587654321@s.whatsapp.net',
      525500000000: null,
    })
  })

  test('presencia y errores de sesión', async () => {
    const m = montar()
    await assert.rejects(m.pasarela.ejecutar({ cmd: 'presencia', agente_id: 1, jid: 'x@s.whatsapp.net', estado: 'composing' }), (e) => e.codigo === 'sin_sesion')
    await vincular(m)
    const jid = '5215511112222@s.whatsapp.net'
    await m.pasarela.ejecutar({ cmd: 'presencia', agente_id: 1, jid, estado: 'composing' })
    // WhatsApp shows typing only from an available account: available → composing → (pause) → send → unavailable.
    await m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid, texto: 'hola', wa_message_id: '3EB0AA' })
    await m.pausa(5)
    assert.deepEqual(sockets[1].presencias, [
      { estado: 'available', jid: undefined },
      { estado: 'composing', jid },
      { estado: 'unavailable', jid: undefined },
    ])
    // A second message starts from unavailable again.
    await m.pasarela.ejecutar({ cmd: 'presencia', agente_id: 1, jid, estado: 'composing' })
    assert.deepEqual(sockets[1].presencias.slice(3).map((p) => p.estado), ['available', 'composing'])
    await assert.rejects(m.pasarela.ejecutar({ cmd: 'presencia', agente_id: 1, jid: 'x', estado: 'bailando' }), (e) => e.codigo === 'datos_invalidos')
    await assert.rejects(m.pasarela.ejecutar({ cmd: 'nada' }), (e) => e.codigo === 'comando_desconocido')
  })

  test('detener: end() del socket, sin evento, y la sesión deja de existir', async () => {
    const m = montar()
    await vincular(m)
    const r = await m.pasarela.ejecutar({ cmd: 'detener', agente_id: 1 })
    assert.equal(r.detenida, true)
    assert.equal(sockets[1].cerrado, true)
    await m.pausa(10)
    assert.equal(m.eventos.filter((e) => e.evento === 'desconectado').length, 0)
    await assert.rejects(m.pasarela.ejecutar({ cmd: 'enviar_texto', agente_id: 1, jid: 'a@s.whatsapp.net', texto: 'x' }), (e) => e.codigo === 'sin_sesion')
  })
})

describe('makeWASocket real', () => {
  test('acepta nuestra configuración y un cierre de red se reporta transitoria (solo loopback, puerto cerrado)', async () => {
    const { makeWASocket } = await import('baileys')
    const { createServer } = await import('node:net')
    // A loopback port that was just free: nothing listens there, the connection is refused at once.
    const servidor = createServer()
    await new Promise((r) => servidor.listen(0, '127.0.0.1', r))
    const puerto = servidor.address().port
    await new Promise((r) => servidor.close(r))
    const m = montar({
      crearSocket: makeWASocket,
      opcionesSocket: { waWebSocketUrl: `ws://127.0.0.1:${puerto}/ws`, connectTimeoutMs: 2000 },
    })
    await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 1, credenciales: null })
    const d = await m.esperar((e) => e.evento === 'desconectado', 8000)
    assert.equal(d.clase, 'transitoria')
    assert.equal(m.pasarela.sesiones.size, 0)
  })
})

describe('higiene de conexión', () => {
  test('al abrir lee el timelock y el tope de chats nuevos y los reporta como restricción con motivo y fecha', async () => {
    const m = montar()
    await vincular(m)
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'restringir', datos: { activo: true, hasta: '2030-01-01T00:00:00Z' } })
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'tope', datos: { total: 5, usada: 5 } })
    const guardado = fusionar(m.eventos, 1)
    m.pasarela.ejecutar({ cmd: 'detener', agente_id: 1 })
    m.eventos.length = 0
    // Reconnect: nothing is pushed by the server, the gateway asks on open.
    await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 1, credenciales: guardado })
    const r = await m.esperar((e) => e.evento === 'restriccion')
    assert.equal(r.timelock_activo, true)
    assert.equal(r.timelock_hasta, '2030-01-01T00:00:00.000Z')
    assert.deepEqual([r.cuota_total, r.cuota_usada, r.cupo_chats_nuevos, r.nivel], [5, 5, 0, 'limitado'])
    assert.match(r.detalle, /restringió.*hasta 2030/)
    assert.match(r.detalle, /tope de chats nuevos/)
    const d = await m.esperar((e) => e.evento === 'desconectado' && e.clase === 'restringida')
    assert.equal(d.hasta, '2030-01-01T00:00:00.000Z')
    const orden = m.eventos.map((e) => e.evento)
    assert.ok(orden.indexOf('conectado') < orden.indexOf('restriccion'))
  })

  test('405 (versión de WhatsApp Web obsoleta): desactualizada, sin reintentar', async () => {
    process.env.ENLACE_SIMULADO_VERSION_MINIMA = '2.3000.9999999999'
    try {
      const m = montar({ opcionesSocket: { version: [2, 3000, 1043857760] } })
      await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 1, credenciales: null })
      const d = await m.esperar((e) => e.evento === 'desconectado')
      assert.deepEqual([d.clase, d.codigo], ['desactualizada', 405])
      await m.pausa(30)
      assert.equal(sockets.length, 1) // no loop
      assert.equal(m.eventos.filter((e) => e.evento === 'qr').length, 0)
    } finally {
      delete process.env.ENLACE_SIMULADO_VERSION_MINIMA
    }
  })

  test('código de emparejamiento con el número resuelto (521 + 10 para celulares de México)', async () => {
    const m = montar()
    await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 1, credenciales: null })
    await m.esperar((e) => e.evento === 'qr')
    const r = await m.pasarela.ejecutar({ cmd: 'codigo_emparejamiento', agente_id: 1, telefono: '525512345678' })
    assert.equal(r.codigo.length, 8)
    assert.equal(sockets[0].auth.creds.me.id, '5215512345678@s.whatsapp.net')
  })

  test('cada apertura de socket pide turno al limitador, también el reinicio 515', async () => {
    const turnos = []
    const m = montar({ pedirTurno: (agenteId) => (turnos.push(agenteId), Promise.resolve()) })
    await vincular(m, 3)
    assert.deepEqual(turnos, [3, 3]) // first socket and the one after pairing's 515
  })

  test('el núcleo no confirma las credenciales: keys.set no se resuelve y el socket se cierra (transitoria)', async () => {
    const m = montar({ confirmar: false, esperaCredencialesMs: 50 })
    await m.pasarela.ejecutar({ cmd: 'iniciar', agente_id: 1, credenciales: null })
    await m.esperar((e) => e.evento === 'qr')
    await m.pasarela.ejecutar({ cmd: 'simular', agente_id: 1, accion: 'escanear' })
    const d = await m.esperar((e) => e.evento === 'desconectado')
    assert.deepEqual([d.clase, d.detalle], ['transitoria', 'credenciales sin confirmar por el núcleo'])
    assert.equal(m.eventos.filter((e) => e.evento === 'conectado').length, 0) // never "connected" on unstored keys
  })

  test('keys.set espera la confirmación de su lote; lo que cambia mientras tanto va en el siguiente', async () => {
    const { crearEstadoAuth } = await import('../src/credenciales.js')
    const enviados = []
    const auth = crearEstadoAuth(null, { enviar: (lote, delta) => enviados.push({ lote, delta }) })
    let primero = false
    auth.keys.set({ session: { a: { v: 1 } } }).then(() => (primero = true))
    await new Promise((r) => setImmediate(r))
    assert.equal(enviados.length, 1)
    let segundo = false
    auth.keys.set({ session: { b: { v: 2 }, a: null } }).then(() => (segundo = true))
    auth.keys.set({ 'pre-key': { 9: { v: 3 } } })
    await new Promise((r) => setImmediate(r))
    assert.equal(enviados.length, 1) // one batch in flight per session
    assert.equal(primero, false)
    auth.confirmar(1)
    await new Promise((r) => setImmediate(r))
    assert.equal(primero, true)
    assert.equal(segundo, false)
    assert.deepEqual(enviados[1], { lote: 2, delta: { keys: { session: { b: { v: 2 }, a: null }, 'pre-key': { 9: { v: 3 } } } } })
    assert.equal(auth.confirmar(1), false) // an old or unknown batch changes nothing
    auth.confirmar(2)
    await new Promise((r) => setImmediate(r))
    assert.equal(segundo, true)
    assert.deepEqual(auth.instantanea(), { session: { b: { v: 2 } }, 'pre-key': { 9: { v: 3 } } })
  })
})
