// Writes .br and .gz siblings of every text asset in dist/, so the server sends compressed bytes without
// compressing on each request (FastAPI picks the sibling the browser accepts).
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const DIST = new URL("../dist/", import.meta.url).pathname;
const TEXTO = /\.(js|mjs|css|html|svg|json|txt|map|webmanifest)$/;
let antes = 0;
let despues = 0;

function recorrer(dir) {
  for (const nombre of readdirSync(dir)) {
    const ruta = join(dir, nombre);
    if (statSync(ruta).isDirectory()) recorrer(ruta);
    else if (TEXTO.test(nombre)) {
      const datos = readFileSync(ruta);
      if (datos.length < 512) continue; // not worth a round of decompression
      const br = brotliCompressSync(datos, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: datos.length } });
      writeFileSync(`${ruta}.br`, br);
      writeFileSync(`${ruta}.gz`, gzipSync(datos, { level: 9 }));
      antes += datos.length;
      despues += br.length;
    }
  }
}

recorrer(DIST);
console.log(`comprimir: ${(antes / 1024).toFixed(0)} KB de texto → ${(despues / 1024).toFixed(0)} KB con brotli`);
