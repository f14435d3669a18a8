// Inbox: conversations with unread badges, the message thread (always rendered as text) and the reply box.
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  ActionIcon,
  Anchor,
  Alert,
  Badge,
  Box,
  Card,
  Grid,
  Group,
  Paper,
  ScrollArea,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
  Tooltip,
  UnstyledButton,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconCheck, IconChecks, IconClock, IconSearch, IconSend, IconX } from "@tabler/icons-react";
import { api, datos, mensajeDeError } from "../../api/cliente";
import type { ConversacionSalida, MensajeConversacion } from "../../api/esquema";
import { useUsuario } from "../../auth/sesion";
import { useEvento } from "../../tiempo_real/socket";
import { Cargando, Encabezado, ErrorCarga, ESTADOS_CONTACTO, Insignia, Vacio } from "../../componentes/comunes";
import { fmtFechaHora, fmtHora, fmtRelativo, fmtTelefono } from "../../formato";
import { Formulario } from "../../componentes/Formulario";
import { coincide } from "../../buscar";
import { useMediaQuery } from "@mantine/hooks";
import { Link } from "react-router";
import { IconArrowLeft } from "@tabler/icons-react";

type Conversacion = ConversacionSalida;
type MensajeHilo = MensajeConversacion;

function momentoDe(m: MensajeHilo): string {
  return m.momento;
}

function Palomitas({ estado }: { estado?: string | null }) {
  if (!estado) return null;
  if (estado === "leido") return <IconChecks size={14} color="var(--mantine-color-blue-6)" aria-label="Leído" />;
  if (estado === "entregado") return <IconChecks size={14} aria-label="Entregado" />;
  if (estado === "enviado") return <IconCheck size={14} aria-label="Enviado" />;
  if (estado === "pendiente" || estado === "enviando") return <IconClock size={14} aria-label="Pendiente" />;
  if (estado === "fallido" || estado === "cancelado" || estado === "suprimido")
    return <IconX size={14} color="var(--mantine-color-red-6)" aria-label={estado} />;
  return null;
}

/** One message bubble; the body is a React text node, so any HTML in it shows as text. */
function Burbuja({ m }: { m: MensajeHilo }) {
  const saliente = m.direccion === "saliente";
  const cuerpo = m.borrado_at ? "" : m.texto ?? "";
  return (
    <Group justify={saliente ? "flex-end" : "flex-start"} data-testid={saliente ? "mensaje-saliente" : "mensaje-entrante"}>
      <Paper
        px="md"
        py={8}
        radius="lg"
        maw="75%"
        withBorder={!saliente}
        bg={saliente ? "var(--mantine-color-enlace-0)" : "white"}
        style={{ borderBottomRightRadius: saliente ? 4 : undefined, borderBottomLeftRadius: saliente ? undefined : 4 }}
      >
        {m.tipo && m.tipo !== "texto" && (
          <Badge size="xs" variant="outline" mb={4}>
            {m.tipo}
          </Badge>
        )}
        <Text size="sm" className="texto-mensaje">
          {m.borrado_at ? <i>Mensaje eliminado</i> : cuerpo || (m.tipo && m.tipo !== "texto" ? "" : "(sin texto)")}
        </Text>
        {m.medio && typeof m.medio.caption === "string" && m.medio.caption !== cuerpo && (
          <Text size="sm" className="texto-mensaje">
            {m.medio.caption}
          </Text>
        )}
        <Group gap={4} justify="flex-end" mt={2}>
          {m.editado_at && (
            <Text size="xs" c="dimmed">
              editado
            </Text>
          )}
          {m.origen && m.origen !== "respuesta" && saliente && (
            <Text size="xs" c="dimmed">
              {m.origen === "campana" ? "campaña" : m.origen === "telefono" ? "desde el teléfono" : m.origen}
            </Text>
          )}
          <Text size="xs" c="dimmed" title={fmtFechaHora(momentoDe(m))}>
            {fmtHora(momentoDe(m))}
          </Text>
          {saliente && <Palomitas estado={m.estado} />}
        </Group>
      </Paper>
    </Group>
  );
}

