// Templates: several variants with placeholders, and a live preview rendered on real contacts of a cartera.
import { useEffect, useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ActionIcon, Alert, Badge, Button, Card, Grid, Group, Modal, Paper, Select, Stack, Table, Text, TextInput, Textarea, Title, Tooltip } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { IconEdit, IconPlus, IconTrash } from "@tabler/icons-react";
import { api, datos, mensajeDeError } from "../../api/cliente";
import type { PlantillaSalida } from "../../api/esquema";
import { Cargando, ErrorCarga, Vacio } from "../../componentes/comunes";
import { useCarteras } from "./datos";
import { textoCampo } from "../../diccionario";
import { useConfirmar } from "../../componentes/Confirmar";

const CAMPOS = ["{saludo}", "{nombre}", "{monto}", "{tipo_credito}"];

/** Preview of variants (or a saved template) over a cartera's real contacts, with per-contact errors. */
export function VistaPrevia({ variantes, plantillaId, carteraId }: { variantes?: string[]; plantillaId?: number | null; carteraId: number | null }) {
  const limpias = (variantes ?? []).filter((v) => v.trim());
  const [clave] = useDebouncedValue(JSON.stringify([limpias, plantillaId, carteraId]), 400);
  const activa = carteraId !== null && (limpias.length > 0 || !!plantillaId);
  const q = useQuery({
    queryKey: ["previa", clave],
    queryFn: () =>
      datos(
        api.POST("/api/plantillas/previa", {
          body: {
            cartera_id: carteraId,
            limite: 4,
            ...(limpias.length ? { variantes: limpias } : { plantilla_id: plantillaId ?? null }),
          },
        }),
      ),
    enabled: activa,
    retry: false,
  });
  if (!carteraId) return <Text size="sm" c="dimmed">Elige una cartera para ver cómo queda el mensaje con contactos reales.</Text>;
  if (!activa) return <Text size="sm" c="dimmed">Escribe al menos una variante.</Text>;
  if (q.isLoading) return <Cargando texto="Generando vista previa…" />;
  if (q.error) return <ErrorCarga error={q.error} titulo="La plantilla no se puede usar" />;
  const p = q.data!;
  return (
    <Stack gap="sm" data-testid="vista-previa">
      <Group gap="xs">
        <Badge color="green" variant="light">{p.correctos} listos</Badge>
        {p.con_errores > 0 && <Badge color="red" variant="light">{p.con_errores} con datos faltantes</Badge>}
        <Text size="xs" c="dimmed">de {p.total} contactos</Text>
      </Group>
      {p.muestras.map((m) => (
        <Paper key={m.contacto_id ?? m.texto} p="sm" bg="var(--mantine-color-enlace-0)" radius="md">
          <Text size="xs" c="dimmed" mb={2}>
            Para {m.nombre ?? `contacto #${m.contacto_id}`} · variante {(m.variante ?? 0) + 1}
          </Text>
          <Text size="sm" className="texto-mensaje">
            {m.texto}
          </Text>
        </Paper>
      ))}
      {p.errores.length > 0 && (
        <Alert color="red" variant="light" title="Contactos que no recibirían un mensaje correcto">
          {p.errores.slice(0, 8).map((e) => (
            <Text size="xs" key={e.contacto_id ?? e.nombre}>
              {e.nombre ?? "Contacto sin nombre"}: {e.errores.map((x) => `${textoCampo(x.campo)}: ${x.motivo}`).join("; ")}
            </Text>
          ))}
          {p.errores.length > 8 && <Text size="xs">y {p.errores.length - 8} más…</Text>}
        </Alert>
      )}
    </Stack>
  );
}

