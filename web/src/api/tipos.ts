// Shapes the screens use, with small adapters where an endpoint answers a list or a wrapped list.

export interface SesionEstado {
  agente_id: number;
  estado: string;
  agente_nombre?: string | null;
  numero_wa?: string | null;
  motivo?: string | null;
  qr?: string | null;
  qr_expira_at?: string | null;
  codigo_emparejamiento?: string | null;
  conectada_at?: string | null;
  ultima_actividad_at?: string | null;
  alcance_captura?: string | null;
}

/** Items of a list answer, whether it is a bare array or `{items: [...]}`-like. */
export function lista<T>(r: unknown, ...claves: string[]): T[] {
  if (Array.isArray(r)) return r as T[];
  if (r && typeof r === "object") {
    for (const k of [...claves, "items", "datos", "resultados", "filas"]) {
      const v = (r as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v as T[];
    }
  }
  return [];
}

export function estadoDeSesion(r: unknown, agenteId: number | null): SesionEstado {
  const s = lista<SesionEstado>(r, "sesiones").find((x) => x.agente_id === agenteId);
  return s ?? { agente_id: agenteId ?? 0, estado: "desconectada" };
}
