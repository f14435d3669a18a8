// The message log: the original report filters (agent, date, state, number) plus team and campaign, keyset pages, export.
import { useEffect, useMemo, useState } from "react";
import { useDebouncedValue } from "@mantine/hooks";
import { Link, useSearchParams } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Alert, Anchor, Button, Card, Group, Menu, Select, Stack, Table, Text, TextInput, Tooltip } from "@mantine/core";
import { IconChevronLeft, IconChevronRight, IconDownload, IconFilterOff } from "@tabler/icons-react";
import { api, datos, descargar } from "../../api/cliente";
import { Cargando, Encabezado, ErrorCarga, ESTADOS_MENSAJE, Insignia, Vacio } from "../../componentes/comunes";
import { fmtFechaHora, fmtTelefono, hoyISO } from "../../formato";
import { soloDigitos } from "../../buscar";
import { CampoFecha } from "../../componentes/Fechas";

const MIN_DIGITOS = 4;
const ETIQUETA_ID: Record<string, string> = { agenteId: "agente", equipoId: "equipo", campanaId: "campaña" };

/** A partial number is sent only once it can be searched; while typing, a hint (not an error). */
function estadoNumero(texto: string): { enviar: string; ayuda?: string; error?: string } {
  const t = texto.trim();
  if (!t) return { enviar: "" };
  if (!/^[\d\s+().-]+$/.test(t)) return { enviar: "", error: "Escribe solo dígitos (espacios y guiones valen)." };
  const d = soloDigitos(t);
  if (d.length < MIN_DIGITOS) return { enviar: "", ayuda: `Escribe al menos ${MIN_DIGITOS} dígitos para buscar.` };
  return { enviar: t, ayuda: "Busca los números que contienen estos dígitos." };
}

const CLAVES = ["agenteId", "equipoId", "campanaId", "numero", "estado", "desde", "hasta"] as const;
type Filtros = Record<(typeof CLAVES)[number], string>;

const ORIGENES: Record<string, string> = { campana: "Campaña", telefono: "Teléfono", respuesta: "Bandeja", sistema: "Sistema" };

