// Charts for supervisors: daily volume, the delivery funnel, response rate per day, and team totals.
import { useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Card, Grid, Group, SegmentedControl, Select, SimpleGrid, Table, Text, Title } from "@mantine/core";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { api, datos } from "../../api/cliente";
import type { FilaAgenteDia } from "../../api/esquema";
import { Cargando, Cifra, Encabezado, ErrorCarga, Vacio } from "../../componentes/comunes";
import { fmtDia, fmtDuracion, fmtNumero, fmtPorcentaje, hoyISO } from "../../formato";

const COLORES = { enviados: "#0b7a5a", entregados: "#1c7ed6", leidos: "#7048e8", respondidos: "#f08c00", fallidos: "#e03131", bajas: "#868e96" };

function restarDias(iso: string, dias: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - dias);
  return d.toISOString().slice(0, 10);
}

function porDia(filas: FilaAgenteDia[], desde: string, hasta: string) {
  const m = new Map<string, { dia: string; enviados: number; entregados: number; leidos: number; respondidos: number; fallidos: number; bajas: number }>();
  for (const f of filas) {
    const d = m.get(f.dia) ?? { dia: f.dia, enviados: 0, entregados: 0, leidos: 0, respondidos: 0, fallidos: 0, bajas: 0 };
    d.enviados += f.enviados;
    d.entregados += f.entregados;
    d.leidos += f.leidos;
    d.respondidos += f.respondidos;
    d.fallidos += f.fallidos;
    d.bajas += f.bajas;
    m.set(f.dia, d);
  }
  // Every day of the period appears, with zeros where nothing was sent, so the axis reads as a calendar.
  for (let d = desde; d <= hasta; d = restarDias(d, -1)) {
    if (!m.has(d)) m.set(d, { dia: d, enviados: 0, entregados: 0, leidos: 0, respondidos: 0, fallidos: 0, bajas: 0 });
  }
  return [...m.values()]
    .sort((a, b) => a.dia.localeCompare(b.dia))
    .map((d) => ({ ...d, etiqueta: fmtDia(d.dia), tasa: d.enviados ? d.respondidos / d.enviados : 0 }));
}

const fmtEje = (v: number) => fmtNumero(v);