function Hilo({ conversacion, soloLectura, nombreAgente }: { conversacion: Conversacion; soloLectura: boolean; nombreAgente?: string }) {
  const cliente = useQueryClient();
  const [texto, setTexto] = useState("");
  const [enviando, setEnviando] = useState(false);
  const fondo = useRef<HTMLDivElement>(null);
  const id = conversacion.contacto_id;
  const q = useQuery({
    queryKey: ["hilo", id],
    queryFn: () => datos(api.GET("/api/conversaciones/{contacto_id}/mensajes", { params: { path: { contacto_id: id }, query: { limite: 200 } } })),
  });
  const mensajes = useMemo(
    () => [...(q.data ?? [])].sort((a, b) => momentoDe(a).localeCompare(momentoDe(b))),
    [q.data],
  );

  useEffect(() => {
    fondo.current?.scrollIntoView({ block: "end" });
  }, [mensajes.length]);

  useEffect(() => {
    // Opening a conversation marks it read; failing to do so is harmless.
    if (!soloLectura && (conversacion.no_leidos ?? 0) > 0) {
      datos(api.POST("/api/conversaciones/{contacto_id}/leida", { params: { path: { contacto_id: id } } }))
        .then(() => cliente.invalidateQueries({ queryKey: ["conversaciones"] }))
        .catch(() => undefined);
    }
  }, [id, conversacion.no_leidos, soloLectura, cliente]);

  async function responder(e: FormEvent) {
    e.preventDefault();
    const cuerpo = texto.trim();
    if (!cuerpo) return;
    setEnviando(true);
    try {
      await datos(api.POST("/api/conversaciones/{contacto_id}/responder", { params: { path: { contacto_id: id } }, body: { texto: cuerpo } }));
      setTexto("");
      await cliente.invalidateQueries({ queryKey: ["hilo", id] });
      cliente.invalidateQueries({ queryKey: ["conversaciones"] });
    } catch (err) {
      notifications.show({ color: "red", title: "No se envió la respuesta", message: mensajeDeError(err) });
    } finally {
      setEnviando(false);
    }
  }

  return (
    <Card p={0} h="100%" style={{ display: "flex", flexDirection: "column" }}>
      <Group px="md" py="sm" justify="space-between" style={{ borderBottom: "1px solid var(--mantine-color-gray-3)" }}>
        <div>
          <Title order={3} size="h5" data-testid="hilo-nombre">
            {conversacion.nombre || fmtTelefono(conversacion.telefono)}
          </Title>
          <Text size="xs" c="dimmed" className="num">
            {fmtTelefono(conversacion.telefono)}
            {nombreAgente ? ` · ${nombreAgente}` : ""}
          </Text>
        </div>
        <Insignia mapa={ESTADOS_CONTACTO} valor={conversacion.estado_contacto} />
      </Group>
      <ScrollArea style={{ flex: 1 }} px="md" py="sm" bg="gray.0" aria-label="Mensajes de la conversación">
        {q.isLoading ? (
          <Cargando />
        ) : q.error ? (
          <ErrorCarga error={q.error} />
        ) : mensajes.length === 0 ? (
          <Vacio titulo="Sin mensajes" />
        ) : (
          <Stack gap={6} role="log" aria-live="polite">
            {mensajes.map((m) => (
              <Burbuja key={`${m.direccion}-${m.id}`} m={m} />
            ))}
            <div ref={fondo} />
          </Stack>
        )}
      </ScrollArea>
      {soloLectura ? (
        <Text size="xs" c="dimmed" p="sm" ta="center">
          Vista de supervisión: solo lectura.
        </Text>
      ) : conversacion.estado_contacto === "baja" ? (
        <Alert color="orange" m="sm">
          Este contacto pidió no recibir mensajes. No se le puede escribir.
        </Alert>
      ) : (
        <Formulario alEnviar={responder}>
          <Group p="sm" gap="sm" align="flex-end" wrap="nowrap" style={{ borderTop: "1px solid var(--mantine-color-gray-3)" }}>
            <Textarea
              style={{ flex: 1 }}
              placeholder="Escribe una respuesta…"
              autosize
              minRows={1}
              maxRows={5}
              value={texto}
              onChange={(e) => setTexto(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.shiftKey) {
                  e.preventDefault();
                  e.currentTarget.form?.requestSubmit();
                }
              }}
              aria-label="Respuesta"
            />
            <Tooltip label="Enviar (Enter)">
              <ActionIcon type="submit" size="xl" loading={enviando} disabled={!texto.trim()} aria-label="Enviar respuesta">
                <IconSend size={20} />
              </ActionIcon>
            </Tooltip>
          </Group>
        </Formulario>
      )}
    </Card>
  );
}

