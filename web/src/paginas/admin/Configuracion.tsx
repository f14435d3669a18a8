// Admin: capture scope (privacy) and the compliance settings (frequency cap, contact hours, retention, opt-out notice).
import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Card, Grid, Group, NumberInput, Radio, Stack, Switch, Text, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconDeviceFloppy, IconEye } from "@tabler/icons-react";
import { api, datos, mensajeDeError } from "../../api/cliente";
import { Cargando, Encabezado, ErrorCarga } from "../../componentes/comunes";
import { HorarioContacto } from "../../componentes/HorarioContacto";

interface Ajustes {
  frecuencia_max_mensajes: number;
  frecuencia_dias: number;
  confirmar_baja: boolean;
  texto_confirmacion_baja: string;
  requerir_consentimiento: boolean;
  retencion_dias: number;
  hora_min_contacto: number;
  hora_max_contacto: number;
  // The range the server allows for each number (legal floors included) and, after saving, what it stored differently.
  limites?: Record<string, { minimo: number; maximo: number }>;
  normalizados?: Record<string, unknown>;
}

const NUMERICOS = ["frecuencia_max_mensajes", "frecuencia_dias", "hora_min_contacto", "hora_max_contacto", "retencion_dias"] as const;

const ETIQUETAS: Partial<Record<keyof Ajustes, string>> & Record<"frecuencia_max_mensajes" | "frecuencia_dias" | "hora_min_contacto" | "hora_max_contacto" | "retencion_dias", string> = {
  frecuencia_max_mensajes: "Mensajes de campaña por número",
  frecuencia_dias: "Periodo (días)",
  hora_min_contacto: "Hora mínima de contacto",
  hora_max_contacto: "Hora máxima de contacto",
  retencion_dias: "Retención de mensajes (días)",
  confirmar_baja: "Confirmación de baja",
  requerir_consentimiento: "Evidencia de consentimiento",
};

function AlcanceCaptura() {
  const cliente = useQueryClient();
  const q = useQuery({
    queryKey: ["alcance-captura"],
    queryFn: () => datos(api.GET("/api/captura/alcance")),
  });
  const [valor, setValor] = useState<string>("negocio");
  useEffect(() => {
    if (q.data?.alcance) setValor(q.data.alcance);
  }, [q.data?.alcance]);
  const guardar = useMutation({
    mutationFn: () => datos(api.PUT("/api/captura/alcance", { body: { alcance: valor as "negocio" | "todo" } })),
    onSuccess: () => {
      notifications.show({ color: "green", message: "Alcance de captura actualizado." });
      cliente.invalidateQueries({ queryKey: ["alcance-captura"] });
    },
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });

  return (
    <Card h="100%">
      <Group gap="xs" mb="xs">
        <IconEye size={20} aria-hidden />
        <Title order={3} size="h5">
          Alcance de captura
        </Title>
      </Group>
      <Text size="sm" c="dimmed" mb="md">
        Qué conversaciones del número personal de cada agente guarda Enlace.
      </Text>
      {q.isLoading ? (
        <Cargando />
      ) : q.error ? (
        <ErrorCarga error={q.error} />
      ) : (
        <Stack>
          <Radio.Group value={valor} onChange={setValor} aria-label="Alcance de captura">
            <Stack gap="sm">
              <Radio
                value="negocio"
                label="Solo negocio (recomendado)"
                description="Conversaciones con contactos de Enlace o con números a los que el sistema escribió. Los demás chats solo se cuentan."
              />
              <Radio
                value="todo"
                label="Todo"
                description="Todas las conversaciones 1 a 1 del número. El panel del agente muestra un aviso visible."
              />
            </Stack>
          </Radio.Group>
          {q.data && (
            <Text size="xs" c="dimmed">
              Hoy se contaron sin guardar {q.data.fuera_de_alcance_hoy.toLocaleString("es-MX")} mensajes de chats personales.
            </Text>
          )}
          <Group justify="flex-end">
            <Button leftSection={<IconDeviceFloppy size={18} />} onClick={() => guardar.mutate()} loading={guardar.isPending} disabled={valor === q.data?.alcance}>
              Guardar
            </Button>
          </Group>
        </Stack>
      )}
    </Card>
  );
}

