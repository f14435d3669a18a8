// Regenerates src/api/esquema.ts from the backend's OpenAPI schema.
//   npm run esquema                       -> builds the FastAPI app in-process (../.venv) and reads app.openapi()
//   npm run esquema -- http://127.0.0.1:8000/openapi.json   -> reads a running server instead
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
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

const dir = mkdtempSync(join(tmpdir(), "enlace-esquema-"));
const archivo = join(dir, "openapi.json");
writeFileSync(archivo, json);
execFileSync(join(web, "node_modules", ".bin", "openapi-typescript"), [archivo, "-o", salida, "--root-types", "--root-types-no-schema-prefix"], {
  stdio: "inherit",
});
console.log(`Esquema actualizado: ${salida}`);
