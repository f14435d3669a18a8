// One campaign: launch (with the preview's errors), pause, resume, cancel; live progress, ETA and safety stops.
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Anchor, Button, Card, Grid, Group, List, Modal, Progress, RingProgress, SimpleGrid, Stack, Text, Title, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconAlertOctagon, IconArrowLeft, IconClockPause, IconPlayerPause, IconPlayerPlay, IconRocket, IconX } from "@tabler/icons-react";
import { api, datos, mensajeDeError } from "../../api/cliente";
import type { CampanaEstado, CampanaSalida } from "../../api/esquema";
import { useUsuario } from "../../auth/sesion";
import { useEvento } from "../../tiempo_real/socket";
import { Cargando, Cifra, Encabezado, ErrorCarga, ESTADOS_CAMPANA, Insignia } from "../../componentes/comunes";
import { fmtDuracion, fmtFechaHora, fmtNumero, fmtPorcentaje, fmtTelefono, hoyISO } from "../../formato";
import { plural, textoCampo } from "../../diccionario";
import { useConfirmar } from "../../componentes/Confirmar";
import { useAhora } from "../../reloj";
import { VistaPrevia } from "./Plantillas";
import { useProgresoCampanas } from "./Campanas";
import { usePerfiles, usePlantillas } from "./datos";

function Lanzar({ campana, alTerminar }: { campana: CampanaSalida; alTerminar: () => void }) {
  const cliente = useQueryClient();
  const navegar = useNavigate();
  // The server runs the launch's own selection and rendering without writing: these counts are what gets queued.
  const previa = useQuery({
    queryKey: ["previa-lanzamiento", campana.id, campana.plantilla_id],
    queryFn: () =>
      datos(api.GET("/api/campana/{campana_id}/previa-lanzamiento", { params: { path: { campana_id: campana.id }, query: { plantilla_id: campana.plantilla_id ?? undefined } } })),
    staleTime: 0,
  });
  const lanzar = useMutation({
    mutationFn: (omitir: boolean) =>
      datos(api.POST("/api/campana/iniciar", { body: { campanaId: campana.id, plantillaId: campana.plantilla_id, omitirErrores: omitir } })),
    onSuccess: (r) => {
      notifications.show({
        color: "green",
        title: "Campaña lanzada",
        message: `${plural(r.mensajes, "mensaje en cola", "mensajes en cola")}${r.omitidos?.length ? `; ${plural(r.omitidos.length, "contacto quedó fuera", "contactos quedaron fuera")} por datos faltantes` : ""}.`,
      });
      cliente.invalidateQueries({ queryKey: ["campanas"] });
      cliente.invalidateQueries({ queryKey: ["campana-estado", campana.id] });
      alTerminar();
    },
    onError: (e) => {
      notifications.show({ color: "red", title: "No se pudo lanzar", message: mensajeDeError(e) });
      previa.refetch();
    },
  });
  const p = previa.data;
  return (
    <Stack>
      <Text size="sm">
        Al lanzar, Enlace prepara un mensaje por contacto y los envía al ritmo del perfil, solo en horario permitido y respetando la lista de supresión.
      </Text>
      {previa.isLoading ? (
        <Cargando texto="Revisando la cartera…" />
      ) : previa.error ? (
        <ErrorCarga error={previa.error} titulo="No se puede lanzar" />
      ) : p ? (
        <Alert color={p.incompletos ? "yellow" : "green"} variant="light" data-testid="resumen-lanzamiento" title={`${plural(p.listos, "mensaje listo", "mensajes listos")} para enviar`}>
          <Stack gap={6}>
            {p.incompletos > 0 && (
              <Text size="sm">
                {plural(p.incompletos, "contacto no tiene", "contactos no tienen")} los datos que pide la plantilla y no recibirían el mensaje:
              </Text>
            )}
            {p.incompletos > 0 && (
              <List size="sm" spacing={2} data-testid="contactos-incompletos">
                {p.errores.slice(0, 8).map((e) => (
                  <List.Item key={e.contacto_id}>
                    <b>{e.nombre ?? "Sin nombre"}</b> ({fmtTelefono(e.telefono)}): {e.campos.map((c) => `${textoCampo(c.campo)}: ${c.motivo}`).join("; ")}
                  </List.Item>
                ))}
                {p.errores.length > 8 && <List.Item>y {plural(p.errores.length - 8, "más", "más")}</List.Item>}
              </List>
            )}
            {p.no_interesados > 0 && (
              <Text size="sm">
                {plural(p.no_interesados, "contacto dijo", "contactos dijeron")} «no me interesa» hace poco: no reciben campañas nuevas por
                ahora y no cuentan en los listos.
              </Text>
            )}
            {p.en_supresion > 0 && (
              <Text size="sm">
                {plural(p.en_supresion, "número está", "números están")} en la lista de supresión: se registran como suprimidos y no se les envía nada.
              </Text>
            )}
          </Stack>
        </Alert>
      ) : null}
      <VistaPrevia plantillaId={campana.plantilla_id} carteraId={campana.cartera_id} />
      <Group justify="flex-end" wrap="wrap">
        <Button variant="default" onClick={alTerminar}>
          Volver sin lanzar
        </Button>
        {p && p.incompletos > 0 && (
          <Button variant="light" onClick={() => navegar(`/carteras?cartera=${campana.cartera_id ?? ""}`)} data-testid="corregir-cartera">
            Corregir la cartera
          </Button>
        )}
        <Button
          leftSection={<IconRocket size={18} aria-hidden />}
          onClick={() => lanzar.mutate(!!p && p.incompletos > 0)}
          loading={lanzar.isPending}
          disabled={!p || p.listos === 0}
          data-testid="confirmar-lanzar"
        >
          {p && p.incompletos > 0 ? `Enviar solo a los ${fmtNumero(p.listos)} completos` : `Lanzar a ${p ? plural(p.listos, "contacto", "contactos") : "…"}`}
        </Button>
      </Group>
    </Stack>
  );
}