function AjustesCumplimiento() {
  const cliente = useQueryClient();
  const q = useQuery({
    queryKey: ["ajustes-cumplimiento"],
    queryFn: async () => (await datos(api.GET("/api/cumplimiento/ajustes"))) as unknown as Ajustes,
  });
  const [f, setF] = useState<Ajustes | null>(null);
  useEffect(() => {
    if (q.data) setF(q.data);
  }, [q.data]);
  const [ajustados, setAjustados] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const guardar = useMutation({
    mutationFn: async () => {
      const cambios = Object.fromEntries(
        Object.entries(f!).filter(([k, v]) => k !== "limites" && k !== "normalizados" && q.data?.[k as keyof Ajustes] !== v),
      );
      const guardado = (await datos(api.PUT("/api/cumplimiento/ajustes", { body: cambios }))) as unknown as Ajustes;
      return { cambios, guardado };
    },
    onSuccess: ({ cambios, guardado }) => {
      // Whatever the server stored differently from what was typed is said, never changed silently.
      const diferencias = Object.entries(cambios)
        .filter(([k, v]) => (guardado?.normalizados && k in guardado.normalizados) || (guardado && guardado[k as keyof Ajustes] !== undefined && guardado[k as keyof Ajustes] !== v))
        .map(([k, v]) => `${ETIQUETAS[k as keyof Ajustes] ?? k}: escribiste ${String(v)}, quedó ${String(guardado[k as keyof Ajustes])}`);
      setAjustados(diferencias);
      setError(null);
      notifications.show({
        color: diferencias.length ? "yellow" : "green",
        message: diferencias.length ? "Guardado, pero el servidor ajustó algunos valores (ver abajo)." : "Ajustes guardados; quedan registrados en la auditoría.",
      });
      if (guardado) setF(guardado);
      cliente.invalidateQueries({ queryKey: ["ajustes-cumplimiento"] });
    },
    onError: (e) => {
      setAjustados([]);
      setError(mensajeDeError(e));
    },
  });
  if (q.isLoading || !f) return q.error ? <ErrorCarga error={q.error} /> : <Cargando />;
  const num = (k: keyof Ajustes) => (v: number | string) => setF({ ...f, [k]: v === "" ? Number.NaN : typeof v === "number" ? v : Number(v) });
  // The panel's own bounds, said before saving (the server checks them again).
  const fuera = (k: (typeof NUMERICOS)[number], minPanel: number, maxPanel: number, extra = ""): string | null => {
    // The server's range wins (it knows the legal floors); the panel's is the fallback.
    const min = q.data?.limites?.[k]?.minimo ?? minPanel;
    const max = q.data?.limites?.[k]?.maximo ?? maxPanel;
    const v = f[k] as number;
    if (!Number.isFinite(v) || !Number.isInteger(v)) return "Escribe un número entero.";
    return v < min || v > max ? `Entre ${min} y ${max}.${extra}` : null;
  };
  const errores = {
    frecuencia_max_mensajes: fuera("frecuencia_max_mensajes", 1, 50, " Con 0 ninguna campaña podría enviar."),
    frecuencia_dias: fuera("frecuencia_dias", 1, 365),
    hora_min_contacto: fuera("hora_min_contacto", 7, 21, " La ley no permite antes de las 07:00."),
    hora_max_contacto:
      fuera("hora_max_contacto", 8, 22, " La ley no permite después de las 22:00.") ??
      (f.hora_max_contacto <= f.hora_min_contacto ? "Debe ser mayor que la hora mínima." : null),
    retencion_dias: fuera("retencion_dias", 30, 3650),
  };
  const hayErrores = Object.values(errores).some(Boolean);
  const comunes = { clampBehavior: "none" as const, allowNegative: false, allowDecimal: false };

  return (
    <Card>
      <Title order={3} size="h5" mb={4}>
        Reglas de contacto
      </Title>
      <Text size="sm" c="dimmed">
        Se aplican a todos los agentes y campañas.
      </Text>
      <Stack mb="md" mt={4}>
        <HorarioContacto />
      </Stack>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, sm: 6 }}>
          <NumberInput
            label={ETIQUETAS.frecuencia_max_mensajes}
            description="Máximo por persona en el periodo (1 a 50)"
            min={1}
            max={50}
            value={Number.isNaN(f.frecuencia_max_mensajes) ? "" : f.frecuencia_max_mensajes}
            onChange={num("frecuencia_max_mensajes")}
            error={errores.frecuencia_max_mensajes}
            data-testid="ajuste-frecuencia"
            {...comunes}
          />
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 6 }}>
          <NumberInput label={ETIQUETAS.frecuencia_dias} description="1 a 365" min={1} max={365} value={Number.isNaN(f.frecuencia_dias) ? "" : f.frecuencia_dias} onChange={num("frecuencia_dias")} error={errores.frecuencia_dias} {...comunes} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 6 }}>
          <NumberInput label={ETIQUETAS.hora_min_contacto} description="Hora local del destinatario, 7 a 21" min={7} max={21} value={Number.isNaN(f.hora_min_contacto) ? "" : f.hora_min_contacto} onChange={num("hora_min_contacto")} suffix=":00" error={errores.hora_min_contacto} data-testid="ajuste-hora-min" {...comunes} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 6 }}>
          <NumberInput label={ETIQUETAS.hora_max_contacto} description="Hora local del destinatario, 8 a 22" min={8} max={22} value={Number.isNaN(f.hora_max_contacto) ? "" : f.hora_max_contacto} onChange={num("hora_max_contacto")} suffix=":00" error={errores.hora_max_contacto} {...comunes} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 6 }}>
          <NumberInput label={ETIQUETAS.retencion_dias} description="Después se borran los textos (30 a 3,650)" min={30} max={3650} value={Number.isNaN(f.retencion_dias) ? "" : f.retencion_dias} onChange={num("retencion_dias")} error={errores.retencion_dias} data-testid="ajuste-retencion" {...comunes} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 6 }}>
          <Switch
            mt="lg"
            label="Exigir evidencia de consentimiento para campañas"
            checked={f.requerir_consentimiento}
            onChange={(e) => setF({ ...f, requerir_consentimiento: e.currentTarget.checked })}
          />
        </Grid.Col>
        <Grid.Col span={12}>
          <Switch label="Enviar una confirmación a quien pide BAJA" checked={f.confirmar_baja} onChange={(e) => setF({ ...f, confirmar_baja: e.currentTarget.checked })} />
        </Grid.Col>
        {f.confirmar_baja && (
          <Grid.Col span={12}>
            <Textarea label="Texto de la confirmación" autosize minRows={2} value={f.texto_confirmacion_baja} onChange={(e) => setF({ ...f, texto_confirmacion_baja: e.currentTarget.value })} />
          </Grid.Col>
        )}
      </Grid>
      {error && (
        <Alert color="red" role="alert" mt="md" data-testid="error-ajustes" title="No se guardaron los ajustes">
          {error}
        </Alert>
      )}
      {ajustados.length > 0 && (
        <Alert color="yellow" role="status" mt="md" data-testid="ajustes-normalizados" title="El servidor guardó valores distintos de los que escribiste">
          {ajustados.join(". ")}.
        </Alert>
      )}
      <Group justify="flex-end" mt="md">
        <Button leftSection={<IconDeviceFloppy size={18} aria-hidden />} onClick={() => guardar.mutate()} loading={guardar.isPending} disabled={hayErrores} data-testid="guardar-ajustes">
          Guardar reglas
        </Button>
      </Group>
    </Card>
  );
}

export default function Configuracion() {
  return (
    <>
      <Encabezado titulo="Privacidad y cumplimiento" descripcion="Qué se captura y bajo qué reglas se contacta a las personas." />
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <AlcanceCaptura />
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <AjustesCumplimiento />
        </Grid.Col>
      </Grid>
    </>
  );
}
