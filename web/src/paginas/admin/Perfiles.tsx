// Admin: sending profiles (pacing policy as data). The hard limits (07–22 local, suppression, frequency) stay on top.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Badge, Button, Card, Checkbox, Grid, Group, Modal, NumberInput, SimpleGrid, Stack, Switch, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconEdit, IconPlus } from "@tabler/icons-react";
import { api, datos, mensajeDeError } from "../../api/cliente";
import type { PerfilSalida } from "../../api/esquema";
import { Cargando, Encabezado, ErrorCarga, Vacio } from "../../componentes/comunes";
import { CampoHora } from "../../componentes/Fechas";

// The original document's table: the defaults a new profile starts from.
const BASE: Record<string, unknown> = {
  por_hora_min: 30,
  por_hora_max: 50,
  por_dia_min: 150,
  por_dia_max: 200,
  pausa_min_s: 8,
  pausa_max_s: 25,
  rafaga_min: 5,
  rafaga_max: 12,
  pausa_rafaga_min_s: 120,
  pausa_rafaga_max_s: 420,
  hora_inicio: "08:00",
  hora_fin: "20:00",
  dias: [0, 1, 2, 3, 4, 5],
  ligero_inicio: "13:00",
  ligero_fin: "15:00",
  factor_ligero: 0.5,
  excluir_feriados: true,
};

const DIAS = ["Lun", "Mar", "Mié", "Jue", "Vie", "Sáb", "Dom"];

// Bounds the panel states up front; the server checks them again and says what it refuses.
const LIMITES: Record<string, [number, number]> = {
  por_hora: [1, 200],
  por_dia: [1, 2000],
  pausa: [1, 3600],
  rafaga: [1, 100],
  pausa_rafaga: [0, 7200],
};

function Rango({ etiqueta, c, min, max, set, sufijo }: { etiqueta: string; c: Record<string, unknown>; min: string; max: string; set: (k: string, v: unknown) => void; sufijo?: string }) {
  const [lo, hi] = LIMITES[min.replace(/_min(_s)?$/, "")] ?? [0, 100000];
  const vMin = Number(c[min] ?? 0);
  const vMax = Number(c[max] ?? 0);
  const fuera = (v: number) => (v < lo || v > hi ? `Entre ${lo} y ${hi}.` : null);
  return (
    <Group grow gap="xs" align="flex-start">
      <NumberInput
        label={`${etiqueta}: mínimo`}
        value={vMin}
        onChange={(v) => set(min, Number(v))}
        min={lo}
        max={hi}
        clampBehavior="none"
        allowNegative={false}
        suffix={sufijo}
        error={fuera(vMin)}
      />
      <NumberInput
        label={`${etiqueta}: máximo`}
        value={vMax}
        onChange={(v) => set(max, Number(v))}
        min={lo}
        max={hi}
        clampBehavior="none"
        allowNegative={false}
        suffix={sufijo}
        error={fuera(vMax) ?? (vMax < vMin ? "Debe ser mayor o igual que el mínimo." : null)}
      />
    </Group>
  );
}

