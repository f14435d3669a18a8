// A drag-and-drop file area that is also a keyboard-operable button.
import { useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import { Group, Paper, Stack, Text } from "@mantine/core";
import { IconFileSpreadsheet, IconUpload } from "@tabler/icons-react";

interface Props {
  aceptar: string;
  archivo: File | null;
  alElegir: (f: File | null) => void;
  etiqueta?: string;
  ayuda?: string;
  deshabilitado?: boolean;
}

export default function ZonaArchivo({ aceptar, archivo, alElegir, etiqueta = "Arrastra aquí tu archivo", ayuda, deshabilitado }: Props) {
  const entrada = useRef<HTMLInputElement>(null);
  const [encima, setEncima] = useState(false);

  function soltar(e: DragEvent) {
    e.preventDefault();
    setEncima(false);
    if (deshabilitado) return;
    const f = e.dataTransfer.files?.[0];
    if (f) alElegir(f);
  }

  function tecla(e: KeyboardEvent) {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      entrada.current?.click();
    }
  }

  return (
    <Paper
      role="button"
      tabIndex={deshabilitado ? -1 : 0}
      aria-describedby="zona-archivo-ayuda"
      aria-disabled={deshabilitado}
      onClick={() => !deshabilitado && entrada.current?.click()}
      onKeyDown={tecla}
      onDragOver={(e) => {
        e.preventDefault();
        setEncima(true);
      }}
      onDragLeave={() => setEncima(false)}
      onDrop={soltar}
      p="xl"
      radius="md"
      data-testid="zona-archivo"
      style={{
        borderStyle: "dashed",
        borderWidth: 2,
        borderColor: encima ? "var(--mantine-color-enlace-6)" : "var(--mantine-color-gray-4)",
        background: encima ? "var(--mantine-color-enlace-0)" : "var(--mantine-color-white)",
        cursor: deshabilitado ? "not-allowed" : "pointer",
        transition: "background 120ms, border-color 120ms",
      }}
    >
      <input
        ref={entrada}
        type="file"
        accept={aceptar}
        hidden
        data-testid="entrada-archivo"
        onChange={(e) => alElegir(e.currentTarget.files?.[0] ?? null)}
      />
      <Group justify="center" gap="lg" wrap="nowrap">
        {archivo ? (
          <IconFileSpreadsheet size={40} stroke={1.4} color="var(--mantine-color-enlace-7)" aria-hidden />
        ) : (
          <IconUpload size={40} stroke={1.4} color="var(--mantine-color-gray-6)" aria-hidden />
        )}
        <Stack gap={2}>
          <Text fw={600}>{archivo ? archivo.name : etiqueta}</Text>
          <Text size="sm" c="dimmed" id="zona-archivo-ayuda">
            {archivo ? `${(archivo.size / 1024).toLocaleString("es-MX", { maximumFractionDigits: 1 })} KB · pulsa para cambiarlo` : ayuda ?? "o pulsa para buscarlo"}
          </Text>
        </Stack>
      </Group>
    </Paper>
  );
}
