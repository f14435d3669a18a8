// The supervisors' live wall: every agent's session and today's figures, safety stops, active campaigns.
// Built for 210+ agents on a wall screen: rows are virtualized and bursts of events are applied in batches.
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { Link, useNavigate } from "react-router";
import {
  Alert,
  Anchor,
  Badge,
  Box,
  Card,
  Group,
  Paper,
  Progress,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
  Tooltip,
} from "@mantine/core";
import { useElementSize } from "@mantine/hooks";
import { IconAlertOctagon, IconSearch } from "@tabler/icons-react";
import { api, datos } from "../../api/cliente";
import type { AgenteSnapshot, Contadores, Snapshot } from "../../api/esquema";
import { useEvento, useTiempoReal } from "../../tiempo_real/socket";
import { Cargando, Cifra, Encabezado, ErrorCarga, ESTADOS_SESION } from "../../componentes/comunes";
import { fmtDuracion, fmtHora, fmtNumero, fmtPorcentaje, fmtRelativo, fmtTelefono } from "../../formato";
import { coincide } from "../../buscar";
import { plural } from "../../diccionario";
import { ahoraServidor, useAhora } from "../../reloj";

const ANCHO_TARJETA = 270;
const ALTO_FILA = 150;

const ORDEN_ESTADO: Record<string, number> = {
  restringida: 0,
  sesion_cerrada: 1,
  reemplazada: 2,
  reconectando: 3,
  esperando_qr: 4,
  conectando: 5,
  conectada: 6,
  desconectada: 7,
};

const MOTIVOS_PARADA: Record<string, string> = {
  restriccion: "Cuenta restringida por WhatsApp (463)",
  restringida: "Cuenta restringida por WhatsApp (463)",
  capping: "Aviso de límite de chats nuevos",
  sesion_perdida: "Se perdió la sesión de WhatsApp",
  desconexion: "Se perdió la sesión de WhatsApp",
  tasa_fallos: "Demasiados envíos fallidos seguidos",
  fallos: "Demasiados envíos fallidos seguidos",
  manual: "Detenida por un supervisor",
};

export function textoParada(motivo: string): string {
  return MOTIVOS_PARADA[motivo] ?? motivo.replace(/_/g, " ");
}

// The agent unlinked or disconnected on purpose: the stop that follows the lost session is not a safety alarm.
const POR_EL_USUARIO = /por el usuario|desde Enlace/i;
export function desvinculoVoluntario(a: AgenteSnapshot | undefined, p: { motivo: string; detalle?: string | null }): boolean {
  if (!a || p.motivo !== "sesion_perdida") return false;
  const estado = a.sesion?.estado ?? "desconectada";
  return (estado === "sesion_cerrada" || estado === "desconectada") && (POR_EL_USUARIO.test(a.sesion?.motivo ?? "") || POR_EL_USUARIO.test(p.detalle ?? ""));
}

