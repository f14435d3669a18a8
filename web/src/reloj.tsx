// One clock for the whole panel: the server's (the simulator may run it faster than real time), so
// "hace 1 minuto" and "dentro de 8 horas" never mix the browser's time with the server's.
import { useEffect, useState } from "react";

interface Ancla {
  servidor: number; // server time (ms) when we read it
  local: number; // performance.now() at that moment
  velocidad: number; // server seconds per real second (1 in production)
}

let ancla: Ancla | null = null;
const oyentes = new Set<() => void>();

/** Read GET /api/reloj once after login (and again now and then to follow a restarted simulator). */
export async function sincronizarReloj(): Promise<void> {
  try {
    const antes = performance.now();
    const r = await fetch("/api/reloj", { credentials: "same-origin" });
    if (!r.ok) return;
    const d = (await r.json()) as { ahora: string; velocidad?: number | null };
    const despues = performance.now();
    ancla = { servidor: new Date(d.ahora).getTime(), local: (antes + despues) / 2, velocidad: d.velocidad || 1 };
    for (const o of oyentes) o();
  } catch {
    // Without the server's clock the browser's is the best we have.
  }
}

/** The server's current time. */
export function ahoraServidor(): Date {
  if (!ancla) return new Date();
  return new Date(ancla.servidor + (performance.now() - ancla.local) * ancla.velocidad);
}

/** How many server seconds pass per real second (for countdowns shown in real seconds). */
export function velocidadReloj(): number {
  return ancla?.velocidad ?? 1;
}

/** Re-renders every `cadaMs` with the server's time. */
export function useAhora(cadaMs = 30_000): Date {
  const [ahora, setAhora] = useState(ahoraServidor);
  useEffect(() => {
    const tick = () => setAhora(ahoraServidor());
    oyentes.add(tick);
    const t = window.setInterval(tick, cadaMs);
    return () => {
      oyentes.delete(tick);
      window.clearInterval(t);
    };
  }, [cadaMs]);
  return ahora;
}
