// Admin: CRM webhooks — register URLs and events, see the signed delivery log, test and replay deliveries.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  CopyButton,
  Drawer,
  Group,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Tooltip,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconPlus, IconRefresh, IconSend, IconTrash } from "@tabler/icons-react";
import { api, datos, mensajeDeError } from "../../api/cliente";
import type { SuscripcionSalida } from "../../api/esquema";
import { Cargando, Encabezado, ErrorCarga, Vacio } from "../../componentes/comunes";
import { fmtFechaHora } from "../../formato";
import { Formulario } from "../../componentes/Formulario";
import { textoEvento } from "../../diccionario";
import { useConfirmar } from "../../componentes/Confirmar";

const EVENTOS: { valor: string; texto: string }[] = [
  { valor: "mensaje.enviado", texto: "Mensaje enviado" },
  { valor: "mensaje.estado", texto: "Cambio de estado (entregado, leído, fallido)" },
  { valor: "mensaje.recibido", texto: "Respuesta recibida" },
  { valor: "contacto.baja", texto: "Baja de un contacto" },
  { valor: "sesion.estado", texto: "Estado de la sesión de WhatsApp" },
  { valor: "envio.parada", texto: "Parada de seguridad" },
];

const ESTADOS_ENTREGA: Record<string, { color: string; texto: string }> = {
  pendiente: { color: "yellow", texto: "Pendiente" },
  entregada: { color: "green", texto: "Entregada" },
  agotada: { color: "red", texto: "Reintentos agotados" },
};

