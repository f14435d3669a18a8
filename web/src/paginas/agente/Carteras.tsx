// Carteras: upload a CSV/XLSX (drag and drop, progress, validation report), self-assign from the pool, browse contacts.
import { useSearchParams } from "react-router";
import { useEffect, useState } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
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
import { api, datos, descargar, mensajeDeError, pedir, subirConProgreso } from "../../api/cliente";
import type { EnlaceCarterasSchemasImportacionSalida } from "../../api/esquema";
import { useAgentes, useCarteras } from "./datos";
import { useUsuario } from "../../auth/sesion";
import { Cargando, Cifra, Encabezado, ErrorCarga, ESTADOS_CONTACTO, Insignia, Vacio } from "../../componentes/comunes";
import ZonaArchivo from "../../componentes/ZonaArchivo";
import { fmtDinero, fmtFechaHora, fmtNumero, fmtPorcentaje, fmtTelefono } from "../../formato";
import { useConfirmar } from "../../componentes/Confirmar";
import { plural } from "../../diccionario";
import { textoCampo } from "../../diccionario";

type Importacion = EnlaceCarterasSchemasImportacionSalida;

/** One row of the import report CSV: fila, resultado, campo, motivo, telefono. */
interface FilaReporte {
  fila: string;
  resultado: string;
  campo: string;
  motivo: string;
  telefono: string;
}

const RESULTADOS: Record<string, string> = {
  aceptado: "Aceptada",
  rechazado: "Rechazada",
  duplicado: "Duplicada en el archivo",
  existente: "Ya estaba en tu cartera",
  otro_agente: "Es de otro agente",
  suprimido: "Suprimida (pidió no ser contactada)",
};

/** Minimal RFC 4180 reader (quoted fields, doubled quotes); the report is small and trusted in shape. */
export function leerCsv(texto: string): string[][] {
  const filas: string[][] = [];
  let fila: string[] = [];
  let campo = "";
  let comillas = false;
  const t = texto.replace(/^\ufeff/, "");
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (comillas) {
      if (ch === '"' && t[i + 1] === '"') {
        campo += '"';
        i++;
      } else if (ch === '"') comillas = false;
      else campo += ch;
    } else if (ch === '"') comillas = true;
    else if (ch === ",") {
      fila.push(campo);
      campo = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && t[i + 1] === "\n") i++;
      fila.push(campo);
      filas.push(fila);
      fila = [];
      campo = "";
    } else campo += ch;
  }
  if (campo || fila.length) {
    fila.push(campo);
    filas.push(fila);
  }
  return filas;
}

const FUENTES: Record<string, string> = { csv_upload: "Archivo", auto_asignacion: "Auto-asignada", manual: "Manual", pool: "Pool de la empresa" };