export default function Graficas() {
  const [dias, setDias] = useState("14");
  const [equipo, setEquipo] = useState<string | null>(null);
  const hasta = hoyISO();
  const desde = restarDias(hasta, Number(dias) - 1);
  const equipos = useQuery({ queryKey: ["equipos"], queryFn: () => datos(api.GET("/api/equipos")) });
  const q = useQuery({
    queryKey: ["tablero-agentes", desde, hasta, equipo],
    queryFn: () =>
      datos(api.GET("/api/reportes/tablero/agentes", { params: { query: { desde, hasta, equipoId: equipo ? Number(equipo) : undefined } } })),
  });
  const porEquipo = useQuery({
    queryKey: ["tablero-equipos", desde, hasta],
    queryFn: () => datos(api.GET("/api/reportes/tablero/equipos", { params: { query: { desde, hasta } } })),
  });

  const serie = useMemo(() => porDia(q.data ?? [], desde, hasta), [q.data, desde, hasta]);
  const total = useMemo(
    () => serie.reduce((t, d) => ({ enviados: t.enviados + d.enviados, entregados: t.entregados + d.entregados, leidos: t.leidos + d.leidos, respondidos: t.respondidos + d.respondidos, bajas: t.bajas + d.bajas, fallidos: t.fallidos + d.fallidos }), { enviados: 0, entregados: 0, leidos: 0, respondidos: 0, bajas: 0, fallidos: 0 }),
    [serie],
  );
  const embudo = [
    { etapa: "Enviados", valor: total.enviados, color: COLORES.enviados },
    { etapa: "Entregados", valor: total.entregados, color: COLORES.entregados },
    { etapa: "Leídos", valor: total.leidos, color: COLORES.leidos },
    { etapa: "Respondieron", valor: total.respondidos, color: COLORES.respondidos },
  ];
  const mejores = useMemo(() => {
    const m = new Map<number, { nombre: string; enviados: number; respondidos: number }>();
    for (const f of q.data ?? []) {
      const a = m.get(f.agente_id) ?? { nombre: f.agente_nombre, enviados: 0, respondidos: 0 };
      a.enviados += f.enviados;
      a.respondidos += f.respondidos;
      m.set(f.agente_id, a);
    }
    return [...m.values()].filter((a) => a.enviados > 0).sort((a, b) => b.respondidos / b.enviados - a.respondidos / a.enviados).slice(0, 10);
  }, [q.data]);

  return (
    <>
      <Encabezado
        titulo="Gráficas"
        descripcion={`Del ${fmtDia(desde)} al ${fmtDia(hasta)}`}
        acciones={
          <Group gap="sm">
            <Select
              placeholder="Todos los equipos"
              data={(equipos.data ?? []).map((e) => ({ value: String(e.id), label: e.nombre }))}
              value={equipo}
              onChange={setEquipo}
              clearable
              aria-label="Equipo"
              w={200}
            />
            <SegmentedControl
              value={dias}
              onChange={setDias}
              data={[
                { value: "7", label: "7 días" },
                { value: "14", label: "14 días" },
                { value: "30", label: "30 días" },
              ]}
              aria-label="Periodo"
            />
          </Group>
        }
      />
      {q.isLoading ? (
        <Cargando />
      ) : q.error ? (
        <ErrorCarga error={q.error} />
      ) : (
        <Grid gap="md">
          <Grid.Col span={12}>
            <Card>
              <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
                <Cifra etiqueta="Enviados" valor={fmtNumero(total.enviados)} />
                <Cifra etiqueta="Entregados" valor={fmtPorcentaje(total.enviados ? total.entregados / total.enviados : null)} ayuda="De los enviados" />
                <Cifra etiqueta="Leídos" valor={fmtPorcentaje(total.enviados ? total.leidos / total.enviados : null)} />
                <Cifra etiqueta="Tasa de respuesta" valor={fmtPorcentaje(total.enviados ? total.respondidos / total.enviados : null)} color="green.8" />
                <Cifra etiqueta="Bajas" valor={fmtNumero(total.bajas)} color="orange.8" />
                <Cifra etiqueta="Fallidos" valor={fmtNumero(total.fallidos)} color="red.8" />
              </SimpleGrid>
            </Card>
          </Grid.Col>
          <Grid.Col span={{ base: 12, lg: 8 }}>
            <Card h={360}>
              <Title order={3} size="h5" mb="sm">
                Volumen diario
              </Title>
              {total.enviados === 0 && total.fallidos === 0 ? (
                <Vacio titulo="Sin datos en el periodo" />
              ) : (
                <ResponsiveContainer width="100%" height={280}>
                  <BarChart data={serie} margin={{ left: 8, right: 8 }}>
                    <CartesianGrid strokeDasharray="3 3" vertical={false} />
                    <XAxis dataKey="etiqueta" tick={{ fontSize: 12 }} />
                    <YAxis tickFormatter={fmtEje} tick={{ fontSize: 12 }} width={56} />
                    <Tooltip formatter={(v) => fmtNumero(Number(v))} />
                    <Legend />
                    <Bar dataKey="enviados" name="Enviados" fill={COLORES.enviados} radius={[3, 3, 0, 0]} />
                    <Bar dataKey="respondidos" name="Respondieron" fill={COLORES.respondidos} radius={[3, 3, 0, 0]} />
                    <Bar dataKey="fallidos" name="Fallidos" fill={COLORES.fallidos} radius={[3, 3, 0, 0]} />
                  </BarChart>
                </ResponsiveContainer>
              )}
            </Card>
          </Grid.Col>
          <Grid.Col span={{ base: 12, lg: 4 }}>
            <Card h={360}>
              <Title order={3} size="h5" mb="sm">
                Embudo de entrega
              </Title>
              <ResponsiveContainer width="100%" height={280}>
                <BarChart data={embudo} layout="vertical" margin={{ left: 16, right: 24 }}>
                  <XAxis type="number" tickFormatter={fmtEje} tick={{ fontSize: 12 }} />
                  <YAxis type="category" dataKey="etapa" tick={{ fontSize: 12 }} width={96} />
                  <Tooltip formatter={(v) => fmtNumero(Number(v))} />
                  <Bar dataKey="valor" name="Mensajes" radius={[0, 4, 4, 0]}>
                    {embudo.map((e) => (
                      <Cell key={e.etapa} fill={e.color} />
                    ))}
                  </Bar>
                </BarChart>
              </ResponsiveContainer>
            </Card>
          </Grid.Col>
          <Grid.Col span={{ base: 12, lg: 6 }}>
            <Card h={340}>
              <Title order={3} size="h5" mb="sm">
                Tasa de respuesta por día
              </Title>
              <ResponsiveContainer width="100%" height={260}>
                <LineChart data={serie} margin={{ left: 8, right: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="etiqueta" tick={{ fontSize: 12 }} />
                  <YAxis tickFormatter={(v) => fmtPorcentaje(Number(v))} tick={{ fontSize: 12 }} width={56} />
                  <Tooltip formatter={(v) => fmtPorcentaje(Number(v))} />
                  <Line type="monotone" dataKey="tasa" name="Tasa de respuesta" stroke={COLORES.respondidos} strokeWidth={2} dot={{ r: 3 }} />
                </LineChart>
              </ResponsiveContainer>
            </Card>
          </Grid.Col>
          <Grid.Col span={{ base: 12, lg: 6 }}>
            <Card h={340}>
              <Title order={3} size="h5" mb="sm">
                Mejores tasas de respuesta
              </Title>
              {mejores.length === 0 ? (
                <Vacio titulo="Sin envíos en el periodo" />
              ) : (
                <Table>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Agente</Table.Th>
                      <Table.Th ta="right">Enviados</Table.Th>
                      <Table.Th ta="right">Respondieron</Table.Th>
                      <Table.Th ta="right">Tasa</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {mejores.map((a) => (
                      <Table.Tr key={a.nombre}>
                        <Table.Td>{a.nombre}</Table.Td>
                        <Table.Td ta="right" className="num">{fmtNumero(a.enviados)}</Table.Td>
                        <Table.Td ta="right" className="num">{fmtNumero(a.respondidos)}</Table.Td>
                        <Table.Td ta="right" className="num">{fmtPorcentaje(a.respondidos / a.enviados)}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Card>
          </Grid.Col>
          <Grid.Col span={12}>
            <Card>
              <Title order={3} size="h5" mb="sm">
                Por equipo
              </Title>
              {porEquipo.isLoading ? (
                <Cargando />
              ) : (porEquipo.data ?? []).length === 0 ? (
                <Text size="sm" c="dimmed">Sin equipos con actividad en el periodo.</Text>
              ) : (
                <Table.ScrollContainer minWidth={700}>
                  <Table striped>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Equipo</Table.Th>
                        <Table.Th ta="right">Agentes</Table.Th>
                        <Table.Th ta="right">Enviados</Table.Th>
                        <Table.Th ta="right">Entregados</Table.Th>
                        <Table.Th ta="right">Leídos</Table.Th>
                        <Table.Th ta="right">Respondieron</Table.Th>
                        <Table.Th ta="right">Tasa</Table.Th>
                        <Table.Th ta="right">Mediana resp.</Table.Th>
                        <Table.Th ta="right">Bajas</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {(porEquipo.data ?? []).map((e) => (
                        <Table.Tr key={e.equipo_id}>
                          <Table.Td>{e.equipo_nombre}</Table.Td>
                          <Table.Td ta="right" className="num">{fmtNumero(e.agentes)}</Table.Td>
                          <Table.Td ta="right" className="num">{fmtNumero(e.enviados)}</Table.Td>
                          <Table.Td ta="right" className="num">{fmtNumero(e.entregados)}</Table.Td>
                          <Table.Td ta="right" className="num">{fmtNumero(e.leidos)}</Table.Td>
                          <Table.Td ta="right" className="num">{fmtNumero(e.respondidos)}</Table.Td>
                          <Table.Td ta="right" className="num">{fmtPorcentaje(e.tasa_respuesta)}</Table.Td>
                          <Table.Td ta="right" className="num">{fmtDuracion(e.mediana_respuesta_s)}</Table.Td>
                          <Table.Td ta="right" className="num">{fmtNumero(e.bajas)}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Card>
          </Grid.Col>
        </Grid>
      )}
    </>
  );
}
