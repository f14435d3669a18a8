// Carteras: upload a CSV/XLSX (drag and drop, progress, validation report), self-assign from the pool, browse contacts.
import { useEffect, useState } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  Badge,
  Button,
  Card,
  Grid,
  Group,
  NumberInput,
  Pagination,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconDownload, IconHandGrab, IconUpload } from "@tabler/icons-react";
import { descargar, mensajeDeError, pedir, subirConProgreso } from "../../api/cliente";
import { useUsuario } from "../../auth/sesion";
import { Cargando, Cifra, Encabezado, ErrorCarga, ESTADOS_CONTACTO, Insignia, Vacio } from "../../componentes/comunes";
import ZonaArchivo from "../../componentes/ZonaArchivo";
import { fmtDinero, fmtFechaHora, fmtNumero, fmtTelefono } from "../../formato";
import { lista } from "../../api/tipos";

export interface FilaRechazada {
  fila: number;
  campo?: string | null;
  motivo: string;
  valor?: string | null;
  tipo?: string | null;
}

export interface Reporte {
  cartera_id?: number | null;
  trabajo_id?: number | string | null;
  estado?: string | null;
  total_filas?: number;
  procesadas?: number;
  aceptados?: number;
  rechazados?: number;
  duplicados?: number;
  de_otro_agente?: number;
  suprimidos?: number;
  ya_existentes?: number;
  filas?: FilaRechazada[];
  rechazos?: FilaRechazada[];
}

interface Cartera {
  id: number;
  nombre: string;
  fuente: string;
  agente_id: number | null;
  agente_nombre?: string | null;
  total_contactos: number;
  created_at: string;
}

interface Contacto {
  id: number;
  nombre: string | null;
  telefono: string;
  estado: string;
  cartera_id: number | null;
  agente_id?: number | null;
  estado_mx?: string | null;
  datos_credito?: Record<string, unknown>;
  monto?: number | string | null;
}

const FUENTES: Record<string, string> = { csv_upload: "Archivo", auto_asignacion: "Auto-asignada", manual: "Manual", pool: "Pool de la empresa" };

