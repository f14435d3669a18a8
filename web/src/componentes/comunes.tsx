// Small building blocks shared by every screen: page header, state badges, empty and error states.
import { Alert, Badge, Center, Group, Loader, Stack, Text, Title, type MantineColor } from "@mantine/core";
import { IconAlertTriangle, IconInbox } from "@tabler/icons-react";
import type { ReactNode } from "react";
import { mensajeDeError } from "../api/cliente";

export function Encabezado({ titulo, descripcion, acciones }: { titulo: string; descripcion?: ReactNode; acciones?: ReactNode }) {
  return (
    <Group justify="space-between" align="flex-start" mb="lg" wrap="wrap" gap="sm">
      <div>
        <Title order={2}>{titulo}</Title>
        {descripcion && (
          <Text c="dimmed" size="sm" mt={4}>
            {descripcion}
          </Text>
        )}
      </div>
      {acciones && <Group gap="sm">{acciones}</Group>}
    </Group>
  );
}

export function Cargando({ texto = "Cargando…" }: { texto?: string }) {
  return (
    <Center py="xl" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed" size="sm">
          {texto}
        </Text>
      </Group>
    </Center>
  );
}

export function ErrorCarga({ error, titulo = "No se pudo cargar" }: { error: unknown; titulo?: string }) {
  return (
    <Alert color="red" title={titulo} icon={<IconAlertTriangle size={18} />} role="alert">
      {mensajeDeError(error)}
    </Alert>
  );
}

export function Vacio({ titulo, children }: { titulo: string; children?: ReactNode }) {
  return (
    <Stack align="center" gap={4} py="xl">
      <IconInbox size={36} stroke={1.3} color="var(--mantine-color-gray-5)" aria-hidden />
      <Text fw={600}>{titulo}</Text>
      {children && (
        <Text c="dimmed" size="sm" ta="center" maw={480}>
          {children}
        </Text>
      )}
    </Stack>
  );
}

type Estilo = { color: MantineColor; texto: string };

export const ESTADOS_SESION: Record<string, Estilo> = {
  desconectada: { color: "gray", texto: "Desconectada" },
  esperando_qr: { color: "yellow", texto: "Esperando QR" },
  conectando: { color: "blue", texto: "Conectando" },
  conectada: { color: "green", texto: "Conectada" },
  reconectando: { color: "orange", texto: "Reconectando" },
  reemplazada: { color: "red", texto: "Abierta en otro lugar" },
  sesion_cerrada: { color: "red", texto: "Sesión cerrada" },
  restringida: { color: "red", texto: "Restringida" },
};

export const ESTADOS_CAMPANA: Record<string, Estilo> = {
  borrador: { color: "gray", texto: "Borrador" },
  programada: { color: "blue", texto: "Programada" },
  activa: { color: "green", texto: "Activa" },
  pausada: { color: "yellow", texto: "Pausada" },
  completada: { color: "teal", texto: "Completada" },
  cancelada: { color: "red", texto: "Cancelada" },
};

export const ESTADOS_MENSAJE: Record<string, Estilo> = {
  pendiente: { color: "gray", texto: "Pendiente" },
  enviando: { color: "blue", texto: "Enviando" },
  enviado: { color: "cyan", texto: "Enviado" },
  entregado: { color: "teal", texto: "Entregado" },
  leido: { color: "green", texto: "Leído" },
  fallido: { color: "red", texto: "Fallido" },
  cancelado: { color: "gray", texto: "Cancelado" },
  suprimido: { color: "orange", texto: "Suprimido" },
  incierto: { color: "grape", texto: "Incierto" },
};

export const ESTADOS_CONTACTO: Record<string, Estilo> = {
  pendiente: { color: "gray", texto: "Pendiente" },
  contactado: { color: "blue", texto: "Contactado" },
  respondio: { color: "green", texto: "Respondió" },
  interesado: { color: "teal", texto: "Interesado" },
  no_interesado: { color: "orange", texto: "No interesado" },
  baja: { color: "red", texto: "Baja" },
  anonimizado: { color: "gray", texto: "Anonimizado" },
};

export function Insignia({ mapa, valor, size = "sm" }: { mapa: Record<string, Estilo>; valor: string | null | undefined; size?: string }) {
  if (!valor) return <Text c="dimmed">—</Text>;
  const e = mapa[valor] ?? { color: "gray", texto: valor };
  return (
    <Badge color={e.color} variant="light" size={size} data-estado={valor}>
      {e.texto}
    </Badge>
  );
}

/** A labelled figure for summary cards. */
export function Cifra({
  etiqueta,
  valor,
  color,
  ayuda,
  tamano = "xl",
}: {
  etiqueta: string;
  valor: ReactNode;
  color?: MantineColor;
  ayuda?: string;
  tamano?: "sm" | "md" | "lg" | "xl";
}) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {etiqueta}
      </Text>
      <Text size={tamano} fw={700} c={color} className="num" title={ayuda} mt={tamano === "xl" ? 0 : 4}>
        {valor}
      </Text>
    </div>
  );
}
