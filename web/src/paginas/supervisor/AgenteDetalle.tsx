// One agent, opened from the wall: the WhatsApp session and why it is in that state, today's figures,
// safety stops, campaigns and conversations; the last days' indicators only when there are any.
import { Link, useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { Alert, Anchor, Card, Grid, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { IconAlertOctagon, IconArrowLeft } from "@tabler/icons-react";
import { api, datos } from "../../api/cliente";
import { Cargando, Cifra, Encabezado, ErrorCarga, ESTADOS_CAMPANA, ESTADOS_SESION, Insignia, Vacio } from "../../componentes/comunes";
import { fmtDia, fmtDuracion, fmtFechaHora, fmtNumero, fmtPorcentaje, fmtRelativo, fmtTelefono } from "../../formato";
import { useAhora } from "../../reloj";
import { textoParada } from "./Muro";

export default function AgenteDetalle() {
  const agenteId = Number(useParams().id);
  const ahora = useAhora();
  const snapshot = useQuery({ queryKey: ["snapshot"], queryFn: () => datos(api.GET("/api/supervision/snapshot")) });
  const sesion = useQuery({
    queryKey: ["sesion", agenteId],
    queryFn: () => datos(api.GET("/api/sesion/{agente_id}", { params: { path: { agente_id: agenteId } } })),
  });
  const campanas = useQuery({
    queryKey: ["campanas", "agente", agenteId],
    queryFn: () => datos(api.GET("/api/campanas", { params: { query: { agente_id: agenteId } } })),
  });
  const conversaciones = useQuery({
    queryKey: ["conversaciones", "agente", agenteId],
    queryFn: () => datos(api.GET("/api/conversaciones", { params: { query: { agente_id: agenteId, limite: 20 } } })),
  });
  const dias = useQuery({
    queryKey: ["tablero-agente", agenteId],
    queryFn: () => {
      const hasta = new Intl.DateTimeFormat("en-CA", { timeZone: "America/Mexico_City" }).format(ahora);
      const desde = new Intl.DateTimeFormat("en-CA", { timeZone: "America/Mexico_City" }).format(new Date(ahora.getTime() - 6 * 86400_000));
      return datos(api.GET("/api/reportes/tablero/agentes", { params: { query: { agenteId: agenteId, desde, hasta } } }));
    },
  });

  if (snapshot.isLoading) return <Cargando />;
  if (snapshot.error) return <ErrorCarga error={snapshot.error} />;
  const agente = snapshot.data?.agentes.find((a) => a.id === agenteId);
  if (!agente) return <ErrorCarga error={new Error("Ese agente no existe o no está en tus equipos.")} />;
  const estado = sesion.data?.estado ?? agente.sesion?.estado ?? "desconectada";
  const motivo = sesion.data?.motivo ?? agente.sesion?.motivo ?? null;
  const paradas = (snapshot.data?.paradas ?? []).filter((p) => p.agente_id === agenteId);
  const h = agente.hoy;
  const filasDias = (dias.data ?? []).filter((d) => d.enviados + d.respondidos + d.fallidos > 0);

  return (
    <>
      <Anchor component={Link} to="/muro" size="sm" mb="xs" style={{ display: "inline-flex", alignItems: "center", gap: 4 }}>
        <IconArrowLeft size={14} aria-hidden /> Muro de agentes
      </Anchor>
      <Encabezado titulo={agente.nombre} descripcion={fmtTelefono(agente.sesion?.numero_wa ?? null)} acciones={<Insignia mapa={ESTADOS_SESION} valor={estado} size="lg" />} />
      {paradas.length > 0 && (
        <Alert color="red" icon={<IconAlertOctagon size={18} />} title="Envíos detenidos por seguridad" mb="md">
          {paradas.map((p) => (
            <Text size="sm" key={p.id}>
              {p.detalle ?? textoParada(p.motivo)} ({fmtRelativo(p.created_at, ahora)})
            </Text>
          ))}
        </Alert>
      )}
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Card h="100%" data-testid="agente-sesion">
            <Title order={2} size="h5" mb="sm">
              Sesión de WhatsApp
            </Title>
            <Stack gap={6}>
              <Text size="sm">
                Estado: <b>{ESTADOS_SESION[estado]?.texto ?? estado}</b>
                {motivo ? ` — ${motivo}` : ""}
              </Text>
              <Text size="sm">Número: {fmtTelefono(sesion.data?.numero_wa ?? agente.sesion?.numero_wa ?? null)}</Text>
              <Text size="sm">Conectada desde: {fmtFechaHora(sesion.data?.conectada_at ?? agente.sesion?.conectada_at)}</Text>
              <Text size="sm">
                Última actividad: {agente.sesion?.ultima_actividad_at ? fmtRelativo(agente.sesion.ultima_actividad_at, ahora) : "sin actividad"}
              </Text>
            </Stack>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Card h="100%">
            <Title order={2} size="h5" mb="sm">
              Hoy
            </Title>
            <SimpleGrid cols={{ base: 2, sm: 3 }}>
              <Cifra etiqueta="Enviados" valor={fmtNumero(h.enviados)} />
              <Cifra etiqueta="Entregados" valor={fmtNumero(h.entregados)} />
              <Cifra etiqueta="Leídos" valor={fmtNumero(h.leidos)} />
              <Cifra etiqueta="Respondieron" valor={fmtNumero(h.respondidos)} color="green.9" />
              <Cifra etiqueta="Bajas" valor={fmtNumero(h.bajas)} color="orange.9" />
              <Cifra etiqueta="Fallidos" valor={fmtNumero(h.fallidos)} color="red.9" />
            </SimpleGrid>
          </Card>
        </Grid.Col>
        {filasDias.length > 0 && (
          <Grid.Col span={12}>
            <Card data-testid="agente-salud">
              <Title order={2} size="h5" mb="sm">
                Salud del número (últimos 7 días)
              </Title>
              <Table.ScrollContainer minWidth={560}>
                <Table>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Día</Table.Th>
                      <Table.Th ta="right">Enviados</Table.Th>
                      <Table.Th ta="right">Entregados</Table.Th>
                      <Table.Th ta="right">Respuesta</Table.Th>
                      <Table.Th ta="right">Bajas</Table.Th>
                      <Table.Th ta="right">Fallidos</Table.Th>
                      <Table.Th ta="right">Mediana de respuesta</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {filasDias.map((d) => (
                      <Table.Tr key={d.dia}>
                        <Table.Td>{fmtDia(d.dia)}</Table.Td>
                        <Table.Td ta="right" className="num">{fmtNumero(d.enviados)}</Table.Td>
                        <Table.Td ta="right" className="num">{d.enviados ? fmtPorcentaje(d.entregados / d.enviados) : "—"}</Table.Td>
                        <Table.Td ta="right" className="num">{fmtPorcentaje(d.tasa_respuesta)}</Table.Td>
                        <Table.Td ta="right" className="num">{fmtNumero(d.bajas)}</Table.Td>
                        <Table.Td ta="right" className="num">{fmtNumero(d.fallidos)}</Table.Td>
                        <Table.Td ta="right" className="num">{fmtDuracion(d.mediana_respuesta_s)}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Card>
          </Grid.Col>
        )}
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Card h="100%" data-testid="agente-campanas">
            <Title order={2} size="h5" mb="sm">
              Campañas
            </Title>
            {campanas.isLoading ? (
              <Cargando />
            ) : (campanas.data ?? []).length === 0 ? (
              <Vacio titulo="Sin campañas" />
            ) : (
              <Stack gap={6}>
                {(campanas.data ?? []).slice(0, 15).map((c) => (
                  <Group key={c.id} justify="space-between" wrap="nowrap">
                    <Anchor component={Link} to={`/campanas/${c.id}`} size="sm" truncate>
                      {c.nombre}
                    </Anchor>
                    <Group gap={6} wrap="nowrap">
                      <Text size="xs" className="num">
                        {fmtNumero(c.enviados)} de {fmtNumero(c.total_mensajes)}
                      </Text>
                      <Insignia mapa={ESTADOS_CAMPANA} valor={c.estado} />
                    </Group>
                  </Group>
                ))}
              </Stack>
            )}
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Card h="100%" data-testid="agente-conversaciones">
            <Title order={2} size="h5" mb="sm">
              Conversaciones recientes
            </Title>
            {conversaciones.isLoading ? (
              <Cargando />
            ) : (conversaciones.data ?? []).length === 0 ? (
              <Vacio titulo="Sin conversaciones" />
            ) : (
              <Stack gap={6}>
                {(conversaciones.data ?? []).map((c) => (
                  <Group key={c.contacto_id} justify="space-between" wrap="nowrap">
                    <Anchor component={Link} to={`/bandeja/${c.contacto_id}`} size="sm" truncate>
                      {c.nombre ?? fmtTelefono(c.telefono)}
                    </Anchor>
                    <Text size="xs" c="dimmed">
                      {fmtRelativo(c.ultimo_at, ahora)}
                    </Text>
                  </Group>
                ))}
              </Stack>
            )}
          </Card>
        </Grid.Col>
      </Grid>
    </>
  );
}
