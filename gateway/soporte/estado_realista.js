// Prints a realistic linked Baileys auth state ({creds, keys} in BufferJSON form) for measurements:
// real initAuthCreds, 812 pre-keys, a few hundred signal sessions, app-state keys and versions,
// sender keys, LID mappings and trusted-contact tokens. Usage: node soporte/estado_realista.js [sesiones]

import { randomBytes } from 'node:crypto'

import { BufferJSON, initAuthCreds } from 'baileys'

const SESIONES = Number(process.argv[2] ?? 300)
const PREKEYS = 812 // what a linked device uploads and keeps (Baileys' INITIAL_PREKEY_COUNT)
const b = (n) => randomBytes(n)

const creds = initAuthCreds()
creds.registered = true
creds.me = { id: '5215500000000:12@s.whatsapp.net', lid: '190000000000099:12@lid', name: 'Agente' }
creds.account = { details: b(60), accountSignatureKey: b(32), accountSignature: b(64), deviceSignature: b(64) }
creds.signalIdentities = [{ identifier: { name: creds.me.lid, deviceId: 0 }, identifierKey: b(33) }]
creds.platform = 'android'
creds.nextPreKeyId = PREKEYS + 1
creds.firstUnuploadedPreKeyId = PREKEYS + 1

const keys = { 'pre-key': {}, session: {}, 'app-state-sync-key': {}, 'app-state-sync-version': {}, 'sender-key': {}, 'lid-mapping': {}, tctoken: {} }
for (let i = 1; i <= PREKEYS; i++) keys['pre-key'][i] = { public: b(32), private: b(32) }

// A libsignal session record with one open session and a couple of receiving chains (~2 KB serialized).
function sesionSignal() {
  const cadena = () => ({ chainKey: { counter: 3, key: b(32) }, chainType: 2, messageKeys: { 1: b(32), 2: b(32) } })
  return {
    _sessions: {
      [b(33).toString('base64')]: {
        registrationId: 12345,
        currentRatchet: { ephemeralKeyPair: { pubKey: b(33), privKey: b(32) }, lastRemoteEphemeralKey: b(33), previousCounter: 2, rootKey: b(32) },
        indexInfo: { baseKey: b(33), baseKeyType: 1, closed: -1, used: Date.now(), created: Date.now(), remoteIdentityKey: b(33) },
        _chains: { [b(33).toString('base64')]: cadena(), [b(33).toString('base64')]: cadena() },
      },
    },
    version: 'v1',
  }
}
for (let i = 0; i < SESIONES; i++) {
  const usuario = String(5215500000000 + i)
  keys.session[`${usuario}.0`] = sesionSignal()
  keys['lid-mapping'][usuario] = String(190000000000000 + i)
  keys['lid-mapping'][`${190000000000000 + i}_reverse`] = usuario
  if (i < 100) keys.tctoken[`${190000000000000 + i}@lid`] = { token: b(24), timestamp: String(Math.floor(Date.now() / 1000)) }
}
for (const nombre of ['critical_block', 'critical_unblock_low', 'regular_high', 'regular_low', 'regular']) {
  keys['app-state-sync-key'][b(6).toString('base64')] = { keyData: b(32), fingerprint: { rawId: 1, currentIndex: 2, deviceIndexes: [0, 2] }, timestamp: Date.now() }
  const indexValueMap = {}
  for (let j = 0; j < 150; j++) indexValueMap[b(32).toString('base64')] = { valueMac: b(32) }
  keys['app-state-sync-version'][nombre] = { version: 42, hash: b(128), indexValueMap }
}
for (let i = 0; i < 20; i++) keys['sender-key'][`1203630${i}@g.us::${5215500000000 + i}::0`] = { chainKey: b(32), signingKey: b(33), iteration: 4 }

process.stdout.write(JSON.stringify({ creds, keys }, BufferJSON.replacer))
