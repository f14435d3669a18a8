// Admin: capture scope (privacy) and the compliance settings (frequency cap, contact hours, retention, opt-out notice).
import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Button, Card, Grid, Group, NumberInput, Radio, Stack, Switch, Text, Textarea, Title } from "@mantine/core";
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
}

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
  const guardar = useMutation({
    mutationFn: async () => {
      const cambios = Object.fromEntries(Object.entries(f!).filter(([k, v]) => q.data?.[k as keyof Ajustes] !== v));
      return datos(api.PUT("/api/cumplimiento/ajustes", { body: cambios }));
    },
    onSuccess: () => {
      notifications.show({ color: "green", message: "Ajustes guardados; quedan registrados en la auditoría." });
      cliente.invalidateQueries({ queryKey: ["ajustes-cumplimiento"] });
    },
    onError: (e) => notifications.show({ color: "red", title: "No se guardaron los ajustes", message: mensajeDeError(e) }),
  });
  if (q.isLoading || !f) return q.error ? <ErrorCarga error={q.error} /> : <Cargando />;
  const num = (k: keyof Ajustes) => (v: number | string) => setF({ ...f, [k]: typeof v === "number" ? v : Number(v) });

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
          <NumberInput label="Mensajes de campaña por número" description="Máximo por persona en el periodo" min={0} max={50} value={f.frecuencia_max_mensajes} onChange={num("frecuencia_max_mensajes")} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 6 }}>
          <NumberInput label="Periodo (días)" min={1} max={365} value={f.frecuencia_dias} onChange={num("frecuencia_dias")} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 6 }}>
          <NumberInput label="Hora mínima de contacto" min={7} max={21} value={f.hora_min_contacto} onChange={num("hora_min_contacto")} suffix=":00" />
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 6 }}>
          <NumberInput label="Hora máxima de contacto" min={8} max={22} value={f.hora_max_contacto} onChange={num("hora_max_contacto")} suffix=":00" />
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 6 }}>
          <NumberInput label="Retención de mensajes (días)" description="Después se borran los textos" min={30} max={3650} value={f.retencion_dias} onChange={num("retencion_dias")} />
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
      <Group justify="flex-end" mt="md">
        <Button leftSection={<IconDeviceFloppy size={18} />} onClick={() => guardar.mutate()} loading={guardar.isPending}>
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
