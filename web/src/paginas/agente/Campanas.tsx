// Campaigns: the list with live progress, the creation form (template picker + live preview), and templates.
import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Anchor, Button, Card, Grid, Group, Modal, Progress, Select, Stack, Table, Tabs, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconPlus } from "@tabler/icons-react";
import { api, datos, mensajeDeError } from "../../api/cliente";
import type { CampanaSalida } from "../../api/esquema";
import type { CampanaProgreso } from "../../api/eventos";
import { useUsuario } from "../../auth/sesion";
import { useEvento } from "../../tiempo_real/socket";
import { Cargando, Encabezado, ErrorCarga, ESTADOS_CAMPANA, Insignia, Vacio } from "../../componentes/comunes";
import { fmtFechaHora, fmtNumero, fmtPorcentaje, hoyISO } from "../../formato";
import { CampoFechaHora } from "../../componentes/Fechas";
import Plantillas, { VistaPrevia } from "./Plantillas";
import { useAgentes, useCarteras, usePerfiles, usePlantillas } from "./datos";
import { Formulario } from "../../componentes/Formulario";

export type ProgresoCampana = CampanaProgreso;

/** Applies `campana.progreso` pushes to the cached campaign list so every screen moves live. */
export function useProgresoCampanas() {
  const cliente = useQueryClient();
  useEvento("campana.progreso", (d) => {
    cliente.setQueryData<CampanaSalida[]>(["campanas"], (lista) =>
      lista?.map((c) => {
        if (c.id !== d.campana_id) return c;
        const k = d.cuentas ?? {};
        const enviados = (k.enviado ?? 0) + (k.entregado ?? 0) + (k.leido ?? 0);
        return { ...c, estado: d.estado ?? c.estado, enviados, fallidos: k.fallido ?? c.fallidos };
      }),
    );
    cliente.invalidateQueries({ queryKey: ["campana-estado", d.campana_id] });
    const k = d.cuentas ?? {};
    // Nothing left to send: the server has just marked it completed; read the new state.
    if (!(k.pendiente ?? 0) && !(k.enviando ?? 0)) cliente.invalidateQueries({ queryKey: ["campanas"] });
  });
}

function NuevaCampana({ alTerminar }: { alTerminar: (c: CampanaSalida) => void }) {
  const usuario = useUsuario();
  const carteras = useCarteras();
  const plantillas = usePlantillas();
  const perfiles = usePerfiles();
  const agentes = useAgentes(usuario.rol !== "agente");
  const [nombre, setNombre] = useState("");
  const [cartera, setCartera] = useState<string | null>(null);
  const [plantilla, setPlantilla] = useState<string | null>(null);
  const [perfil, setPerfil] = useState<string | null>(null);
  const [agente, setAgente] = useState<string | null>(null);
  const [inicio, setInicio] = useState("");

  useEffect(() => {
    if (!perfil && perfiles.data?.length) setPerfil(String((perfiles.data.find((p) => p.por_defecto) ?? perfiles.data[0]).id));
  }, [perfiles.data, perfil]);
  const carteraElegida = carteras.data?.find((c) => String(c.id) === cartera);
  useEffect(() => {
    if (carteraElegida?.agente_id && !agente) setAgente(String(carteraElegida.agente_id));
  }, [carteraElegida, agente]);

  const crear = useMutation({
    mutationFn: () =>
      datos(
        api.POST("/api/campana", {
          body: {
            nombre,
            carteraId: Number(cartera),
            plantillaId: plantilla ? Number(plantilla) : null,
            perfilId: perfil ? Number(perfil) : null,
            agenteId: usuario.rol === "agente" ? usuario.agente_id : agente ? Number(agente) : null,
            // Mexico City wall time; the server reads a moment without zone in the campaign's zone.
            inicioProgramado: inicio ? inicio.replace(" ", "T") : null,
          },
        }),
      ),
    onSuccess: alTerminar,
    onError: (e) => notifications.show({ color: "red", title: "No se pudo crear la campaña", message: mensajeDeError(e) }),
  });

  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: 6 }}>
        <Formulario
          alEnviar={(e) => {
            e.preventDefault();
            crear.mutate();
          }}
        >
          <Stack>
            <TextInput label="Nombre de la campaña" required value={nombre} onChange={(e) => setNombre(e.currentTarget.value)} placeholder="Pensionados CDMX — marzo" />
            <Select
              label="Cartera"
              required
              data={(carteras.data ?? []).map((c) => ({ value: String(c.id), label: `${c.nombre} (${fmtNumero(c.total_contactos)} contactos)` }))}
              value={cartera}
              onChange={setCartera}
              searchable
              nothingFoundMessage="Sin carteras: sube una primero"
            />
            {usuario.rol !== "agente" && (
              <Select
                label="Agente que envía"
                data={(agentes.data ?? []).map((a) => ({ value: String(a.id), label: a.nombre }))}
                value={agente}
                onChange={setAgente}
                searchable
              />
            )}
            <Select
              label="Plantilla"
              required
              data={(plantillas.data ?? []).filter((p) => p.activa).map((p) => ({ value: String(p.id), label: `${p.nombre} (${p.variantes.length} ${p.variantes.length === 1 ? "variante" : "variantes"})` }))}
              value={plantilla}
              onChange={setPlantilla}
              nothingFoundMessage="Sin plantillas: crea una en la pestaña Plantillas"
            />
            <Select
              label="Perfil de envío"
              description="Ritmo, límites por hora y día, y horario"
              data={(perfiles.data ?? []).map((p) => ({ value: String(p.id), label: p.nombre + (p.por_defecto ? " (predeterminado)" : "") }))}
              value={perfil}
              onChange={setPerfil}
              placeholder="El del documento original (30–50 por hora, 150–200 por día)"
              clearable
            />
            <CampoFechaHora
              label="Programar inicio (opcional)"
              description="Hora de la Ciudad de México. Vacío: la lanzas tú cuando quieras"
              value={inicio}
              onChange={setInicio}
              minDate={hoyISO()}
              testId="inicio-programado"
            />
            <Group justify="flex-end">
              <Button type="submit" loading={crear.isPending} disabled={!nombre.trim() || !cartera || !plantilla} data-testid="crear-campana">
                Crear campaña
              </Button>
            </Group>
          </Stack>
        </Formulario>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 6 }}>
        <Title order={4} size="h6" mb="xs">
          Vista previa con contactos reales
        </Title>
        {plantilla ? (
          <VistaPrevia plantillaId={Number(plantilla)} carteraId={cartera ? Number(cartera) : null} />
        ) : (
          <Text size="sm" c="dimmed">
            Elige una cartera y una plantilla.
          </Text>
        )}
      </Grid.Col>
    </Grid>
  );
}

