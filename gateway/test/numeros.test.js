// The shared examples (tests/vectores/numeros.json) against the gateway's number rules; pytest runs the same file.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import {
  analizarJid,
  canonicoMx,
  claveTelefono,
  digitosParaEmparejar,
  jidMx,
  jidsCandidatos,
} from '../src/numeros.js'

const vectores = JSON.parse(readFileSync(new URL('../../tests/vectores/numeros.json', import.meta.url), 'utf8'))

test('analizarJid da el tipo, el usuario y el teléfono de cada ejemplo', () => {
  for (const v of vectores.jid) {
    assert.deepEqual(analizarJid(v.entrada), { tipo: v.tipo, usuario: v.usuario, telefono: v.telefono }, v.entrada)
  }
})

test('jidsCandidatos pone 521 primero para México', () => {
  for (const v of vectores.candidatos) assert.deepEqual(jidsCandidatos(v.telefono), v.jids, v.telefono)
})

test('claveTelefono junta 521 y 52', () => {
  for (const v of vectores.clave) assert.equal(claveTelefono(v.entrada), v.clave, v.entrada)
})

test('canonicoMx y digitosParaEmparejar', () => {
  for (const v of vectores.canonico_mx) assert.equal(canonicoMx(v.entrada), v.telefono, v.entrada)
  for (const v of vectores.emparejar) assert.equal(digitosParaEmparejar(v.entrada), v.digitos, v.entrada)
})

test('jidMx arma las dos formas', () => {
  for (const v of vectores.jid_mx) assert.equal(jidMx(v.telefono, v.usa_521), v.jid)
})
