// Formatting for Mexican Spanish: dates in the panel's time zone, money in pesos, counts with separators.
import { ahoraServidor } from "./reloj";

const ZONA = "America/Mexico_City";

const fechaHora = new Intl.DateTimeFormat("es-MX", {
  timeZone: ZONA,
  day: "2-digit",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const soloFecha = new Intl.DateTimeFormat("es-MX", { timeZone: ZONA, day: "2-digit", month: "short", year: "numeric" });
const soloHora = new Intl.DateTimeFormat("es-MX", { timeZone: ZONA, hour: "2-digit", minute: "2-digit" });
const diaCorto = new Intl.DateTimeFormat("es-MX", { timeZone: ZONA, day: "2-digit", month: "short" });
const pesos = new Intl.NumberFormat("es-MX", { style: "currency", currency: "MXN", minimumFractionDigits: 2 });
const entero = new Intl.NumberFormat("es-MX", { maximumFractionDigits: 0 });
const porcentaje = new Intl.NumberFormat("es-MX", { style: "percent", maximumFractionDigits: 1 });
const relativo = new Intl.RelativeTimeFormat("es-MX", { numeric: "auto" });

function aFecha(valor: string | number | Date | null | undefined): Date | null {
  if (valor === null || valor === undefined || valor === "") return null;
  const d = valor instanceof Date ? valor : new Date(valor);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtFechaHora(valor: string | number | Date | null | undefined): string {
  const d = aFecha(valor);
  return d ? fechaHora.format(d) : "—";
}

export function fmtFecha(valor: string | number | Date | null | undefined): string {
  const d = aFecha(valor);
  return d ? soloFecha.format(d) : "—";
}

export function fmtHora(valor: string | number | Date | null | undefined): string {
  const d = aFecha(valor);
  return d ? soloHora.format(d) : "—";
}

export function fmtDia(valor: string | number | Date | null | undefined): string {
  // A bare "YYYY-MM-DD" is a calendar day, not an instant: read it at noon so no zone shifts it.
  if (typeof valor === "string" && /^\d{4}-\d{2}-\d{2}$/.test(valor)) valor = `${valor}T12:00:00`;
  const d = aFecha(valor);
  return d ? diaCorto.format(d) : "—";
}

export function fmtDinero(valor: number | string | null | undefined): string {
  if (valor === null || valor === undefined || valor === "") return "—";
  const n = typeof valor === "number" ? valor : Number(valor);
  return Number.isFinite(n) ? pesos.format(n) : String(valor);
}

export function fmtNumero(valor: number | null | undefined): string {
  return valor === null || valor === undefined ? "—" : entero.format(valor);
}

export function fmtPorcentaje(fraccion: number | null | undefined): string {
  return fraccion === null || fraccion === undefined || !Number.isFinite(fraccion) ? "—" : porcentaje.format(fraccion);
}

/** "hace 3 minutos", "en 2 horas". */
export function fmtRelativo(valor: string | number | Date | null | undefined, ahora: Date = ahoraServidor()): string {
  const d = aFecha(valor);
  if (!d) return "—";
  const seg = Math.round((d.getTime() - ahora.getTime()) / 1000);
  const abs = Math.abs(seg);
  if (abs < 60) return relativo.format(seg, "second");
  if (abs < 3600) return relativo.format(Math.round(seg / 60), "minute");
  if (abs < 86400) return relativo.format(Math.round(seg / 3600), "hour");
  return relativo.format(Math.round(seg / 86400), "day");
}

/** Seconds → "1 h 20 min", "45 s". */
export function fmtDuracion(segundos: number | null | undefined): string {
  if (segundos === null || segundos === undefined || !Number.isFinite(segundos)) return "—";
  const s = Math.max(0, Math.round(segundos));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const resto = min % 60;
  if (h < 24) return resto ? `${h} h ${resto} min` : `${h} h`;
  const dias = Math.floor(h / 24);
  return `${dias} d ${h % 24} h`;
}

/** +525512345678 → +52 55 1234 5678 (other shapes are shown as they are). */
export function fmtTelefono(tel: string | null | undefined): string {
  if (!tel) return "—";
  const m = /^\+52(\d{2})(\d{4})(\d{4})$/.exec(tel);
  return m ? `+52 ${m[1]} ${m[2]} ${m[3]}` : tel;
}

/** Today's date (YYYY-MM-DD) in the panel's time zone. */
export function hoyISO(): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: ZONA }).format(ahoraServidor());
}
