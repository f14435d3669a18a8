// The contact hours the server enforces (GET /api/cumplimiento/horario): shown, never decided, by the panel.
import { useQuery } from "@tanstack/react-query";
import { Text } from "@mantine/core";
import { api, datos } from "../api/cliente";

const FUENTES: Record<string, string> = {
  contacto: "la zona horaria guardada en el contacto",
  estado: "la de su estado",
  campana: "la de la campaña",
};

/** One sentence: the legal limit, the company's window and whose time zone counts, as the gate applies them. */
export function HorarioContacto() {
  const q = useQuery({
    queryKey: ["horario-contacto"],
    queryFn: () => datos(api.GET("/api/cumplimiento/horario")),
    staleTime: 60_000,
  });
  if (!q.data) return null;
  const { limite, ventana, precedencia_zona } = q.data;
  const angosta = ventana.inicio !== limite.inicio || ventana.fin !== limite.fin;
  return (
    <Text size="sm" c="dimmed" data-testid="horario-contacto">
      Límite legal: {limite.inicio} a {limite.fin} hora local del destinatario; no se puede ampliar
      {angosta ? ` (la empresa lo acota a ${ventana.inicio}–${ventana.fin})` : ""}. La hora local se toma de{" "}
      {precedencia_zona.map((p) => FUENTES[p] ?? p).join(", si no hay, de ")}.
    </Text>
  );
}
