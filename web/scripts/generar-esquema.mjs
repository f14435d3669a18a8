// Regenerates src/api/esquema.ts (the API, from OpenAPI) and src/api/eventos.ts (realtime/CRM events, from
// enlace.comun.eventos) from the backend.
//   npm run esquema                       -> builds the FastAPI app in-process (../.venv) and reads app.openapi()
//   npm run esquema -- http://127.0.0.1:8000/openapi.json   -> reads a running server instead
//   npm run esquema -- openapi.json       -> reads a saved schema file
//   npm run esquema:comprobar             -> regenerates both into a temporary folder and fails (exit 1) when
//                                            the committed files differ: the panel's types no longer match
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const raiz = resolve(web, "..");
const comprobar = process.argv.includes("--comprobar");
const origen = process.argv.slice(2).find((a) => !a.startsWith("--"));
const dir = mkdtempSync(join(tmpdir(), "enlace-esquema-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const destino = comprobar ? dir : join(web, "src", "api");
const python = process.env.PYTHON ?? join(raiz, ".venv", "bin", "python");
const entornoPython = { ...process.env, ENLACE_ENTORNO: process.env.ENLACE_ENTORNO ?? "desarrollo", ENLACE_MOTOR: "simulador" };

function pythonJson(codigo) {
  if (!existsSync(python)) throw new Error(`No encuentro Python en ${python}; define PYTHON o pasa la URL de /openapi.json`);
  return execFileSync(python, ["-c", codigo], { cwd: raiz, env: entornoPython, maxBuffer: 64 * 1024 * 1024 }).toString("utf8");
}

let json;
if (origen && /^https?:\/\//.test(origen)) {
  const r = await fetch(origen);
  if (!r.ok) throw new Error(`No se pudo leer ${origen}: ${r.status}`);
  json = await r.text();
} else if (origen) {
  json = readFileSync(origen, "utf8");
} else {
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
  json = pythonJson(codigo);
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

const eventos = pythonJson(
  "import json, sys\nfrom enlace.comun.eventos import esquema_openapi\nsys.stdout.write(json.dumps(esquema_openapi(), ensure_ascii=False))",
);

function generar(nombre, contenido) {
  const archivo = join(dir, `${nombre}.json`);
  const salida = join(destino, `${nombre}.ts`);
  writeFileSync(archivo, contenido);
  execFileSync(
    join(web, "node_modules", ".bin", "openapi-typescript"),
    [archivo, "-o", salida, "--root-types", "--root-types-no-schema-prefix", "--default-non-nullable", "false"],
    { stdio: comprobar ? "ignore" : "inherit" },
  );
  return salida;
}

const generados = [generar("esquema", json), generar("eventos", eventos)];
if (comprobar) {
  const distintos = generados
    .map((g) => join("src", "api", basename(g)))
    .filter((rel) => !existsSync(join(web, rel)) || readFileSync(join(web, rel), "utf8") !== readFileSync(join(dir, basename(rel)), "utf8"));
  if (distintos.length) {
    console.error(
      `web/${distintos.join(" y web/")} no coincide con lo que produce el servidor. ` +
        "Regenera con `make esquema` (o `cd web && npm run esquema`) y súbelo junto con el cambio de la API o de los eventos.",
    );
    process.exit(1);
  }
  console.log("Los tipos del panel coinciden con la API y los eventos del servidor.");
} else {
  for (const g of generados) console.log(`Actualizado: ${g}`);
}