export default function Bandeja() {
  const usuario = useUsuario();
  const soloLectura = usuario.rol !== "agente";
  const { contactoId } = useParams();
  const navegar = useNavigate();
  const cliente = useQueryClient();
  const [buscar, setBuscar] = useState("");
  const q = useQuery({
    queryKey: ["conversaciones"],
    queryFn: () => datos(api.GET("/api/conversaciones", { params: { query: { limite: 200 } } })),
    refetchInterval: 60_000,
  });

  // New messages move conversations to the top and refresh the open thread.
  const refrescar = (d: { contacto_id?: number | null }) => {
    cliente.invalidateQueries({ queryKey: ["conversaciones"] });
    if (d?.contacto_id) cliente.invalidateQueries({ queryKey: ["hilo", d.contacto_id] });
  };
  useEvento("mensaje.recibido", refrescar);
  useEvento("mensaje.enviado", refrescar);
  useEvento("mensaje.estado", refrescar);
  useEvento("contacto.baja", refrescar);

  // Names without accents, numbers by their digits in any spacing («55 1234»).
  const conversaciones = useMemo(() => (q.data ?? []).filter((c) => coincide(buscar, [c.nombre], [c.telefono])), [q.data, buscar]);
  // On a phone the open thread takes the whole screen, with the reply box in view; the list is one tap back.
  const movil = useMediaQuery("(max-width: 62em)") ?? false;
  const agentes = useQuery({ queryKey: ["agentes"], queryFn: () => datos(api.GET("/api/agentes")), enabled: soloLectura });
  const nombreAgente = new Map((agentes.data ?? []).map((a) => [a.id, a.nombre]));
  const elegida = (q.data ?? []).find((c) => String(c.contacto_id) === contactoId) ?? null;
  const totalNoLeidos = (q.data ?? []).reduce((s, c) => s + (c.no_leidos ?? 0), 0);

  if (movil && elegida) {
    return (
      <Stack gap="xs" h="calc(100dvh - 56px - 2 * var(--mantine-spacing-md))">
        <Anchor component={Link} to="/bandeja" size="sm" style={{ display: "inline-flex", alignItems: "center", gap: 4 }}>
          <IconArrowLeft size={14} aria-hidden /> {soloLectura ? "Conversaciones" : "Bandeja"}
        </Anchor>
        <Box style={{ flex: 1, minHeight: 0 }}>
          <Hilo conversacion={elegida} soloLectura={soloLectura} nombreAgente={soloLectura ? nombreAgente.get(elegida.agente_id) : undefined} />
        </Box>
      </Stack>
    );
  }

  return (
    <>
      <Encabezado
        titulo={soloLectura ? "Conversaciones" : "Bandeja"}
        descripcion={soloLectura ? "Conversaciones de los agentes que supervisas." : "Respuestas de tus contactos. Contesta 1 a 1 desde aquí."}
        acciones={totalNoLeidos > 0 ? <Badge size="lg" color="red">{totalNoLeidos} sin leer</Badge> : undefined}
      />
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Card p={0}>
            <Box p="sm">
              <TextInput
                leftSection={<IconSearch size={16} />}
                placeholder="Buscar nombre o teléfono"
                value={buscar}
                onChange={(e) => setBuscar(e.currentTarget.value)}
                aria-label="Buscar conversación"
              />
            </Box>
            <ScrollArea h="calc(100vh - 260px)" mih={300}>
              {q.isLoading ? (
                <Cargando />
              ) : q.error ? (
                <Box p="sm">
                  <ErrorCarga error={q.error} />
                </Box>
              ) : conversaciones.length === 0 ? (
                <Vacio titulo="Sin conversaciones">Cuando tus contactos respondan, sus mensajes aparecerán aquí.</Vacio>
              ) : (
                <nav aria-label="Conversaciones">
                  {conversaciones.map((c) => {
                    const activa = String(c.contacto_id) === contactoId;
                    return (
                      <UnstyledButton
                        key={c.contacto_id}
                        onClick={() => navegar(`/bandeja/${c.contacto_id}`)}
                        w="100%"
                        px="md"
                        py="sm"
                        aria-current={activa ? "true" : undefined}
                        data-testid="conversacion"
                        style={{
                          borderTop: "1px solid var(--mantine-color-gray-2)",
                          background: activa ? "var(--mantine-color-enlace-0)" : undefined,
                        }}
                      >
                        <Group justify="space-between" wrap="nowrap" gap="xs">
                          <Text fw={(c.no_leidos ?? 0) > 0 ? 700 : 500} size="sm" truncate>
                            {c.nombre || fmtTelefono(c.telefono)}
                          </Text>
                          <Text size="xs" c="dimmed" style={{ flexShrink: 0 }}>
                            {fmtRelativo(c.ultimo_at)}
                          </Text>
                        </Group>
                        <Group justify="space-between" wrap="nowrap" gap="xs">
                          <Text size="xs" c="dimmed" truncate>
                            {c.ultimo_direccion === "saliente" ? (soloLectura ? "Agente: " : "Tú: ") : ""}
                            {c.ultimo_texto ?? ""}
                          </Text>
                          {(c.no_leidos ?? 0) > 0 && (
                            <Badge size="sm" circle color="red" aria-label={`${c.no_leidos} sin leer`}>
                              {c.no_leidos}
                            </Badge>
                          )}
                        </Group>
                        {soloLectura && (
                          <Text size="xs" c="dimmed">
                            {nombreAgente.get(c.agente_id) ?? `Agente #${c.agente_id}`}
                          </Text>
                        )}
                      </UnstyledButton>
                    );
                  })}
                </nav>
              )}
            </ScrollArea>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }} h="calc(100vh - 170px)" mih={420}>
          {elegida ? (
            <Hilo conversacion={elegida} soloLectura={soloLectura} nombreAgente={soloLectura ? nombreAgente.get(elegida.agente_id) : undefined} />
          ) : (
            <Card h="100%">
              <Vacio titulo="Elige una conversación">Selecciona un contacto de la lista para ver sus mensajes.</Vacio>
            </Card>
          )}
        </Grid.Col>
      </Grid>
    </>
  );
}