function TarjetaAgente({ a, parada, voluntaria, ahora }: { a: AgenteSnapshot; parada: boolean; voluntaria: boolean; ahora: Date }) {
  const estado = a.sesion?.estado ?? "desconectada";
  const e = voluntaria ? { color: "gray", texto: "Desvinculada" } : ESTADOS_SESION[estado] ?? { color: "gray", texto: estado };
  const h = a.hoy;
  const navegar = useNavigate();
  return (
    <Paper
      component={Link}
      to={`/agentes/${a.id}`}
      p="sm"
      radius="md"
      h={ALTO_FILA - 12}
      data-testid="tarjeta-agente"
      data-agente={a.id}
      data-estado={estado}
      title={`Abrir la página de ${a.nombre}`}
      onKeyDown={(ev: KeyboardEvent) => ev.key === " " && (ev.preventDefault(), navegar(`/agentes/${a.id}`))}
      style={{
        display: "block",
        color: "inherit",
        textDecoration: "none",
        borderLeft: `4px solid var(--mantine-color-${e.color}-7)`,
        background: parada ? "var(--mantine-color-red-0)" : undefined,
      }}
    >
      <Group justify="space-between" wrap="nowrap" gap={6}>
        <Text fw={600} size="sm" truncate>
          {a.nombre}
        </Text>
        <Badge size="xs" color={e.color} variant="light" style={{ flexShrink: 0 }}>
          {e.texto}
        </Badge>
      </Group>
      <Text size="xs" c="gray.7" className="num" truncate>
        {fmtTelefono(a.sesion?.numero_wa ?? null)} · {a.sesion?.ultima_actividad_at ? fmtRelativo(a.sesion.ultima_actividad_at, ahora) : "sin actividad"}
      </Text>
      <SimpleGrid cols={4} spacing={4} mt={8}>
        <Mini etiqueta="Env." valor={h.enviados} ayuda="Enviados hoy" />
        <Mini etiqueta="Entr." valor={h.entregados} ayuda="Entregados hoy" />
        <Mini etiqueta="Leídos" valor={h.leidos} ayuda="Leídos hoy" />
        <Mini etiqueta="Resp." valor={h.respondidos} ayuda="Respondieron hoy" color="green.9" />
      </SimpleGrid>
      <Group gap={6} mt={6} wrap="nowrap">
        {parada && (
          <Badge size="xs" color="red.8" leftSection={<IconAlertOctagon size={10} aria-hidden />}>
            Parada
          </Badge>
        )}
        {h.fallidos > 0 && (
          <Badge size="xs" color="red" variant="light">
            {plural(h.fallidos, "fallido", "fallidos")}
          </Badge>
        )}
        {h.bajas > 0 && (
          <Badge size="xs" color="orange" variant="light">
            {plural(h.bajas, "baja", "bajas")}
          </Badge>
        )}
      </Group>
    </Paper>
  );
}

function Mini({ etiqueta, valor, ayuda, color }: { etiqueta: string; valor: number; ayuda: string; color?: string }) {
  return (
    <Tooltip label={ayuda} openDelay={400}>
      <div>
        <Text size="11px" c="gray.7" tt="uppercase" fw={600}>
          {etiqueta}
        </Text>
        <Text size="md" fw={700} className="num" c={color}>
          {fmtNumero(valor)}
        </Text>
      </div>
    </Tooltip>
  );
}

function Totales({ t }: { t: Contadores }) {
  return (
    <Card mb="md">
      <SimpleGrid cols={{ base: 2, sm: 4, lg: 8 }}>
        <Cifra etiqueta="Enviados hoy" valor={fmtNumero(t.enviados)} />
        <Cifra etiqueta="Entregados" valor={fmtNumero(t.entregados)} />
        <Cifra etiqueta="Leídos" valor={fmtNumero(t.leidos)} />
        <Cifra etiqueta="Respondieron" valor={fmtNumero(t.respondidos)} color="green.9" />
        <Cifra etiqueta="Tasa de respuesta" valor={fmtPorcentaje(t.tasa_respuesta)} />
        <Cifra etiqueta="Mediana de respuesta" valor={fmtDuracion(t.mediana_respuesta_s)} />
        <Cifra etiqueta="Bajas" valor={fmtNumero(t.bajas)} color="orange.9" />
        <Cifra etiqueta="Fallidos" valor={fmtNumero(t.fallidos)} color="red.9" />
      </SimpleGrid>
    </Card>
  );
}

function Rejilla({ agentes, paradas, voluntarias, ahora }: { agentes: AgenteSnapshot[]; paradas: Set<number>; voluntarias: Set<number>; ahora: Date }) {
  const { ref: medida, width } = useElementSize();
  const contenedor = useRef<HTMLDivElement>(null);
  const columnas = Math.max(1, Math.floor((width || 1200) / ANCHO_TARJETA));
  const filas = Math.ceil(agentes.length / columnas);
  const virtual = useVirtualizer({
    count: filas,
    getScrollElement: () => contenedor.current,
    estimateSize: () => ALTO_FILA,
    overscan: 3,
  });
  return (
    <Box ref={medida}>
      <div ref={contenedor} style={{ height: "calc(100vh - 330px)", minHeight: 360, overflow: "auto" }} data-testid="muro-agentes" role="list">
        <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
          {virtual.getVirtualItems().map((fila) => (
            <div
              key={fila.key}
              role="presentation"
              style={{
                position: "absolute",
                top: 0,
                left: 0,
                width: "100%",
                height: fila.size,
                transform: `translateY(${fila.start}px)`,
                display: "grid",
                gridTemplateColumns: `repeat(${columnas}, minmax(0, 1fr))`,
                gap: 10,
              }}
            >
              {agentes.slice(fila.index * columnas, fila.index * columnas + columnas).map((a) => (
                <div role="listitem" key={a.id}>
                  <TarjetaAgente a={a} parada={paradas.has(a.id)} voluntaria={voluntarias.has(a.id)} ahora={ahora} />
                </div>
              ))}
            </div>
          ))}
        </div>
      </div>
    </Box>
  );
}