function Editor({ plantilla, alTerminar }: { plantilla: PlantillaSalida | null; alTerminar: () => void }) {
  const cliente = useQueryClient();
  const [nombre, setNombre] = useState(plantilla?.nombre ?? "");
  const [variantes, setVariantes] = useState<string[]>(plantilla?.variantes ?? ["{saludo} {nombre}, le escribimos de Financiera Enlace: tiene disponible un crédito por {monto}. ¿Le interesa conocer los detalles?"]);
  const [cartera, setCartera] = useState<string | null>(null);
  const carteras = useCarteras();
  useEffect(() => {
    if (!cartera && carteras.data?.length) setCartera(String(carteras.data[0].id));
  }, [carteras.data, cartera]);
  const guardar = useMutation({
    mutationFn: () => {
      const limpias = variantes.map((v) => v.trim()).filter(Boolean);
      return plantilla
        ? datos(api.PATCH("/api/plantillas/{plantilla_id}", { params: { path: { plantilla_id: plantilla.id } }, body: { nombre, variantes: limpias } }))
        : datos(api.POST("/api/plantillas", { body: { nombre, variantes: limpias } }));
    },
    onSuccess: () => {
      notifications.show({ color: "green", message: "Plantilla guardada." });
      cliente.invalidateQueries({ queryKey: ["plantillas"] });
      alTerminar();
    },
    onError: (e) => notifications.show({ color: "red", title: "No se guardó la plantilla", message: mensajeDeError(e) }),
  });

  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: 7 }}>
        <Stack>
          <TextInput label="Nombre" required value={nombre} onChange={(e) => setNombre(e.currentTarget.value)} />
          <Text size="xs" c="dimmed">
            Campos: {CAMPOS.join(" ")} y cualquier columna de tu cartera entre llaves. Cada contacto recibe una variante al azar.
          </Text>
          {variantes.map((v, i) => (
            <Group key={i} align="flex-start" wrap="nowrap" gap="xs">
              <Textarea
                style={{ flex: 1 }}
                label={`Variante ${i + 1}`}
                autosize
                minRows={3}
                value={v}
                onChange={(e) => {
                  const copia = [...variantes];
                  copia[i] = e.currentTarget.value;
                  setVariantes(copia);
                }}
              />
              {variantes.length > 1 && (
                <Tooltip label="Quitar variante">
                  <ActionIcon variant="subtle" color="red" mt={28} onClick={() => setVariantes(variantes.filter((_, j) => j !== i))} aria-label={`Quitar variante ${i + 1}`}>
                    <IconTrash size={16} />
                  </ActionIcon>
                </Tooltip>
              )}
            </Group>
          ))}
          <Group justify="space-between">
            <Button variant="light" leftSection={<IconPlus size={16} />} onClick={() => setVariantes([...variantes, ""])} disabled={variantes.length >= 20}>
              Agregar variante
            </Button>
            <Group>
              <Button variant="default" onClick={alTerminar}>
                Cancelar
              </Button>
              <Button onClick={() => guardar.mutate()} loading={guardar.isPending} disabled={!nombre.trim() || !variantes.some((v) => v.trim())}>
                Guardar plantilla
              </Button>
            </Group>
          </Group>
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 5 }}>
        <Title order={4} size="h6" mb="xs">
          Vista previa
        </Title>
        <Select
          label="Con contactos de"
          data={(carteras.data ?? []).map((c) => ({ value: String(c.id), label: c.nombre }))}
          value={cartera}
          onChange={setCartera}
          mb="sm"
          placeholder="Elige una cartera"
        />
        <VistaPrevia variantes={variantes} carteraId={cartera ? Number(cartera) : null} />
      </Grid.Col>
    </Grid>
  );
}

export default function Plantillas() {
  const cliente = useQueryClient();
  const [editando, setEditando] = useState<PlantillaSalida | "nueva" | null>(null);
  const q = useQuery({ queryKey: ["plantillas"], queryFn: () => datos(api.GET("/api/plantillas")) });
  const confirmar = useConfirmar();
  const borrar = useMutation({
    mutationFn: (id: number) => datos(api.DELETE("/api/plantillas/{plantilla_id}", { params: { path: { plantilla_id: id } } })),
    onSuccess: () => cliente.invalidateQueries({ queryKey: ["plantillas"] }),
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });
  const plantillas = useMemo(() => q.data ?? [], [q.data]);
  return (
    <>
      <Group justify="flex-end" mb="sm">
        <Button leftSection={<IconPlus size={18} />} onClick={() => setEditando("nueva")} data-testid="nueva-plantilla">
          Nueva plantilla
        </Button>
      </Group>
      {q.isLoading ? (
        <Cargando />
      ) : q.error ? (
        <ErrorCarga error={q.error} />
      ) : plantillas.length === 0 ? (
        <Vacio titulo="Aún no hay plantillas">Crea una plantilla con varias variantes para que tus mensajes no sean idénticos.</Vacio>
      ) : (
        <Card p={0}>
          <Table.ScrollContainer minWidth={700}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Nombre</Table.Th>
                  <Table.Th>Variantes</Table.Th>
                  <Table.Th>Campos</Table.Th>
                  <Table.Th>Primera variante</Table.Th>
                  <Table.Th aria-label="Acciones" />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {plantillas.map((p) => (
                  <Table.Tr key={p.id}>
                    <Table.Td fw={500}>
                      {p.nombre} {!p.activa && <Badge size="xs" color="gray">Inactiva</Badge>}
                    </Table.Td>
                    <Table.Td className="num">{p.variantes.length}</Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {(p.campos ?? []).map((c) => (
                          <Badge key={c} size="xs" variant="outline">
                            {c}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td maw={380}>
                      <Text size="sm" lineClamp={2} className="texto-mensaje">
                        {p.variantes[0]}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <ActionIcon variant="subtle" onClick={() => setEditando(p)} aria-label={`Editar ${p.nombre}`}>
                          <IconEdit size={16} />
                        </ActionIcon>
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          onClick={async () =>
                            (await confirmar({
                              titulo: `¿Eliminar la plantilla «${p.nombre}»?`,
                              mensaje: "Ya no se podrá elegir para campañas nuevas. Las campañas que ya la usaron conservan sus mensajes.",
                              confirmar: "Sí, eliminar la plantilla",
                              volver: "No, conservarla",
                              peligro: true,
                            })) && borrar.mutate(p.id)
                          }
                          aria-label={`Eliminar ${p.nombre}`}
                        >
                          <IconTrash size={16} />
                        </ActionIcon>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <Modal opened={editando !== null} onClose={() => setEditando(null)} title={editando === "nueva" ? "Nueva plantilla" : "Editar plantilla"} size="80rem">
        {editando !== null && <Editor plantilla={editando === "nueva" ? null : editando} alTerminar={() => setEditando(null)} />}
      </Modal>
    </>
  );
}