function Embudo({ e }: { e: CampanaEstado }) {
  const total = e.total || 1;
  const filas = [
    { t: "Enviados", v: e.enviados, c: "cyan" },
    { t: "Entregados", v: e.entregados, c: "teal" },
    { t: "Leídos", v: e.leidos, c: "green" },
    { t: "Respondieron", v: e.respondidos, c: "orange" },
  ];
  return (
    <Stack gap="xs">
      {filas.map((f) => (
        <div key={f.t}>
          <Group justify="space-between">
            <Text size="sm">{f.t}</Text>
            <Text size="sm" className="num">
              {fmtNumero(f.v)} · {fmtPorcentaje(f.v / total)}
            </Text>
          </Group>
          <Progress value={(f.v / total) * 100} color={f.c} size="md" aria-label={f.t} />
        </div>
      ))}
    </Stack>
  );
}

export default function CampanaDetalle() {
  const { id } = useParams();
  const campanaId = Number(id);
  const usuario = useUsuario();
  const cliente = useQueryClient();
  const [lanzando, setLanzando] = useState(false);
  const confirmar = useConfirmar();
  const ahora = useAhora(5_000);
  useProgresoCampanas();

  const campanas = useQuery({ queryKey: ["campanas"], queryFn: () => datos(api.GET("/api/campanas")) });
  const campana = campanas.data?.find((c) => c.id === campanaId);
  const estado = useQuery({
    queryKey: ["campana-estado", campanaId],
    queryFn: () => datos(api.GET("/api/campana/{campana_id}/estado", { params: { path: { campana_id: campanaId } } })),
    enabled: !!campana,
    refetchInterval: (q) => (q.state.data?.estado === "activa" ? 5_000 : false),
  });
  const paradas = useQuery({
    queryKey: ["paradas"],
    queryFn: () => datos(api.GET("/api/envios/paradas", { params: { query: { activas: true } } })),
  });
  const plantillas = usePlantillas();
  const perfiles = usePerfiles();
  useEvento("envio.parada", () => cliente.invalidateQueries({ queryKey: ["paradas"] }));

  const cambiar = useMutation({
    mutationFn: (nuevo: "pausada" | "activa" | "cancelada") =>
      datos(api.PATCH("/api/campana/{campana_id}/estado", { params: { path: { campana_id: campanaId } }, body: { estado: nuevo } })),
    onSuccess: (c) => {
      cliente.setQueryData<CampanaSalida[]>(["campanas"], (l) => l?.map((x) => (x.id === c.id ? c : x)));
      cliente.invalidateQueries({ queryKey: ["campana-estado", campanaId] });
    },
    onError: (e) => notifications.show({ color: "red", title: "No se pudo cambiar el estado", message: mensajeDeError(e) }),
  });
  const reanudarParada = useMutation({
    mutationFn: (paradaId: number) => datos(api.POST("/api/envios/paradas/{parada_id}/reanudar", { params: { path: { parada_id: paradaId } } })),
    onSuccess: () => {
      notifications.show({ color: "green", message: "Envíos reanudados." });
      cliente.invalidateQueries({ queryKey: ["paradas"] });
    },
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });

  if (campanas.isLoading) return <Cargando />;
  if (campanas.error) return <ErrorCarga error={campanas.error} />;
  if (!campana) return <ErrorCarga error={new Error("No existe esa campaña o no tienes acceso a ella.")} />;

  const e = estado.data;
  const paradasAgente = (paradas.data ?? []).filter((p) => p.agente_id === campana.agente_id);
  const hechos = e ? e.total - e.pendientes - e.enviando : campana.enviados + campana.fallidos;
  const total = e?.total ?? campana.total_mensajes;
  const plantilla = plantillas.data?.find((p) => p.id === campana.plantilla_id);
  const perfil = perfiles.data?.find((p) => p.id === campana.perfil_id);
  // The live figures carry the freshest state (a campaign completes when its last message goes out).
  const estadoActual = e?.estado ?? campana.estado;
  const puedeLanzar = estadoActual === "borrador" || estadoActual === "programada";
  const terminada = estadoActual === "completada" || estadoActual === "cancelada";

  return (
    <>
      <Anchor component={Link} to="/campanas" size="sm" mb="xs" style={{ display: "inline-flex", alignItems: "center", gap: 4 }}>
        <IconArrowLeft size={14} /> Campañas
      </Anchor>
      <Encabezado
        titulo={campana.nombre}
        descripcion={
          <>
            Plantilla: {plantilla?.nombre ?? "—"} · Perfil: {perfil?.nombre ?? "predeterminado"} · Creada {fmtFechaHora(campana.created_at)}
          </>
        }
        acciones={
          <>
            <Insignia mapa={ESTADOS_CAMPANA} valor={estadoActual} size="lg" />
            {puedeLanzar && (
              <Button leftSection={<IconRocket size={18} />} onClick={() => setLanzando(true)} data-testid="lanzar">
                Lanzar
              </Button>
            )}
            {estadoActual === "activa" && (
              <Button variant="light" color="yellow" leftSection={<IconPlayerPause size={18} />} onClick={() => cambiar.mutate("pausada")} loading={cambiar.isPending} data-testid="pausar">
                Pausar
              </Button>
            )}
            {estadoActual === "pausada" && (
              <Button variant="light" leftSection={<IconPlayerPlay size={18} />} onClick={() => cambiar.mutate("activa")} loading={cambiar.isPending} data-testid="reanudar">
                Reanudar
              </Button>
            )}
            {!terminada && !puedeLanzar && (
              <Button
                variant="subtle"
                color="red"
                leftSection={<IconX size={18} />}
                onClick={async () => {
                  const pendientes = e?.pendientes ?? 0;
                  const si = await confirmar({
                    titulo: `¿Cancelar la campaña «${campana.nombre}»?`,
                    mensaje: `${pendientes ? `${plural(pendientes, "mensaje pendiente no se enviará", "mensajes pendientes no se enviarán")}` : "No quedan mensajes pendientes"}. Lo ya enviado no cambia y la campaña no se puede reanudar.`,
                    confirmar: "Sí, cancelar la campaña",
                    volver: "No, seguir enviando",
                    peligro: true,
                  });
                  if (si) cambiar.mutate("cancelada");
                }}
                data-testid="cancelar"
              >
                Cancelar campaña
              </Button>
            )}
          </>
        }
      />
      {e?.motivo && !terminada && (
        <Alert color={estadoActual === "activa" ? "yellow" : "blue"} variant="light" icon={<IconClockPause size={18} aria-hidden />} mb="md" data-testid="motivo-campana">
          {e.motivo}
        </Alert>
      )}
      {paradasAgente.length > 0 && (
        <Alert color="red" icon={<IconAlertOctagon size={18} />} title="Envíos detenidos por seguridad" mb="md" data-testid="parada-seguridad">
          <Stack gap={6}>
            {paradasAgente.map((p) => (
              <Group key={p.id} justify="space-between" wrap="nowrap">
                <Text size="sm">
                  {p.detalle ?? p.motivo} <Text span c="dimmed" size="xs">({fmtFechaHora(p.created_at)})</Text>
                </Text>
                {usuario.rol !== "agente" && (
                  <Button size="xs" variant="white" color="red" onClick={() => reanudarParada.mutate(p.id)} loading={reanudarParada.isPending}>
                    Reanudar envíos
                  </Button>
                )}
              </Group>
            ))}
          </Stack>
        </Alert>
      )}
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Card>
            <Group justify="space-between" align="flex-start" wrap="nowrap">
              <div style={{ flex: 1 }}>
                <Title order={3} size="h5" mb="sm">
                  Avance
                </Title>
                <Progress.Root size={22} data-testid="avance-campana">
                  {e && (
                    <>
                      <Progress.Section value={(e.enviados / (total || 1)) * 100} color="enlace" aria-label="Enviados">
                        <Progress.Label>{fmtPorcentaje(e.enviados / (total || 1))}</Progress.Label>
                      </Progress.Section>
                      <Progress.Section value={(e.fallidos / (total || 1)) * 100} color="red" aria-label="Fallidos" />
                      <Progress.Section value={((e.suprimidos + e.cancelados + e.inciertos) / (total || 1)) * 100} color="gray" aria-label="Suprimidos, cancelados o inciertos" />
                    </>
                  )}
                </Progress.Root>
                <Text size="sm" mt="xs" className="num" data-testid="texto-avance">
                  {fmtNumero(hechos)} de {fmtNumero(total)} mensajes procesados
                </Text>
                <SimpleGrid cols={{ base: 2, sm: 4 }} mt="md">
                  <Cifra etiqueta="Pendientes" valor={fmtNumero(e?.pendientes ?? null)} />
                  <Cifra etiqueta="Ritmo" valor={e ? `${fmtNumero(e.por_hora)}/h` : "—"} ayuda="Mensajes enviados en la última hora" />
                  <Cifra
                    etiqueta="Termina aprox."
                    valor={
                      <span data-testid="eta-campana">
                        {e?.eta
                          ? `${fmtFechaHora(e.eta)} (en ${fmtDuracion((new Date(e.eta).getTime() - ahora.getTime()) / 1000)})`
                          : estadoActual === "completada"
                            ? "Terminó"
                            : "—"}
                      </span>
                    }
                    tamano={e?.eta ? "sm" : undefined}
                    ayuda="Calculado con el ritmo, el horario y los límites del perfil de envío"
                  />
                  <Cifra etiqueta="Iniciada" valor={fmtFechaHora(campana.iniciada_at)} tamano="sm" />
                </SimpleGrid>
              </div>
              <Tooltip label="Tasa de respuesta sobre enviados">
                <RingProgress
                  size={130}
                  thickness={12}
                  roundCaps
                  sections={[{ value: e && e.enviados ? (e.respondidos / e.enviados) * 100 : 0, color: "orange" }]}
                  label={
                    <Text ta="center" size="sm" fw={700}>
                      {e && e.enviados ? fmtPorcentaje(e.respondidos / e.enviados) : "—"}
                      <Text size="xs" c="dimmed" fw={400}>
                        respuesta
                      </Text>
                    </Text>
                  }
                />
              </Tooltip>
            </Group>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Card h="100%">
            <Title order={3} size="h5" mb="sm">
              Embudo
            </Title>
            {e ? <Embudo e={e} /> : <Text size="sm" c="dimmed">Aún no se lanza.</Text>}
          </Card>
        </Grid.Col>
        {e && (
          <Grid.Col span={12}>
            <Card>
              <SimpleGrid cols={{ base: 3, sm: 5, lg: 9 }}>
                <Cifra etiqueta="Enviando" valor={fmtNumero(e.enviando)} />
                <Cifra etiqueta="Enviados" valor={fmtNumero(e.enviados)} />
                <Cifra etiqueta="Entregados" valor={fmtNumero(e.entregados)} />
                <Cifra etiqueta="Leídos" valor={fmtNumero(e.leidos)} />
                <Cifra etiqueta="Respondieron" valor={fmtNumero(e.respondidos)} color="orange.9" />
                <Cifra etiqueta="Fallidos" valor={fmtNumero(e.fallidos)} color="red.9" />
                <Cifra etiqueta="Suprimidos" valor={fmtNumero(e.suprimidos)} ayuda="Bajas y lista de supresión" />
                <Cifra etiqueta="Cancelados" valor={fmtNumero(e.cancelados)} />
                <Cifra etiqueta="Inciertos" valor={fmtNumero(e.inciertos)} ayuda="No se pudo confirmar si salieron; no se reenvían solos" />
              </SimpleGrid>
            </Card>
          </Grid.Col>
        )}
        {usuario.rol !== "agente" && (
          <Grid.Col span={12}>
            <Anchor component={Link} to={`/mensajes?campanaId=${campana.id}&desde=${campana.created_at.slice(0, 10)}&hasta=${hoyISO()}`} size="sm">
              Ver los mensajes de esta campaña en la bitácora
            </Anchor>
          </Grid.Col>
        )}
      </Grid>
      <Modal opened={lanzando} onClose={() => setLanzando(false)} title={`Lanzar «${campana.nombre}»`} size="lg">
        {lanzando && <Lanzar campana={campana} alTerminar={() => setLanzando(false)} />}
      </Modal>
    </>
  );
}