function ReporteValidacion({ imp }: { imp: Importacion }) {
  const url = `/api/cartera/importaciones/${imp.id}/reporte`;
  const filas = useQuery({
    queryKey: ["reporte-importacion", imp.id],
    queryFn: async () => {
      const texto = await pedir<string>("GET", url);
      return leerCsv(String(texto))
        .slice(1)
        .filter((f) => f.length >= 4)
        .map(([fila, resultado, campo, motivo, telefono]) => ({ fila, resultado, campo, motivo, telefono: telefono ?? "" }) as FilaReporte)
        .filter((f) => f.resultado !== "aceptado");
    },
    enabled: imp.estado === "completada",
  });
  const problemas = filas.data ?? [];
  return (
    <Card data-testid="reporte-validacion">
      <Group justify="space-between" mb="md">
        <div>
          <Title order={3} size="h5">
            Reporte de validación: {imp.nombre_cartera}
          </Title>
          <Text size="xs" c="dimmed">
            {imp.archivo} · {fmtFechaHora(imp.created_at)}
          </Text>
        </div>
        {imp.estado === "completada" && (
          <Button size="xs" variant="light" leftSection={<IconDownload size={16} />} onClick={() => descargar(url)}>
            Descargar reporte CSV
          </Button>
        )}
      </Group>
      {imp.estado === "fallida" && (
        <Alert color="red" mb="md" role="alert">
          {imp.error ?? "La importación falló; no se agregó ningún contacto."}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 2, sm: 4, lg: 7 }} mb="md">
        <Cifra etiqueta="Filas" valor={fmtNumero(imp.filas)} />
        <Cifra etiqueta="Aceptadas" valor={fmtNumero(imp.aceptados)} color="green.8" />
        <Cifra etiqueta="Rechazadas" valor={fmtNumero(imp.rechazados)} color="red.8" />
        <Cifra etiqueta="Duplicadas" valor={fmtNumero(imp.duplicados)} />
        <Cifra etiqueta="Ya existentes" valor={fmtNumero(imp.existentes)} />
        <Cifra etiqueta="De otro agente" valor={fmtNumero(imp.otro_agente)} />
        <Cifra etiqueta="Suprimidas" valor={fmtNumero(imp.suprimidos)} color="orange.8" />
      </SimpleGrid>
      {filas.isLoading ? (
        <Cargando texto="Leyendo el reporte…" />
      ) : problemas.length > 0 ? (
        <Table.ScrollContainer minWidth={600} mah={360}>
          <Table stickyHeader striped data-testid="filas-rechazadas">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Fila</Table.Th>
                <Table.Th>Resultado</Table.Th>
                <Table.Th>Campo</Table.Th>
                <Table.Th>Teléfono</Table.Th>
                <Table.Th>Motivo</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {problemas.slice(0, 500).map((r, i) => (
                <Table.Tr key={`${r.fila}-${i}`}>
                  <Table.Td className="num">{r.fila}</Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>
                    <Badge size="sm" variant="light" color={r.resultado === "rechazado" ? "red" : r.resultado === "suprimido" ? "orange" : "gray"} styles={{ root: { maxWidth: "none" }, label: { overflow: "visible" } }}>
                      {RESULTADOS[r.resultado] ?? r.resultado}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{r.campo ? textoCampo(r.campo) : "—"}</Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace" className="texto-mensaje">
                      {r.telefono}
                    </Text>
                  </Table.Td>
                  <Table.Td>{r.motivo}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : (
        imp.estado === "completada" && (
          <Text size="sm" c="dimmed">
            Todas las filas se aceptaron.
          </Text>
        )
      )}
      {problemas.length > 500 && (
        <Text size="xs" c="dimmed" mt="xs">
          Se muestran las primeras 500; descarga el CSV para verlas todas.
        </Text>
      )}
    </Card>
  );
}

function Subir({ alTerminar }: { alTerminar: (r: Importacion) => void }) {
  const usuario = useUsuario();
  const [archivo, setArchivo] = useState<File | null>(null);
  const [nombre, setNombre] = useState("");
  const [agente, setAgente] = useState<string | null>(null);
  const [progreso, setProgreso] = useState<number | null>(null);
  const [procesando, setProcesando] = useState<Importacion | null>(null);
  const [error, setError] = useState<string | null>(null);
  const agentes = useAgentes(usuario.rol !== "agente");

  useEffect(() => {
    if (archivo && !nombre) setNombre(archivo.name.replace(/\.(csv|xlsx|txt)$/i, ""));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [archivo]);

  // Large files are processed as a background job: poll it until it finishes.
  useEffect(() => {
    if (!procesando) return;
    const id = procesando.id;
    const t = window.setInterval(async () => {
      try {
        const r = await datos(api.GET("/api/cartera/importaciones/{importacion_id}", { params: { path: { importacion_id: id } } }));
        setProcesando(r);
        if (r.estado === "completada" || r.estado === "fallida") {
          window.clearInterval(t);
          setProcesando(null);
          alTerminar(r);
        }
      } catch {
        /* keep polling: a transient error must not lose the report */
      }
    }, 1500);
    return () => window.clearInterval(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [procesando?.id, alTerminar]);

  async function subir() {
    if (!archivo) return;
    setError(null);
    setProgreso(0);
    const form = new FormData();
    form.append("archivo", archivo);
    form.append("nombre", nombre || archivo.name);
    if (agente) form.append("agenteId", agente);
    try {
      const r = await subirConProgreso<Importacion>("/api/cartera/subir", form, setProgreso);
      if (r.en_segundo_plano && r.estado !== "completada" && r.estado !== "fallida") setProcesando(r);
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
              Procesando filas… {fmtNumero(procesando.filas)} leídas ({fmtPorcentaje(procesando.progreso)})
            </Text>
            <Progress
              value={procesando.progreso * 100}
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
  const confirmar = useConfirmar();
  const [cantidad, setCantidad] = useState<number | string>(50);
  const [agente, setAgente] = useState<string | null>(usuario.agente_id ? String(usuario.agente_id) : null);
  const [ocupado, setOcupado] = useState(false);
  const agentes = useAgentes(usuario.rol !== "agente");
  const pool = useQuery({ queryKey: ["pool"], queryFn: () => datos(api.GET("/api/cartera/pool")) });
  const maximo = Math.max(1, Math.min(pool.data?.maximo_por_vez ?? 1000, pool.data?.disponibles ?? 1000));
  const n = typeof cantidad === "number" ? cantidad : Number(cantidad);
  // Bounds said before the click, not discovered after it: 1 … what the pool has (and the per-call cap).
  const problema =
    cantidad === "" || !Number.isInteger(n)
      ? "Escribe cuántos contactos quieres (un número entero)."
      : n < 1
        ? "La cantidad mínima es 1."
        : pool.data && pool.data.disponibles === 0
          ? "El pool no tiene contactos disponibles ahora."
          : n > maximo
            ? `Como máximo ${fmtNumero(maximo)}${pool.data && maximo === pool.data.disponibles ? " (los que quedan en el pool)" : " por vez"}.`
            : null;

  async function asignar() {
    if (!agente || problema) return;
    const nombre = usuario.rol === "agente" ? "ti" : agentes.data?.find((a) => String(a.id) === agente)?.nombre ?? "el agente";
    const disponibles = pool.data?.disponibles ?? 0;
    const si = await confirmar({
      titulo: `¿Tomar ${plural(n, "contacto", "contactos")} del pool?`,
      mensaje: (
        <Stack gap={6}>
          <Text size="sm">
            Se asignarán {plural(n, "contacto", "contactos")} a {nombre} en una cartera nueva «Auto-asignación …» con la fecha y hora de la
            Ciudad de México.
          </Text>
          <Text size="sm" data-testid="consecuencia-pool">
            El pool tiene {plural(disponibles, "contacto disponible", "contactos disponibles")}; quedarían {fmtNumero(Math.max(0, disponibles - n))} para el resto del
            equipo. Los contactos sin actividad vuelven al pool solos.
          </Text>
        </Stack>
      ),
      confirmar: `Sí, asignar ${plural(n, "contacto", "contactos")}`,
      volver: "No, volver",
    });
    if (!si) return;
    setOcupado(true);
    try {
      const r = await datos(api.POST("/api/cartera/auto-asignar", { body: { agenteId: Number(agente), cantidad: n } }));
      notifications.show({
        color: r.asignados > 0 ? "green" : "yellow",
        title: r.asignados > 0 ? "Contactos asignados" : "No hubo contactos disponibles",
        message: r.mensaje,
      });
      cliente.invalidateQueries({ queryKey: ["carteras"] });
      cliente.invalidateQueries({ queryKey: ["contactos"] });
      cliente.invalidateQueries({ queryKey: ["pool"] });
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
        {pool.data && ` Disponibles ahora: ${fmtNumero(pool.data.disponibles)}.`}
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
        <NumberInput
          label="Cantidad de contactos"
          description={`Entre 1 y ${fmtNumero(maximo)}`}
          min={1}
          max={maximo}
          step={10}
          allowNegative={false}
          allowDecimal={false}
          clampBehavior="none"
          value={cantidad}
          onChange={setCantidad}
          thousandSeparator=","
          error={problema}
          data-testid="cantidad-pool"
        />
        <Button leftSection={<IconHandGrab size={18} aria-hidden />} onClick={asignar} loading={ocupado} disabled={!agente || !!problema}>
          {usuario.rol === "agente" ? "Asignarme contactos" : "Asignar contactos"}
        </Button>
      </Stack>
    </Card>
  );
}

function ListaCarteras({ alElegir, elegida }: { alElegir: (id: number | null) => void; elegida: number | null }) {
  const usuario = useUsuario();
  const q = useCarteras();
  const agentes = useAgentes(usuario.rol !== "agente");
  const nombreAgente = new Map((agentes.data ?? []).map((a) => [a.id, a.nombre]));
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
                <Table.Td>{c.agente_id ? nombreAgente.get(c.agente_id) ?? (c.agente_id === usuario.agente_id ? usuario.nombre : `#${c.agente_id}`) : "Pool"}</Table.Td>
                <Table.Td ta="right" className="num">
                  {fmtNumero(c.contactos_actuales || c.total_contactos)}
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

/** Supervisors and admins move the selected contacts to another agent, or back to the company pool. */
function Reasignar({ ids, alTerminar }: { ids: number[]; alTerminar: () => void }) {
  const cliente = useQueryClient();
  const agentes = useAgentes();
  const [destino, setDestino] = useState<string | null>(null);
  const [ocupado, setOcupado] = useState(false);
  async function mover() {
    setOcupado(true);
    try {
      const r = await datos(
        api.POST("/api/cartera/reasignar", { body: { contactoIds: ids, agenteId: destino === "pool" || !destino ? null : Number(destino) } }),
      );
      notifications.show({ color: "green", message: `Se reasignaron ${fmtNumero(r.reasignados)} contactos.` });
      cliente.invalidateQueries({ queryKey: ["contactos"] });
      cliente.invalidateQueries({ queryKey: ["carteras"] });
      alTerminar();
    } catch (e) {
      notifications.show({ color: "red", title: "No se pudo reasignar", message: mensajeDeError(e) });
    } finally {
      setOcupado(false);
    }
  }
  return (
    <Group gap="xs">
      <Text size="sm">
        {fmtNumero(ids.length)} {ids.length === 1 ? "seleccionado" : "seleccionados"} →
      </Text>
      <Select
        size="xs"
        w={200}
        placeholder="Elige el destino"
        data={[{ value: "pool", label: "Pool de la empresa" }, ...(agentes.data ?? []).map((a) => ({ value: String(a.id), label: a.nombre }))]}
        value={destino}
        onChange={setDestino}
        searchable
        aria-label="Reasignar a"
      />
      <Button size="xs" onClick={mover} loading={ocupado} disabled={!destino}>
        Reasignar
      </Button>
    </Group>
  );
}

function ListaContactos({ carteraId }: { carteraId: number | null }) {
  const usuario = useUsuario();
  const supervisa = usuario.rol !== "agente";
  const [elegidos, setElegidos] = useState<number[]>([]);
  const [pagina, setPagina] = useState(1);
  const [buscar, setBuscar] = useState("");
  const [estado, setEstado] = useState<string | null>(null);
  const porPagina = 50;
  useEffect(() => {
    setPagina(1);
    setElegidos([]);
  }, [carteraId, buscar, estado]);
  const q = useQuery({
    queryKey: ["contactos", carteraId, pagina, buscar, estado],
    queryFn: async () => {
      const r = await datos(
        api.GET("/api/contactos", {
          params: { query: { carteraId: carteraId ?? undefined, pagina, porPagina, q: buscar || undefined, estado: estado ?? undefined } },
        }),
      );
      return { filas: r.items, total: r.total };
    },
    placeholderData: keepPreviousData,
  });
  const filas = q.data?.filas ?? [];
  const total = q.data?.total;
  return (
    <Card p={0}>
      <Group p="md" gap="sm">
        <TextInput placeholder="Buscar nombre o teléfono" value={buscar} onChange={(e) => setBuscar(e.currentTarget.value)} aria-label="Buscar contacto por nombre o teléfono" w={260} data-testid="buscar-contacto" />
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
        {supervisa && elegidos.length > 0 && <Reasignar ids={elegidos} alTerminar={() => setElegidos([])} />}
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
                {supervisa && (
                  <Table.Th w={40}>
                    <Checkbox
                      aria-label="Elegir todos los de esta página"
                      checked={filas.length > 0 && filas.every((c) => elegidos.includes(c.id))}
                      onChange={(e) =>
                        setElegidos(e.currentTarget.checked ? [...new Set([...elegidos, ...filas.map((c) => c.id)])] : elegidos.filter((id) => !filas.some((c) => c.id === id)))
                      }
                    />
                  </Table.Th>
                )}
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
                  {supervisa && (
                    <Table.Td>
                      <Checkbox
                        aria-label={`Elegir ${c.nombre ?? c.telefono}`}
                        checked={elegidos.includes(c.id)}
                        onChange={(e) => setElegidos(e.currentTarget.checked ? [...elegidos, c.id] : elegidos.filter((id) => id !== c.id))}
                      />
                    </Table.Td>
                  )}
                  <Table.Td>{c.nombre ?? "—"}</Table.Td>
                  <Table.Td className="num">{fmtTelefono(c.telefono)}</Table.Td>
                  <Table.Td>{c.estado_mx ?? "—"}</Table.Td>
                  <Table.Td ta="right" className="num">
                    {fmtDinero((c.datos_credito?.monto ?? null) as number | string | null)}
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
  const [reporte, setReporte] = useState<Importacion | null>(null);
  // «Corregir la cartera» from the launch dialog opens its contacts directly.
  const [parametros] = useSearchParams();
  const desdeEnlace = Number(parametros.get("cartera")) || null;
  const [elegida, setElegida] = useState<number | null>(desdeEnlace);
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
        {reporte && <ReporteValidacion imp={reporte} />}
        <Tabs defaultValue={desdeEnlace ? "contactos" : "carteras"}>
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