function ReporteValidacion({ reporte }: { reporte: Reporte }) {
  const rechazos = reporte.rechazos ?? reporte.filas ?? [];
  return (
    <Card data-testid="reporte-validacion">
      <Group justify="space-between" mb="md">
        <Title order={3} size="h5">
          Reporte de validación
        </Title>
        {reporte.cartera_id && (
          <Button
            size="xs"
            variant="light"
            leftSection={<IconDownload size={16} />}
            onClick={() => descargar(`/api/cartera/${reporte.cartera_id}/reporte.csv`)}
          >
            Descargar CSV
          </Button>
        )}
      </Group>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }} mb="md">
        <Cifra etiqueta="Filas" valor={fmtNumero(reporte.total_filas ?? null)} />
        <Cifra etiqueta="Aceptadas" valor={fmtNumero(reporte.aceptados ?? 0)} color="green.8" />
        <Cifra etiqueta="Rechazadas" valor={fmtNumero(reporte.rechazados ?? 0)} color="red.8" />
        <Cifra etiqueta="Duplicadas" valor={fmtNumero(reporte.duplicados ?? 0)} />
        <Cifra etiqueta="De otro agente" valor={fmtNumero(reporte.de_otro_agente ?? 0)} />
        <Cifra etiqueta="Suprimidas" valor={fmtNumero(reporte.suprimidos ?? 0)} color="orange.8" />
      </SimpleGrid>
      {rechazos.length > 0 ? (
        <Table.ScrollContainer minWidth={600} mah={360}>
          <Table stickyHeader striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Fila</Table.Th>
                <Table.Th>Campo</Table.Th>
                <Table.Th>Valor</Table.Th>
                <Table.Th>Motivo</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rechazos.slice(0, 500).map((r, i) => (
                <Table.Tr key={`${r.fila}-${i}`}>
                  <Table.Td className="num">{r.fila}</Table.Td>
                  <Table.Td>{r.campo ?? "—"}</Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace" className="texto-mensaje">
                      {r.valor ?? ""}
                    </Text>
                  </Table.Td>
                  <Table.Td>{r.motivo}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : (
        <Text size="sm" c="dimmed">
          Ninguna fila rechazada.
        </Text>
      )}
      {rechazos.length > 500 && (
        <Text size="xs" c="dimmed" mt="xs">
          Se muestran las primeras 500; descarga el CSV para verlas todas.
        </Text>
      )}
    </Card>
  );
}

function Subir({ alTerminar }: { alTerminar: (r: Reporte) => void }) {
  const usuario = useUsuario();
  const [archivo, setArchivo] = useState<File | null>(null);
  const [nombre, setNombre] = useState("");
  const [agente, setAgente] = useState<string | null>(null);
  const [progreso, setProgreso] = useState<number | null>(null);
  const [procesando, setProcesando] = useState<Reporte | null>(null);
  const [error, setError] = useState<string | null>(null);
  const agentes = useQuery({
    queryKey: ["agentes"],
    queryFn: () => pedir<{ id: number; nombre: string }[]>("GET", "/api/agentes"),
    enabled: usuario.rol !== "agente",
  });

  useEffect(() => {
    if (archivo && !nombre) setNombre(archivo.name.replace(/\.(csv|xlsx|txt)$/i, ""));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [archivo]);

  // Large files are processed as a background job: poll it until it finishes.
  useEffect(() => {
    if (!procesando?.trabajo_id) return;
    const t = window.setInterval(async () => {
      try {
        const r = await pedir<Reporte>("GET", `/api/cartera/importacion/${procesando.trabajo_id}`);
        setProcesando({ ...r, trabajo_id: procesando.trabajo_id });
        if (r.estado && ["completada", "terminada", "fallida", "error"].includes(r.estado)) {
          window.clearInterval(t);
          setProcesando(null);
          alTerminar(r);
        }
      } catch {
        /* keep polling: a transient error must not lose the report */
      }
    }, 1500);
    return () => window.clearInterval(t);
  }, [procesando?.trabajo_id, alTerminar]);

  async function subir() {
    if (!archivo) return;
    setError(null);
    setProgreso(0);
    const form = new FormData();
    form.append("archivo", archivo);
    form.append("nombre", nombre || archivo.name);
    if (agente) form.append("agente_id", agente);
    try {
      const r = await subirConProgreso<Reporte>("/api/cartera/subir", form, setProgreso);
      if (r.trabajo_id && r.estado !== "completada") setProcesando(r);
      else alTerminar(r);
      setArchivo(null);
      setNombre("");
    } catch (e) {
      setError(mensajeDeError(e));
    } finally {
      setProgreso(null);
    }
  }

  return (
    <Card>
      <Title order={3} size="h5" mb="sm">
        Subir cartera
      </Title>
      <Stack>
        <ZonaArchivo
          aceptar=".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
          archivo={archivo}
          alElegir={setArchivo}
          etiqueta="Arrastra aquí tu CSV o Excel"
          ayuda="Columnas: nombre, teléfono, monto, NSS, CURP, tipo de crédito, estado…"
          deshabilitado={progreso !== null}
        />
        <Group grow align="flex-end">
          <TextInput label="Nombre de la cartera" value={nombre} onChange={(e) => setNombre(e.currentTarget.value)} />
          {usuario.rol !== "agente" && (
            <Select
              label="Asignar a"
              placeholder="Pool de la empresa"
              data={(agentes.data ?? []).map((a) => ({ value: String(a.id), label: a.nombre }))}
              value={agente}
              onChange={setAgente}
              clearable
              searchable
            />
          )}
        </Group>
        {progreso !== null && (
          <div>
            <Text size="sm" mb={4}>
              Subiendo… {Math.round(progreso * 100)} %
            </Text>
            <Progress value={progreso * 100} animated aria-label="Progreso de la carga" />
          </div>
        )}
        {procesando && (
          <div>
            <Text size="sm" mb={4}>
              Procesando filas… {fmtNumero(procesando.procesadas ?? 0)}
              {procesando.total_filas ? ` de ${fmtNumero(procesando.total_filas)}` : ""}
            </Text>
            <Progress
              value={procesando.total_filas ? ((procesando.procesadas ?? 0) / procesando.total_filas) * 100 : 100}
              animated
              striped
              aria-label="Progreso del procesamiento"
            />
          </div>
        )}
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button leftSection={<IconUpload size={18} />} disabled={!archivo || progreso !== null || !!procesando} onClick={subir} data-testid="boton-subir">
            Subir y validar
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function AutoAsignar() {
  const usuario = useUsuario();
  const cliente = useQueryClient();
  const [cantidad, setCantidad] = useState<number | string>(100);
  const [agente, setAgente] = useState<string | null>(usuario.agente_id ? String(usuario.agente_id) : null);
  const [ocupado, setOcupado] = useState(false);
  const agentes = useQuery({
    queryKey: ["agentes"],
    queryFn: () => pedir<{ id: number; nombre: string }[]>("GET", "/api/agentes"),
    enabled: usuario.rol !== "agente",
  });

  async function asignar() {
    if (!agente) return;
    setOcupado(true);
    try {
      const r = await pedir<{ asignados?: number; total_contactos?: number; cantidad?: number }>("POST", "/api/cartera/auto-asignar", {
        json: { agenteId: Number(agente), cantidad: Number(cantidad) },
      });
      const n = r.asignados ?? r.total_contactos ?? r.cantidad ?? 0;
      notifications.show({
        color: n > 0 ? "green" : "yellow",
        title: n > 0 ? "Contactos asignados" : "No hubo contactos disponibles",
        message: n > 0 ? `Se asignaron ${fmtNumero(n)} contactos del pool.` : "El pool no tiene contactos libres en este momento.",
      });
      cliente.invalidateQueries({ queryKey: ["carteras"] });
      cliente.invalidateQueries({ queryKey: ["contactos"] });
    } catch (e) {
      notifications.show({ color: "red", title: "No se pudo auto-asignar", message: mensajeDeError(e) });
    } finally {
      setOcupado(false);
    }
  }

  return (
    <Card h="100%">
      <Title order={3} size="h5" mb={4}>
        Auto-asignar del pool
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Toma contactos libres y sin bajas del pool de la empresa. Cada contacto es de un solo agente a la vez.
      </Text>
      <Stack>
        {usuario.rol !== "agente" && (
          <Select
            label="Agente"
            data={(agentes.data ?? []).map((a) => ({ value: String(a.id), label: a.nombre }))}
            value={agente}
            onChange={setAgente}
            searchable
          />
        )}
        <NumberInput label="Cantidad" min={1} max={5000} step={50} value={cantidad} onChange={setCantidad} thousandSeparator="," />
        <Button leftSection={<IconHandGrab size={18} />} onClick={asignar} loading={ocupado} disabled={!agente}>
          Asignarme contactos
        </Button>
      </Stack>
    </Card>
  );
}

function ListaCarteras({ alElegir, elegida }: { alElegir: (id: number | null) => void; elegida: number | null }) {
  const q = useQuery({ queryKey: ["carteras"], queryFn: async () => lista<Cartera>(await pedir("GET", "/api/carteras"), "carteras") });
  if (q.isLoading) return <Cargando />;
  if (q.error) return <ErrorCarga error={q.error} />;
  const carteras = q.data ?? [];
  if (!carteras.length) return <Vacio titulo="Aún no tienes carteras">Sube un archivo o auto-asígnate contactos del pool.</Vacio>;
  return (
    <Card p={0}>
      <Table.ScrollContainer minWidth={600}>
        <Table data-testid="tabla-carteras">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Nombre</Table.Th>
              <Table.Th>Origen</Table.Th>
              <Table.Th>Agente</Table.Th>
              <Table.Th ta="right">Contactos</Table.Th>
              <Table.Th>Creada</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {carteras.map((c) => (
              <Table.Tr
                key={c.id}
                onClick={() => alElegir(elegida === c.id ? null : c.id)}
                onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && alElegir(elegida === c.id ? null : c.id)}
                tabIndex={0}
                aria-selected={elegida === c.id}
                bg={elegida === c.id ? "var(--mantine-color-enlace-0)" : undefined}
                style={{ cursor: "pointer" }}
              >
                <Table.Td fw={500}>{c.nombre}</Table.Td>
                <Table.Td>
                  <Badge variant="light" color="gray">
                    {FUENTES[c.fuente] ?? c.fuente}
                  </Badge>
                </Table.Td>
                <Table.Td>{c.agente_nombre ?? (c.agente_id ? `#${c.agente_id}` : "Pool")}</Table.Td>
                <Table.Td ta="right" className="num">
                  {fmtNumero(c.total_contactos)}
                </Table.Td>
                <Table.Td>{fmtFechaHora(c.created_at)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Card>
  );
}

function ListaContactos({ carteraId }: { carteraId: number | null }) {
  const [pagina, setPagina] = useState(1);
  const [buscar, setBuscar] = useState("");
  const [estado, setEstado] = useState<string | null>(null);
  const porPagina = 50;
  useEffect(() => setPagina(1), [carteraId, buscar, estado]);
  const q = useQuery({
    queryKey: ["contactos", carteraId, pagina, buscar, estado],
    queryFn: async () => {
      const r = await pedir<unknown>("GET", "/api/contactos", {
        query: { cartera_id: carteraId, pagina, por_pagina: porPagina, buscar, estado },
      });
      const total = (r as { total?: number })?.total;
      return { filas: lista<Contacto>(r, "contactos"), total: typeof total === "number" ? total : null };
    },
    placeholderData: keepPreviousData,
  });
  const filas = q.data?.filas ?? [];
  const total = q.data?.total;
  return (
    <Card p={0}>
      <Group p="md" gap="sm">
        <TextInput placeholder="Buscar nombre o teléfono" value={buscar} onChange={(e) => setBuscar(e.currentTarget.value)} aria-label="Buscar contacto" w={260} />
        <Select
          placeholder="Todos los estados"
          data={Object.entries(ESTADOS_CONTACTO).map(([v, e]) => ({ value: v, label: e.texto }))}
          value={estado}
          onChange={setEstado}
          clearable
          aria-label="Filtrar por estado"
        />
        {total !== null && total !== undefined && (
          <Text size="sm" c="dimmed">
            {fmtNumero(total)} contactos
          </Text>
        )}
      </Group>
      {q.isLoading ? (
        <Cargando />
      ) : q.error ? (
        <ErrorCarga error={q.error} />
      ) : filas.length === 0 ? (
        <Vacio titulo="Sin contactos" />
      ) : (
        <Table.ScrollContainer minWidth={700}>
          <Table striped data-testid="tabla-contactos">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Nombre</Table.Th>
                <Table.Th>Teléfono</Table.Th>
                <Table.Th>Estado (MX)</Table.Th>
                <Table.Th ta="right">Monto</Table.Th>
                <Table.Th>Situación</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {filas.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td>{c.nombre ?? "—"}</Table.Td>
                  <Table.Td className="num">{fmtTelefono(c.telefono)}</Table.Td>
                  <Table.Td>{c.estado_mx ?? "—"}</Table.Td>
                  <Table.Td ta="right" className="num">
                    {fmtDinero((c.monto ?? c.datos_credito?.monto ?? null) as number | string | null)}
                  </Table.Td>
                  <Table.Td>
                    <Insignia mapa={ESTADOS_CONTACTO} valor={c.estado} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {total !== null && total !== undefined && total > porPagina && (
        <Group justify="center" p="md">
          <Pagination total={Math.ceil(total / porPagina)} value={pagina} onChange={setPagina} />
        </Group>
      )}
      {(total === null || total === undefined) && (filas.length === porPagina || pagina > 1) && (
        <Group justify="center" p="md">
          <Button variant="default" size="xs" disabled={pagina === 1} onClick={() => setPagina(pagina - 1)}>
            Anterior
          </Button>
          <Text size="sm">Página {pagina}</Text>
          <Button variant="default" size="xs" disabled={filas.length < porPagina} onClick={() => setPagina(pagina + 1)}>
            Siguiente
          </Button>
        </Group>
      )}
    </Card>
  );
}

export default function Carteras() {
  const cliente = useQueryClient();
  const [reporte, setReporte] = useState<Reporte | null>(null);
  const [elegida, setElegida] = useState<number | null>(null);
  return (
    <>
      <Encabezado titulo="Carteras" descripcion="Sube tus carteras o toma contactos del pool. Cada fila rechazada se explica." />
      <Stack gap="lg">
        <Grid gap="lg">
          <Grid.Col span={{ base: 12, lg: 8 }}>
            <Subir
              alTerminar={(r) => {
                setReporte(r);
                cliente.invalidateQueries({ queryKey: ["carteras"] });
                cliente.invalidateQueries({ queryKey: ["contactos"] });
              }}
            />
          </Grid.Col>
          <Grid.Col span={{ base: 12, lg: 4 }}>
            <AutoAsignar />
          </Grid.Col>
        </Grid>
        {reporte && <ReporteValidacion reporte={reporte} />}
        <Tabs defaultValue="carteras">
          <Tabs.List mb="md">
            <Tabs.Tab value="carteras">Carteras</Tabs.Tab>
            <Tabs.Tab value="contactos">Contactos{elegida ? " de la cartera elegida" : ""}</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="carteras">
            <ListaCarteras alElegir={setElegida} elegida={elegida} />
          </Tabs.Panel>
          <Tabs.Panel value="contactos">
            <ListaContactos carteraId={elegida} />
          </Tabs.Panel>
        </Tabs>
      </Stack>
    </>
  );
}