function Entregas({ s }: { s: SuscripcionSalida }) {
  const cliente = useQueryClient();
  const q = useQuery({
    queryKey: ["webhook-entregas", s.id],
    queryFn: () => datos(api.GET("/api/webhooks/{suscripcion_id}/entregas", { params: { path: { suscripcion_id: s.id }, query: { limite: 100 } } })),
    refetchInterval: 10_000,
  });
  const reenviar = useMutation({
    mutationFn: (id: number) => datos(api.POST("/api/webhooks/entregas/{entrega_id}/reenviar", { params: { path: { entrega_id: id } } })),
    onSuccess: () => {
      notifications.show({ color: "green", message: "Entrega puesta en cola de nuevo." });
      cliente.invalidateQueries({ queryKey: ["webhook-entregas", s.id] });
    },
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });
  if (q.isLoading) return <Cargando />;
  if (q.error) return <ErrorCarga error={q.error} />;
  if (!q.data?.length) return <Vacio titulo="Sin entregas todavía">Usa «Probar» para enviar un evento de prueba.</Vacio>;
  return (
    <Table.ScrollContainer minWidth={700}>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Fecha</Table.Th>
            <Table.Th>Evento</Table.Th>
            <Table.Th>Estado</Table.Th>
            <Table.Th ta="right">Intentos</Table.Th>
            <Table.Th>Última respuesta</Table.Th>
            <Table.Th aria-label="Acciones" />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {q.data.map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td style={{ whiteSpace: "nowrap" }}>{fmtFechaHora(e.created_at)}</Table.Td>
              <Table.Td data-evento={e.evento}>{textoEvento(e.evento)}</Table.Td>
              <Table.Td>
                <Badge variant="light" color={ESTADOS_ENTREGA[e.estado]?.color ?? "gray"}>
                  {ESTADOS_ENTREGA[e.estado]?.texto ?? e.estado}
                </Badge>
                {e.proximo_intento_at && e.estado === "pendiente" && (
                  <Text size="xs" c="dimmed">
                    Próximo intento {fmtFechaHora(e.proximo_intento_at)}
                  </Text>
                )}
              </Table.Td>
              <Table.Td ta="right" className="num">
                {e.intentos}
              </Table.Td>
              <Table.Td>
                <Text size="sm">{e.ultimo_status ? `HTTP ${e.ultimo_status}` : "—"}</Text>
                {e.ultimo_error && (
                  <Text size="xs" c="red" lineClamp={2}>
                    {e.ultimo_error}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Button size="xs" variant="subtle" leftSection={<IconRefresh size={14} />} onClick={() => reenviar.mutate(e.id)}>
                  Reenviar
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export default function Webhooks() {
  const cliente = useQueryClient();
  const [url, setUrl] = useState("");
  const [descripcion, setDescripcion] = useState("");
  const [eventos, setEventos] = useState<string[]>(["mensaje.enviado", "mensaje.estado", "mensaje.recibido", "contacto.baja"]);
  const [secreto, setSecreto] = useState<string | null>(null);
  const [viendo, setViendo] = useState<SuscripcionSalida | null>(null);
  const q = useQuery({ queryKey: ["webhooks"], queryFn: () => datos(api.GET("/api/webhooks")) });

  const crear = useMutation({
    mutationFn: () => datos(api.POST("/api/webhooks", { body: { url, eventos, descripcion: descripcion || null } })),
    onSuccess: (s) => {
      setSecreto(s.secreto);
      setUrl("");
      setDescripcion("");
      cliente.invalidateQueries({ queryKey: ["webhooks"] });
    },
    onError: (e) => notifications.show({ color: "red", title: "No se pudo registrar", message: mensajeDeError(e) }),
  });
  const activar = useMutation({
    mutationFn: ({ id, activa }: { id: number; activa: boolean }) =>
      datos(api.PATCH("/api/webhooks/{suscripcion_id}", { params: { path: { suscripcion_id: id } }, body: { activa } })),
    onSuccess: () => cliente.invalidateQueries({ queryKey: ["webhooks"] }),
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });
  const probar = useMutation({
    mutationFn: (id: number) => datos(api.POST("/api/webhooks/{suscripcion_id}/probar", { params: { path: { suscripcion_id: id } } })),
    onSuccess: () => notifications.show({ color: "green", message: "Evento de prueba en camino." }),
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });
  const confirmar = useConfirmar();
  const borrar = useMutation({
    mutationFn: (id: number) => datos(api.DELETE("/api/webhooks/{suscripcion_id}", { params: { path: { suscripcion_id: id } } })),
    onSuccess: () => cliente.invalidateQueries({ queryKey: ["webhooks"] }),
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });

  return (
    <>
      <Encabezado
        titulo="Webhooks del CRM"
        descripcion="Enlace avisa al CRM de cada hecho. Cada entrega va firmada con HMAC-SHA256 (cabecera X-Enlace-Firma) y se reintenta si falla."
      />
      <Stack>
        <Card>
          <Formulario
            alEnviar={(e) => {
              e.preventDefault();
              crear.mutate();
            }}
          >
            <Stack>
              <Group grow align="flex-end">
                <TextInput label="URL del CRM" placeholder="https://crm.empresa.mx/enlace" required value={url} onChange={(e) => setUrl(e.currentTarget.value)} />
                <TextInput label="Descripción" placeholder="CRM producción" value={descripcion} onChange={(e) => setDescripcion(e.currentTarget.value)} />
              </Group>
              <Checkbox.Group label="Eventos" value={eventos} onChange={setEventos}>
                <Group mt={6} gap="lg">
                  {EVENTOS.map((e) => (
                    <Checkbox key={e.valor} value={e.valor} label={e.texto} />
                  ))}
                </Group>
              </Checkbox.Group>
              <Group justify="flex-end">
                <Button type="submit" leftSection={<IconPlus size={18} />} loading={crear.isPending} disabled={!eventos.length}>
                  Registrar webhook
                </Button>
              </Group>
            </Stack>
          </Formulario>
          {secreto && (
            <Alert color="green" mt="md" title="Secreto de firma: cópialo ahora, no se volverá a mostrar" withCloseButton onClose={() => setSecreto(null)}>
              <Group gap="sm" wrap="nowrap">
                <Code style={{ wordBreak: "break-all" }}>{secreto}</Code>
                <CopyButton value={secreto}>
                  {({ copied, copy }) => (
                    <Button size="xs" variant="light" onClick={copy}>
                      {copied ? "Copiado" : "Copiar"}
                    </Button>
                  )}
                </CopyButton>
              </Group>
            </Alert>
          )}
        </Card>
        {q.isLoading ? (
          <Cargando />
        ) : q.error ? (
          <ErrorCarga error={q.error} />
        ) : !q.data?.length ? (
          <Vacio titulo="Sin webhooks registrados" />
        ) : (
          <Card p={0}>
            <Table.ScrollContainer minWidth={800}>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>URL</Table.Th>
                    <Table.Th>Eventos</Table.Th>
                    <Table.Th>Activo</Table.Th>
                    <Table.Th>Alta</Table.Th>
                    <Table.Th aria-label="Acciones" />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {q.data.map((s) => (
                    <Table.Tr key={s.id}>
                      <Table.Td>
                        <Text size="sm" ff="monospace" style={{ wordBreak: "break-all" }}>
                          {s.url}
                        </Text>
                        {s.descripcion && (
                          <Text size="xs" c="dimmed">
                            {s.descripcion}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4}>
                          {s.eventos.map((e) => (
                            <Badge key={e} size="xs" variant="outline">
                              {e}
                            </Badge>
                          ))}
                        </Group>
                      </Table.Td>
                      <Table.Td>
                        <Switch checked={s.activa} onChange={(e) => activar.mutate({ id: s.id, activa: e.currentTarget.checked })} aria-label={`Activar ${s.url}`} />
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>{fmtFechaHora(s.created_at)}</Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap">
                          <Button size="xs" variant="light" onClick={() => setViendo(s)}>
                            Entregas
                          </Button>
                          <Tooltip label="Enviar evento de prueba">
                            <Button size="xs" variant="subtle" leftSection={<IconSend size={14} />} onClick={() => probar.mutate(s.id)}>
                              Probar
                            </Button>
                          </Tooltip>
                          <Tooltip label="Eliminar">
                            <Button
                              size="xs"
                              variant="subtle"
                              color="red"
                              onClick={async () =>
                                (await confirmar({
                                  titulo: "¿Eliminar este webhook?",
                                  mensaje: `El CRM en ${s.url} deja de recibir eventos y se pierde su historial de entregas. No se puede deshacer.`,
                                  confirmar: "Sí, eliminar el webhook",
                                  volver: "No, conservarlo",
                                  peligro: true,
                                })) && borrar.mutate(s.id)
                              }
                              aria-label={`Eliminar ${s.url}`}
                            >
                              <IconTrash size={14} />
                            </Button>
                          </Tooltip>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Card>
        )}
      </Stack>
      <Drawer opened={viendo !== null} onClose={() => setViendo(null)} title={viendo ? `Entregas a ${viendo.url}` : ""} position="right" size="xl">
        {viendo && <Entregas s={viendo} />}
      </Drawer>
    </>
  );
}