export default function BitacoraMensajes() {
  const [params, setParams] = useSearchParams();
  const filtros: Filtros = Object.fromEntries(CLAVES.map((k) => [k, params.get(k) ?? ""])) as Filtros;
  // An id filter that is not a number (a hand-edited link) is explained and left out, never silently ignored.
  const invalidos = (["agenteId", "equipoId", "campanaId"] as const).filter((k) => filtros[k] && !/^\d+$/.test(filtros[k]));
  for (const k of invalidos) filtros[k] = "";
  if (!params.has("desde") && !params.has("hasta")) {
    filtros.desde = hoyISO();
    filtros.hasta = hoyISO();
  }
  // The number filter is typed: wait for a pause before querying.
  const [numero, setNumero] = useState(filtros.numero);
  const [numeroQuieto] = useDebouncedValue(numero, 400);
  const numeroEstado = estadoNumero(numero);
  useEffect(() => {
    const enviar = estadoNumero(numeroQuieto).enviar;
    if (enviar !== filtros.numero) cambiar("numero", enviar);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [numeroQuieto]);
  // Stack of cursors: index 0 is the first page.
  const [cursores, setCursores] = useState<(string | null)[]>([null]);
  const cursor = cursores[cursores.length - 1];

  const agentes = useQuery({ queryKey: ["agentes"], queryFn: () => datos(api.GET("/api/agentes")) });
  const equipos = useQuery({ queryKey: ["equipos"], queryFn: () => datos(api.GET("/api/equipos")) });
  const campanas = useQuery({ queryKey: ["campanas"], queryFn: () => datos(api.GET("/api/campanas")) });
  const nombreAgente = useMemo(() => new Map((agentes.data ?? []).map((a) => [a.id, a.nombre])), [agentes.data]);

  const consulta = {
    agenteId: filtros.agenteId ? Number(filtros.agenteId) : undefined,
    equipoId: filtros.equipoId ? Number(filtros.equipoId) : undefined,
    campanaId: filtros.campanaId ? Number(filtros.campanaId) : undefined,
    numero: filtros.numero || undefined,
    estado: filtros.estado || undefined,
    desde: filtros.desde || undefined,
    hasta: filtros.hasta || undefined,
  };
  const q = useQuery({
    queryKey: ["reporte-mensajes", consulta, cursor],
    queryFn: () => datos(api.GET("/api/reportes/mensajes", { params: { query: { ...consulta, cursor: cursor ?? undefined, limite: 50 } } })),
    placeholderData: keepPreviousData,
  });

  function cambiar(k: keyof Filtros, v: string | null) {
    const p = new URLSearchParams(params);
    if (!p.has("desde") && !p.has("hasta")) {
      p.set("desde", filtros.desde);
      p.set("hasta", filtros.hasta);
    }
    for (const malo of invalidos) p.delete(malo);
    if (v) p.set(k, v);
    else p.delete(k);
    setParams(p, { replace: true });
    setCursores([null]);
  }

  function exportar(formato: "csv" | "xlsx") {
    descargar("/api/reportes/mensajes/exportar", { formato, ...consulta });
  }

  const filas = q.data?.items ?? [];
  return (
    <>
      <Encabezado
        titulo="Bitácora de mensajes"
        descripcion="Todo lo que enviaron los números de los agentes, con su estado de entrega."
        acciones={
          <Menu position="bottom-end">
            <Menu.Target>
              <Button leftSection={<IconDownload size={18} />} data-testid="boton-exportar">
                Exportar
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Item onClick={() => exportar("csv")} data-testid="exportar-csv">
                CSV (Excel, UTF-8)
              </Menu.Item>
              <Menu.Item onClick={() => exportar("xlsx")}>Excel (.xlsx)</Menu.Item>
            </Menu.Dropdown>
          </Menu>
        }
      />
      {invalidos.length > 0 && (
        <Alert color="yellow" role="status" mb="md" data-testid="filtro-invalido">
          {invalidos.map((k) => `El filtro de ${ETIQUETA_ID[k]} «${params.get(k)}» no es válido (debe ser un número de la lista)`).join("; ")}: no
          se aplicó. Elige el {ETIQUETA_ID[invalidos[0]]} en la lista de abajo.
        </Alert>
      )}
      <Card mb="md">
        <Group gap="sm" align="flex-start" wrap="wrap">
          <Select
            label="Agente"
            placeholder="Todos"
            data={(agentes.data ?? []).map((a) => ({ value: String(a.id), label: a.nombre }))}
            value={filtros.agenteId || null}
            onChange={(v) => cambiar("agenteId", v)}
            clearable
            searchable
            w={200}
          />
          <Select
            label="Equipo"
            placeholder="Todos"
            data={(equipos.data ?? []).map((e) => ({ value: String(e.id), label: e.nombre }))}
            value={filtros.equipoId || null}
            onChange={(v) => cambiar("equipoId", v)}
            clearable
            w={170}
          />
          <Select
            label="Estado"
            placeholder="Todos"
            data={Object.entries(ESTADOS_MENSAJE).map(([v, e]) => ({ value: v, label: e.texto }))}
            value={filtros.estado || null}
            onChange={(v) => cambiar("estado", v)}
            clearable
            w={150}
          />
          <TextInput
            label="Número"
            placeholder="55 1234"
            value={numero}
            onChange={(e) => setNumero(e.currentTarget.value)}
            inputMode="tel"
            w={180}
            description={numeroEstado.error ? undefined : numeroEstado.ayuda}
            error={numeroEstado.error}
            data-testid="filtro-numero"
          />
          <Select
            label="Campaña"
            placeholder="Todas"
            data={(campanas.data ?? []).map((c) => ({ value: String(c.id), label: c.nombre }))}
            value={filtros.campanaId || null}
            onChange={(v) => cambiar("campanaId", v)}
            clearable
            searchable
            w={220}
          />
          <CampoFecha label="Desde" value={filtros.desde} onChange={(v) => cambiar("desde", v)} w={160} />
          <CampoFecha label="Hasta" value={filtros.hasta} onChange={(v) => cambiar("hasta", v)} w={160} minDate={filtros.desde || undefined} />
          <Tooltip label="Quitar filtros">
            <Button
              variant="default"
              onClick={() => {
                setNumero("");
                setParams(new URLSearchParams(), { replace: true });
                setCursores([null]);
              }}
              aria-label="Quitar filtros"
            >
              <IconFilterOff size={18} />
            </Button>
          </Tooltip>
        </Group>
      </Card>
      <Card p={0}>
        {q.isLoading ? (
          <Cargando />
        ) : q.error ? (
          <Stack p="md">
            <ErrorCarga error={q.error} />
          </Stack>
        ) : filas.length === 0 ? (
          <Vacio titulo="Sin mensajes con estos filtros">Cambia las fechas o quita algún filtro.</Vacio>
        ) : (
          <Table.ScrollContainer minWidth={1000}>
            <Table striped data-testid="tabla-bitacora" aria-busy={q.isFetching}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Fecha</Table.Th>
                  <Table.Th>Agente</Table.Th>
                  <Table.Th>Destino</Table.Th>
                  <Table.Th>Mensaje</Table.Th>
                  <Table.Th>Origen</Table.Th>
                  <Table.Th>Estado</Table.Th>
                  <Table.Th>Entregado</Table.Th>
                  <Table.Th>Leído</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {filas.map((m) => (
                  <Table.Tr key={m.id}>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{fmtFechaHora(m.enviado_at ?? m.created_at)}</Table.Td>
                    <Table.Td>{m.agente_nombre ?? nombreAgente.get(m.agente_id) ?? `#${m.agente_id}`}</Table.Td>
                    <Table.Td className="num" style={{ whiteSpace: "nowrap" }}>
                      {m.contacto_id ? (
                        <Anchor component={Link} to={`/bandeja/${m.contacto_id}`} size="sm">
                          {fmtTelefono(m.numero_destino)}
                        </Anchor>
                      ) : (
                        fmtTelefono(m.numero_destino)
                      )}
                    </Table.Td>
                    <Table.Td maw={380}>
                      <Text size="sm" lineClamp={2} className="texto-mensaje" title={m.mensaje ?? ""}>
                        {m.mensaje ?? ""}
                      </Text>
                    </Table.Td>
                    <Table.Td>{ORIGENES[m.origen] ?? m.origen}</Table.Td>
                    <Table.Td>
                      <Tooltip label={m.codigo_error ? `Código de error ${m.codigo_error}` : ""} disabled={!m.codigo_error}>
                        <span>
                          <Insignia mapa={ESTADOS_MENSAJE} valor={m.estado} />
                        </span>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{fmtFechaHora(m.entregado_at)}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{fmtFechaHora(m.leido_at)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Group justify="space-between" p="sm">
          <Text size="sm" c="dimmed">
            Página {cursores.length}
          </Text>
          <Group gap="xs">
            <Button variant="default" size="xs" leftSection={<IconChevronLeft size={16} />} disabled={cursores.length === 1} onClick={() => setCursores(cursores.slice(0, -1))}>
              Anterior
            </Button>
            <Button
              variant="default"
              size="xs"
              rightSection={<IconChevronRight size={16} />}
              disabled={!q.data?.siguiente}
              onClick={() => q.data?.siguiente && setCursores([...cursores, q.data.siguiente])}
            >
              Siguiente
            </Button>
          </Group>
        </Group>
      </Card>
    </>
  );
}