function Editor({ perfil, alTerminar }: { perfil: PerfilSalida | null; alTerminar: () => void }) {
  const cliente = useQueryClient();
  const [nombre, setNombre] = useState(perfil?.nombre ?? "");
  const [porDefecto, setPorDefecto] = useState(perfil?.por_defecto ?? false);
  const [c, setC] = useState<Record<string, unknown>>({ ...BASE, ...(perfil?.config ?? {}) });
  const set = (k: string, v: unknown) => setC((x) => ({ ...x, [k]: v }));
  const guardar = useMutation({
    mutationFn: () =>
      perfil
        ? datos(api.PATCH("/api/perfiles-envio/{perfil_id}", { params: { path: { perfil_id: perfil.id } }, body: { nombre, config: c, por_defecto: porDefecto } }))
        : datos(api.POST("/api/perfiles-envio", { body: { nombre, config: c, por_defecto: porDefecto } })),
    onSuccess: () => {
      notifications.show({ color: "green", message: "Perfil guardado." });
      cliente.invalidateQueries({ queryKey: ["perfiles"] });
      alTerminar();
    },
    onError: (e) => notifications.show({ color: "red", title: "El perfil no es válido", message: mensajeDeError(e) }),
  });
  const dias = (c.dias as number[]) ?? [];
  return (
    <Stack>
      <Group grow>
        <TextInput label="Nombre" required value={nombre} onChange={(e) => setNombre(e.currentTarget.value)} />
        <Switch mt="lg" label="Perfil predeterminado" checked={porDefecto} onChange={(e) => setPorDefecto(e.currentTarget.checked)} />
      </Group>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Rango etiqueta="Mensajes por hora" c={c} min="por_hora_min" max="por_hora_max" set={set} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Rango etiqueta="Mensajes por día" c={c} min="por_dia_min" max="por_dia_max" set={set} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Rango etiqueta="Pausa entre mensajes" c={c} min="pausa_min_s" max="pausa_max_s" set={set} sufijo=" s" />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Rango etiqueta="Mensajes por ráfaga" c={c} min="rafaga_min" max="rafaga_max" set={set} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Rango etiqueta="Pausa entre ráfagas" c={c} min="pausa_rafaga_min_s" max="pausa_rafaga_max_s" set={set} sufijo=" s" />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Group grow gap="xs">
            <CampoHora label="Envía desde" value={String(c.hora_inicio)} onChange={(v) => set("hora_inicio", v)} />
            <CampoHora label="Envía hasta" value={String(c.hora_fin)} onChange={(v) => set("hora_fin", v)} />
          </Group>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Group grow gap="xs" align="flex-end">
            <CampoHora label="Horario ligero desde" value={String(c.ligero_inicio)} onChange={(v) => set("ligero_inicio", v)} />
            <CampoHora label="Horario ligero hasta" value={String(c.ligero_fin)} onChange={(v) => set("ligero_fin", v)} />
            <NumberInput
              label="Factor del horario ligero"
              description="Fracción del límite por hora (0 a 1)"
              value={Number(c.factor_ligero)}
              onChange={(v) => set("factor_ligero", Number(v))}
              min={0}
              max={1}
              step={0.1}
              decimalScale={2}
              clampBehavior="none"
              allowNegative={false}
              error={Number(c.factor_ligero) < 0 || Number(c.factor_ligero) > 1 ? "Entre 0 y 1." : null}
            />
          </Group>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Text size="sm" fw={500} mb={6}>
            Días de envío
          </Text>
          <Group gap="sm">
            {DIAS.map((d, i) => (
              <Checkbox
                key={d}
                label={d}
                checked={dias.includes(i)}
                onChange={(e) => set("dias", e.currentTarget.checked ? [...dias, i].sort() : dias.filter((x) => x !== i))}
              />
            ))}
          </Group>
          <Switch mt="sm" label="No enviar en días feriados oficiales" checked={Boolean(c.excluir_feriados)} onChange={(e) => set("excluir_feriados", e.currentTarget.checked)} />
        </Grid.Col>
      </Grid>
      <Text size="xs" c="dimmed">
        Ningún perfil puede enviar fuera de 07:00–22:00 en la hora local del destinatario, ni a números suprimidos.
      </Text>
      <Group justify="flex-end">
        <Button variant="default" onClick={alTerminar}>
          Cancelar
        </Button>
        <Button onClick={() => guardar.mutate()} loading={guardar.isPending} disabled={!nombre.trim()}>
          Guardar perfil
        </Button>
      </Group>
    </Stack>
  );
}

function Resumen({ c }: { c: Record<string, unknown> }) {
  const v = { ...BASE, ...c };
  const dias = (v.dias as number[]).map((d) => DIAS[d]).join(", ");
  return (
    <SimpleGrid cols={2} spacing={4}>
      <Text size="sm">Por hora: {String(v.por_hora_min)}–{String(v.por_hora_max)}</Text>
      <Text size="sm">Por día: {String(v.por_dia_min)}–{String(v.por_dia_max)}</Text>
      <Text size="sm">Pausa: {String(v.pausa_min_s)}–{String(v.pausa_max_s)} s</Text>
      <Text size="sm">Ráfagas: {String(v.rafaga_min)}–{String(v.rafaga_max)}</Text>
      <Text size="sm">Horario: {String(v.hora_inicio)}–{String(v.hora_fin)}</Text>
      <Text size="sm">Días: {dias}</Text>
    </SimpleGrid>
  );
}

export default function Perfiles() {
  const [editando, setEditando] = useState<PerfilSalida | "nuevo" | null>(null);
  const q = useQuery({ queryKey: ["perfiles"], queryFn: () => datos(api.GET("/api/perfiles-envio")) });
  return (
    <>
      <Encabezado
        titulo="Perfiles de envío"
        descripcion="El ritmo con que cada número envía: límites por hora y día, pausas, ráfagas y horario."
        acciones={
          <Button leftSection={<IconPlus size={18} />} onClick={() => setEditando("nuevo")}>
            Nuevo perfil
          </Button>
        }
      />
      {q.isLoading ? (
        <Cargando />
      ) : q.error ? (
        <ErrorCarga error={q.error} />
      ) : !q.data?.length ? (
        <Vacio titulo="Sin perfiles">Las campañas usan el ritmo del documento original hasta que crees uno.</Vacio>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
          {q.data.map((p) => (
            <Card key={p.id}>
              <Group justify="space-between" mb="sm">
                <Group gap="xs">
                  <Title order={3} size="h5">
                    {p.nombre}
                  </Title>
                  {p.por_defecto && <Badge variant="light">Predeterminado</Badge>}
                </Group>
                <Button size="xs" variant="subtle" leftSection={<IconEdit size={14} />} onClick={() => setEditando(p)}>
                  Editar
                </Button>
              </Group>
              <Resumen c={p.config} />
            </Card>
          ))}
        </SimpleGrid>
      )}
      <Modal opened={editando !== null} onClose={() => setEditando(null)} title={editando === "nuevo" ? "Nuevo perfil" : "Editar perfil"} size="xl">
        {editando !== null && <Editor perfil={editando === "nuevo" ? null : editando} alTerminar={() => setEditando(null)} />}
      </Modal>
    </>
  );
}