function ListaCampanas() {
  const usuario = useUsuario();
  const navegar = useNavigate();
  const cliente = useQueryClient();
  const [creando, setCreando] = useState(false);
  const q = useQuery({ queryKey: ["campanas"], queryFn: () => datos(api.GET("/api/campanas")), refetchInterval: 30_000 });
  const agentes = useAgentes(usuario.rol !== "agente");
  const nombreAgente = useMemo(() => new Map((agentes.data ?? []).map((a) => [a.id, a.nombre])), [agentes.data]);
  useProgresoCampanas();
  const campanas = useMemo(() => [...(q.data ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at)), [q.data]);

  return (
    <>
      <Group justify="flex-end" mb="sm">
        <Button leftSection={<IconPlus size={18} />} onClick={() => setCreando(true)} data-testid="nueva-campana">
          Nueva campaña
        </Button>
      </Group>
      {q.isLoading ? (
        <Cargando />
      ) : q.error ? (
        <ErrorCarga error={q.error} />
      ) : campanas.length === 0 ? (
        <Vacio titulo="Aún no hay campañas">Crea una campaña con una cartera y una plantilla.</Vacio>
      ) : (
        <Card p={0}>
          <Table.ScrollContainer minWidth={800}>
            <Table data-testid="tabla-campanas">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Campaña</Table.Th>
                  {usuario.rol !== "agente" && <Table.Th>Agente</Table.Th>}
                  <Table.Th>Estado</Table.Th>
                  <Table.Th w={260}>Avance</Table.Th>
                  <Table.Th>Creada</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {campanas.map((c) => {
                  const avance = c.total_mensajes ? (c.enviados + c.fallidos) / c.total_mensajes : 0;
                  return (
                    <Table.Tr key={c.id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/campanas/${c.id}`} fw={600}>
                          {c.nombre}
                        </Anchor>
                      </Table.Td>
                      {usuario.rol !== "agente" && <Table.Td>{nombreAgente.get(c.agente_id) ?? `#${c.agente_id}`}</Table.Td>}
                      <Table.Td>
                        <Insignia mapa={ESTADOS_CAMPANA} valor={c.estado} />
                      </Table.Td>
                      <Table.Td>
                        {c.total_mensajes > 0 ? (
                          <>
                            <Progress value={avance * 100} size="sm" aria-label={`Avance de ${c.nombre}`} />
                            <Text size="xs" c="dimmed" className="num">
                              {fmtNumero(c.enviados)} de {fmtNumero(c.total_mensajes)} · {fmtPorcentaje(avance)}
                              {c.fallidos ? ` · ${fmtNumero(c.fallidos)} fallidos` : ""}
                            </Text>
                          </>
                        ) : (
                          <Text size="xs" c="dimmed">
                            {c.inicio_programado ? `Programada: ${fmtFechaHora(c.inicio_programado)}` : "Sin lanzar"}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>{fmtFechaHora(c.created_at)}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <Modal opened={creando} onClose={() => setCreando(false)} title="Nueva campaña" size="72rem">
        {creando && (
          <NuevaCampana
            alTerminar={(c) => {
              setCreando(false);
              cliente.invalidateQueries({ queryKey: ["campanas"] });
              notifications.show({ color: "green", message: "Campaña creada. Revísala y lánzala." });
              navegar(`/campanas/${c.id}`);
            }}
          />
        )}
      </Modal>
    </>
  );
}

export default function Campanas() {
  return (
    <>
      <Encabezado titulo="Campañas" descripcion="Envíos pausados al ritmo de tu perfil, con bajas y horarios respetados siempre." />
      <Tabs defaultValue="campanas" keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="campanas">Campañas</Tabs.Tab>
          <Tabs.Tab value="plantillas" data-testid="pestana-plantillas">
            Plantillas
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="campanas">
          <ListaCampanas />
        </Tabs.Panel>
        <Tabs.Panel value="plantillas">
          <Plantillas />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
