// Regenerates src/api/esquema.ts from the backend's OpenAPI schema.
//   npm run esquema                       -> builds the FastAPI app in-process (../.venv) and reads app.openapi()
//   npm run esquema -- http://127.0.0.1:8000/openapi.json   -> reads a running server instead
//   npm run esquema -- openapi.json       -> reads a saved schema file
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const raiz = resolve(web, "..");
const salida = join(web, "src", "api", "esquema.ts");
const origen = process.argv[2];

let json;
if (origen && /^https?:\/\//.test(origen)) {
  const r = await fetch(origen);
  if (!r.ok) throw new Error(`No se pudo leer ${origen}: ${r.status}`);
  json = await r.text();
} else if (origen) {
  json = readFileSync(origen, "utf8");
} else {
  const python = process.env.PYTHON ?? join(raiz, ".venv", "bin", "python");
  if (!existsSync(python)) throw new Error(`No encuentro Python en ${python}; define PYTHON o pasa la URL de /openapi.json`);
  const codigo = [
    "import json, sys",
    "from enlace.api import create_app",
    "from enlace.nucleo import Nucleo",
    "from enlace.settings import Settings",
    // No database is touched: the schema only needs the routes.
    "nucleo = Nucleo(Settings(), 'postgresql+psycopg://esquema@127.0.0.1:1/esquema', con_componentes=False)",
    "app = create_app(nucleo, iniciar_nucleo=False)",
    "sys.stdout.write(json.dumps(app.openapi(), ensure_ascii=False))",
  ].join("\n");
  json = execFileSync(python, ["-c", codigo], {
    cwd: raiz,
    env: { ...process.env, ENLACE_ENTORNO: process.env.ENLACE_ENTORNO ?? "desarrollo", ENLACE_MOTOR: "simulador" },
    maxBuffer: 64 * 1024 * 1024,
  }).toString("utf8");
}

// FastAPI always serializes fields that have defaults, but the schema lists them as optional. For
// schemas that only appear in responses, mark those fields required so the panel's types are exact;
// request schemas keep them optional (the client may omit them).
function marcarSalidas(esquema) {
  const schemas = esquema.components?.schemas ?? {};
  const alcanzables = (raiz) => {
    const vistos = new Set();
    const pila = [raiz];
    while (pila.length) {
      const n = pila.pop();
      if (Array.isArray(n)) pila.push(...n);
      else if (n && typeof n === "object") {
        if (typeof n.$ref === "string") {
          const nombre = n.$ref.split("/").pop();
          if (!vistos.has(nombre)) {
            vistos.add(nombre);
            pila.push(schemas[nombre]);
          }
        }
        pila.push(...Object.values(n));
      }
    }
    return vistos;
  };
  const entradas = new Set();
  const salidas = new Set();
  for (const ruta of Object.values(esquema.paths ?? {})) {
    for (const op of Object.values(ruta)) {
      for (const n of alcanzables([op.requestBody ?? {}, op.parameters ?? []])) entradas.add(n);
      for (const n of alcanzables(op.responses ?? {})) salidas.add(n);
    }
  }
  for (const nombre of salidas) {
    const s = schemas[nombre];
    if (entradas.has(nombre) || !s?.properties) continue;
    s.required = [...new Set([...(s.required ?? []), ...Object.keys(s.properties)])];
  }
  return esquema;
}
json = JSON.stringify(marcarSalidas(JSON.parse(json)));

const dir = mkdtempSync(join(tmpdir(), "enlace-esquema-"));
const archivo = join(dir, "openapi.json");
writeFileSync(archivo, json);
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
execFileSync(join(web, "node_modules", ".bin", "openapi-typescript"), [archivo, "-o", salida, "--root-types", "--root-types-no-schema-prefix", "--default-non-nullable", "false"], {
  stdio: "inherit",
});
console.log(`Esquema actualizado: ${salida}`);
