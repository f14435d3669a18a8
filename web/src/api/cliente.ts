// The API client: typed paths from the OpenAPI schema, the CSRF header, and one place that notices an expired session.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./esquema";
import { humanizarMensaje, textoCampo } from "../diccionario";

export class ErrorApi extends Error {
  readonly status: number;
  readonly codigo: string;

  constructor(status: number, codigo: string, mensaje: string) {
    super(mensaje);
    this.status = status;
    this.codigo = codigo;
  }
}

const METODOS_SEGUROS = new Set(["GET", "HEAD", "OPTIONS"]);

export function leerCookie(nombre: string): string | null {
  for (const parte of document.cookie.split(";")) {
    const [k, ...v] = parte.trim().split("=");
    if (k === nombre) return decodeURIComponent(v.join("="));
  }
  return null;
}

// Listeners told when the server answers 401 to a request made while we believed we were logged in.
type Oyente = () => void;
const oyentesExpiracion = new Set<Oyente>();
export function alExpirarSesion(oyente: Oyente): () => void {
  oyentesExpiracion.add(oyente);
  return () => oyentesExpiracion.delete(oyente);
}
function avisarExpiracion(url: string) {
  // A failed login or the first "who am I" is not an expiry: those screens handle 401 themselves.
  if (url.includes("/api/auth/login") || url.includes("/api/auth/yo")) return;
  for (const o of oyentesExpiracion) o();
}

function encabezadosCsrf(metodo: string, encabezados: Headers) {
  if (!METODOS_SEGUROS.has(metodo.toUpperCase())) {
    const token = leerCookie("enlace_csrf");
    if (token) encabezados.set("X-CSRF-Token", token);
  }
}

const middleware: Middleware = {
  onRequest({ request }) {
    encabezadosCsrf(request.method, request.headers);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401) avisarExpiracion(request.url);
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(middleware);

/** Turns a `{error: {codigo, mensaje}}` body (or FastAPI's `detail`) into an ErrorApi. */
export function aError(status: number, cuerpo: unknown): ErrorApi {
  const c = cuerpo as { error?: { codigo?: string; mensaje?: string }; detail?: unknown } | null;
  if (c?.error?.mensaje) return new ErrorApi(status, c.error.codigo ?? "error", humanizarMensaje(c.error.mensaje));
  if (typeof c?.detail === "string") return new ErrorApi(status, "error", c.detail);
  if (Array.isArray(c?.detail)) {
    const partes = (c.detail as { loc?: unknown[]; msg?: string }[]).map(
      (d) => `${textoCampo((d.loc ?? []).filter((x) => x !== "body").join("."))}: ${d.msg ?? "valor inválido"}`,
    );
    return new ErrorApi(status, "validacion", `Revisa los datos: ${partes.join("; ")}`);
  }
  if (status === 401) return new ErrorApi(status, "no_autenticado", "Tu sesión expiró. Vuelve a iniciar sesión.");
  if (status === 403) return new ErrorApi(status, "prohibido", "No tienes permiso para esta acción.");
  if (status === 404) return new ErrorApi(status, "no_encontrado", "No se encontró lo que buscas.");
  if (status >= 500) return new ErrorApi(status, "servidor", "El servidor tuvo un problema. Intenta de nuevo en un momento.");
  return new ErrorApi(status, "error", `La solicitud falló (${status}).`);
}

/** Unwraps an openapi-fetch result: returns the data or throws an ErrorApi with the server's Spanish message. */
export async function datos<T>(
  promesa: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await promesa;
  } catch {
    throw new ErrorApi(0, "red", "No hay conexión con el servidor. Revisa tu red e intenta de nuevo.");
  }
  if (!r.response.ok) throw aError(r.response.status, r.error);
  return r.data as NonNullable<T>;
}

/**
 * Untyped call for the few endpoints whose schema is loose (multipart, streamed files).
 * Same CSRF and expiry handling as the typed client.
 */
export async function pedir<T = unknown>(
  metodo: string,
  ruta: string,
  opciones: { json?: unknown; form?: FormData; query?: Record<string, string | number | boolean | undefined | null> } = {},
): Promise<T> {
  const url = new URL(ruta, window.location.origin);
  for (const [k, v] of Object.entries(opciones.query ?? {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers = new Headers();
  let body: BodyInit | undefined;
  if (opciones.json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(opciones.json);
  } else if (opciones.form) {
    body = opciones.form;
  }
  encabezadosCsrf(metodo, headers);
  let resp: Response;
  try {
    resp = await fetch(url, { method: metodo, headers, body, credentials: "same-origin" });
  } catch {
    throw new ErrorApi(0, "red", "No hay conexión con el servidor. Revisa tu red e intenta de nuevo.");
  }
  if (resp.status === 401) avisarExpiracion(url.pathname);
  const tipo = resp.headers.get("content-type") ?? "";
  const cuerpo = tipo.includes("json") ? await resp.json().catch(() => null) : await resp.text();
  if (!resp.ok) throw aError(resp.status, cuerpo);
  return cuerpo as T;
}

/** Multipart upload with progress (fetch cannot report upload progress; XHR can). */
export function subirConProgreso<T>(ruta: string, form: FormData, alProgresar: (fraccion: number) => void): Promise<T> {
  return new Promise((resolver, rechazar) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", ruta);
    xhr.withCredentials = true;
    const token = leerCookie("enlace_csrf");
    if (token) xhr.setRequestHeader("X-CSRF-Token", token);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) alProgresar(e.loaded / e.total);
    };
    xhr.onerror = () => rechazar(new ErrorApi(0, "red", "Se perdió la conexión durante la carga del archivo."));
    xhr.onload = () => {
      let cuerpo: unknown = null;
      try {
        cuerpo = JSON.parse(xhr.responseText);
      } catch {
        cuerpo = xhr.responseText;
      }
      if (xhr.status === 401) avisarExpiracion(ruta);
      if (xhr.status >= 200 && xhr.status < 300) resolver(cuerpo as T);
      else rechazar(aError(xhr.status, cuerpo));
    };
    xhr.send(form);
  });
}

/** Downloads a file from a GET endpoint keeping the session cookie (the browser saves it). */
export function descargar(ruta: string, query: Record<string, string | number | undefined | null> = {}) {
  const url = new URL(ruta, window.location.origin);
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const a = document.createElement("a");
  a.href = url.toString();
  a.rel = "noopener";
  a.download = "";
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function mensajeDeError(e: unknown): string {
  if (e instanceof ErrorApi) return e.message;
  if (e instanceof Error) return e.message;
  return "Ocurrió un error inesperado.";
}