type Parche = { agente_id: number; sesion?: Partial<NonNullable<AgenteSnapshot["sesion"]>> };

export default function Muro() {
  const cliente = useQueryClient();
  const { generacion } = useTiempoReal();
  const [filtroEstado, setFiltroEstado] = useState<string>("todos");
  const [equipo, setEquipo] = useState<string | null>(null);
  const [buscar, setBuscar] = useState("");
  const q = useQuery({
    queryKey: ["snapshot"],
    queryFn: () => datos(api.GET("/api/supervision/snapshot")),
    refetchInterval: 60_000,
  });
  const equipos = useQuery({ queryKey: ["equipos"], queryFn: () => datos(api.GET("/api/equipos")) });

  // A reconnecting client re-reads the snapshot, then applies events again.
  useEffect(() => {
    if (generacion > 1) cliente.invalidateQueries({ queryKey: ["snapshot"] });
  }, [generacion, cliente]);

  // Session state changes are patched in place, in one batch per animation frame.
  const pendientes = useRef<Parche[]>([]);
  const marco = useRef<number | null>(null);
  const aplicar = useCallback(() => {
    marco.current = null;
    const lote = pendientes.current;
    pendientes.current = [];
    cliente.setQueryData<Snapshot>(["snapshot"], (s) => {
      if (!s) return s;
      const porAgente = new Map(lote.map((p) => [p.agente_id, p]));
      return {
        ...s,
        agentes: s.agentes.map((a) => {
          const p = porAgente.get(a.id);
          if (!p?.sesion) return a;
          const base = a.sesion ?? { estado: "desconectada", numero_wa: null, nodo_id: null, conectada_at: null, ultima_actividad_at: null, motivo: null };
          return { ...a, sesion: { ...base, ...p.sesion } };
        }),
      };
    });
  }, [cliente]);
  const encolar = useCallback(
    (p: Parche) => {
      pendientes.current.push(p);
      if (marco.current === null) marco.current = window.requestAnimationFrame(aplicar);
    },
    [aplicar],
  );
  useEffect(() => () => {
    if (marco.current !== null) window.cancelAnimationFrame(marco.current);
  }, []);

  // Counter events are many: refresh the pre-aggregated snapshot at most every few seconds instead.
  const ultimoRefresco = useRef(0);
  const programado = useRef<number | null>(null);
  const refrescarPronto = useCallback(() => {
    if (programado.current !== null) return;
    const espera = Math.max(0, 3000 - (Date.now() - ultimoRefresco.current));
    programado.current = window.setTimeout(() => {
      programado.current = null;
      ultimoRefresco.current = Date.now();
      cliente.invalidateQueries({ queryKey: ["snapshot"] });
    }, espera);
  }, [cliente]);
  useEffect(() => () => {
    if (programado.current !== null) window.clearTimeout(programado.current);
  }, []);

  // One key casing on the wire (enlace.comun.eventos): the payload type is generated, nothing to guess.
  useEvento("sesion.estado", (d) => {
    encolar({
      agente_id: d.agente_id,
      sesion: { estado: d.estado, motivo: d.motivo ?? null, ultima_actividad_at: ahoraServidor().toISOString() },
    });
  });
  useEvento("mensaje.enviado", refrescarPronto);
  useEvento("mensaje.estado", refrescarPronto);
  useEvento("mensaje.recibido", refrescarPronto);
  useEvento("contacto.baja", refrescarPronto);
  useEvento("envio.parada", refrescarPronto);
  useEvento("campana.progreso", refrescarPronto);

  const snap = q.data;
  const ahora = useAhora(30_000);
  const porId = useMemo(() => new Map((snap?.agentes ?? []).map((a) => [a.id, a])), [snap?.agentes]);
  // A voluntary unlink is shown as a grey notice, not as a red safety stop.
  const [alertas, avisos] = useMemo(() => {
    const rojas: Snapshot["paradas"] = [];
    const grises = new Map<number, string | null>();
    for (const p of snap?.paradas ?? []) {
      if (desvinculoVoluntario(porId.get(p.agente_id), p)) grises.set(p.agente_id, p.created_at);
      else rojas.push(p);
    }
    // An agent who unlinked on purpose is a notice even when no stop was raised for it.
    for (const a of snap?.agentes ?? []) {
      if (a.sesion?.estado === "sesion_cerrada" && POR_EL_USUARIO.test(a.sesion.motivo ?? "") && !grises.has(a.id)) {
        grises.set(a.id, a.sesion.ultima_actividad_at);
      }
    }
    return [rojas, [...grises.entries()].map(([agente_id, momento]) => ({ agente_id, momento }))];
  }, [snap?.paradas, snap?.agentes, porId]);
  const paradas = useMemo(() => new Set(alertas.map((p) => p.agente_id)), [alertas]);
  const voluntarias = useMemo(() => new Set(avisos.map((p) => p.agente_id)), [avisos]);
  const nombres = useMemo(() => new Map((snap?.agentes ?? []).map((a) => [a.id, a.nombre])), [snap?.agentes]);
  const conteo = useMemo(() => {
    const c: Record<string, number> = {};
    for (const a of snap?.agentes ?? []) {
      const e = a.sesion?.estado ?? "desconectada";
      c[e] = (c[e] ?? 0) + 1;
    }
    return c;
  }, [snap?.agentes]);

  const visibles = useMemo(() => {
    return [...(snap?.agentes ?? [])]
      .filter((a) => a.activo)
      .filter((a) => !equipo || String(a.equipo_id) === equipo)
      .filter((a) => {
        const e = a.sesion?.estado ?? "desconectada";
        if (filtroEstado === "conectada") return e === "conectada";
        if (filtroEstado === "problemas") return paradas.has(a.id) || ["restringida", "sesion_cerrada", "reemplazada", "reconectando"].includes(e);
        if (filtroEstado === "desconectada") return e !== "conectada";
        return true;
      })
      .filter((a) => coincide(buscar, [a.nombre], [a.sesion?.numero_wa]))
      .sort((x, y) => {
        const px = paradas.has(x.id) ? -1 : ORDEN_ESTADO[x.sesion?.estado ?? "desconectada"] ?? 9;
        const py = paradas.has(y.id) ? -1 : ORDEN_ESTADO[y.sesion?.estado ?? "desconectada"] ?? 9;
        return px - py || x.nombre.localeCompare(y.nombre, "es");
      });
  }, [snap?.agentes, equipo, filtroEstado, buscar, paradas]);

  if (q.isLoading) return <Cargando texto="Cargando el muro…" />;
  if (q.error || !snap) return <ErrorCarga error={q.error} />;
  const conectados = conteo.conectada ?? 0;

  return (
    <>
      <Encabezado
        titulo="Muro de agentes"
        descripcion={`Actualizado ${fmtHora(snap.generado_at)} · ${fmtNumero(conectados)} de ${fmtNumero(snap.agentes.length)} agentes conectados`}
        acciones={
          <Group gap={6}>
            {Object.entries(conteo)
              .sort((a, b) => (ORDEN_ESTADO[a[0]] ?? 9) - (ORDEN_ESTADO[b[0]] ?? 9))
              .map(([e, n]) => (
                <Badge key={e} color={ESTADOS_SESION[e]?.color ?? "gray"} variant="light">
                  {ESTADOS_SESION[e]?.texto ?? e}: {n}
                </Badge>
              ))}
          </Group>
        }
      />
      <Totales t={snap.totales_hoy} />
      {alertas.length > 0 && (
        <Alert color="red" icon={<IconAlertOctagon size={18} />} title={`Paradas de seguridad activas (${alertas.length})`} mb="md" data-testid="paradas">
          <Stack gap={2}>
            {alertas.slice(0, 6).map((p) => (
              <Text size="sm" key={p.id}>
                <Anchor component={Link} to={`/agentes/${p.agente_id}`} fw={700} c="inherit">
                  {nombres.get(p.agente_id) ?? `Agente #${p.agente_id}`}
                </Anchor>
                : {p.detalle ?? textoParada(p.motivo)} ({fmtRelativo(p.created_at, ahora)})
              </Text>
            ))}
            {alertas.length > 6 && <Text size="sm">y {alertas.length - 6} más…</Text>}
          </Stack>
        </Alert>
      )}
      {avisos.length > 0 && (
        <Alert color="gray" variant="light" title={`Sesiones desvinculadas por su agente (${avisos.length})`} mb="md" data-testid="avisos-desvinculo">
          <Stack gap={2}>
            {avisos.slice(0, 6).map((p) => (
              <Text size="sm" key={p.agente_id}>
                <b>{nombres.get(p.agente_id) ?? `Agente #${p.agente_id}`}</b> desvinculó su WhatsApp{p.momento ? ` ${fmtRelativo(p.momento, ahora)}` : ""}; no
                es una alerta de seguridad.
              </Text>
            ))}
            {avisos.length > 6 && <Text size="sm">y {avisos.length - 6} más…</Text>}
          </Stack>
        </Alert>
      )}
      <Group mb="sm" gap="sm" wrap="wrap">
        <SegmentedControl
          value={filtroEstado}
          onChange={setFiltroEstado}
          data={[
            { value: "todos", label: "Todos" },
            { value: "conectada", label: "Conectados" },
            { value: "desconectada", label: "Sin conexión" },
            { value: "problemas", label: "Con problemas" },
          ]}
          aria-label="Filtrar por estado"
        />
        <Select
          placeholder="Todos los equipos"
          data={(equipos.data ?? []).map((e) => ({ value: String(e.id), label: e.nombre }))}
          value={equipo}
          onChange={setEquipo}
          clearable
          aria-label="Filtrar por equipo"
          w={200}
        />
        <TextInput leftSection={<IconSearch size={16} />} placeholder="Buscar agente o número" value={buscar} onChange={(e) => setBuscar(e.currentTarget.value)} aria-label="Buscar agente" w={240} />
        <Text size="sm" c="gray.7" role="status">
          {plural(visibles.length, "agente visible", "agentes visibles")}
        </Text>
      </Group>
      <Rejilla agentes={visibles} paradas={paradas} voluntarias={voluntarias} ahora={ahora} />
      {snap.campanas_activas.length > 0 && (
        <Card mt="md">
          <Title order={3} size="h5" mb="sm">
            Campañas activas ({snap.campanas_activas.length})
          </Title>
          <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
            {snap.campanas_activas.slice(0, 12).map((c) => {
              const avance = c.total_mensajes ? (c.enviados + c.fallidos) / c.total_mensajes : 0;
              return (
                <div key={c.id}>
                  <Group justify="space-between" wrap="nowrap">
                    <Anchor component={Link} to={`/campanas/${c.id}`} size="sm" fw={600} truncate>
                      {c.nombre}
                    </Anchor>
                    <Text size="xs" c="dimmed">
                      {nombres.get(c.agente_id) ?? `#${c.agente_id}`}
                    </Text>
                  </Group>
                  <Progress value={avance * 100} size="sm" mt={4} aria-label={`Avance de ${c.nombre}`} />
                  <Text size="xs" c="dimmed" className="num">
                    {fmtNumero(c.enviados)} de {fmtNumero(c.total_mensajes)} · {fmtPorcentaje(avance)}
                  </Text>
                </div>
              );
            })}
          </SimpleGrid>
        </Card>
      )}
    </>
  );
}
