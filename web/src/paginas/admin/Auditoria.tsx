// Admin: the append-only audit log (exports, suppression changes, settings, users, sensitive views).
import { useMemo, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Button, Card, Group, Select, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconChevronRight } from "@tabler/icons-react";
import { api, datos } from "../../api/cliente";
import { Cargando, Encabezado, ErrorCarga, Vacio } from "../../componentes/comunes";
import { fmtFechaHora } from "../../formato";
import { ACCIONES_AUDITORIA, textoAccion, textoDetalle, textoObjeto } from "../../diccionario";
import { sinAcentos } from "../../buscar";
import { CampoFecha } from "../../componentes/Fechas";

/** Codes whose Spanish label contains what was typed («exportó» → reportes.exportar, supresion.exportar). */
function accionesQueDicen(texto: string): string[] {
  const t = sinAcentos(texto.trim());
  if (t.length < 3) return [];
  return Object.entries(ACCIONES_AUDITORIA)
    .filter(([, etiqueta]) => sinAcentos(etiqueta).includes(t))
    .map(([codigo]) => codigo);
}

export default function Auditoria() {
  const [texto, setTexto] = useState("");
  const [buscado] = useDebouncedValue(texto, 350);
  const [accion, setAccion] = useState<string | null>(null);
  const [usuario, setUsuario] = useState<string | null>(null);
  const [desde, setDesde] = useState("");
  const [hasta, setHasta] = useState("");
  const [antesDe, setAntesDe] = useState<number[]>([]);
  const cursor = antesDe[antesDe.length - 1];
  const usuarios = useQuery({ queryKey: ["usuarios"], queryFn: () => datos(api.GET("/api/usuarios")) });
  const nombres = useMemo(() => new Map((usuarios.data ?? []).map((u) => [u.id, `${u.nombre} (${u.usuario})`])), [usuarios.data]);
  const q = useQuery({
    queryKey: ["auditoria", buscado, accion, usuario, desde, hasta, cursor],
    queryFn: () =>
      datos(
        api.GET("/api/auditoria", {
          params: {
            query: {
              accion: accion || undefined,
              texto: buscado.trim() || undefined,
              acciones: buscado.trim() ? accionesQueDicen(buscado) : undefined,
              usuario_id: usuario ? Number(usuario) : undefined,
              desde: desde ? new Date(`${desde}T00:00:00`).toISOString() : undefined,
              hasta: hasta ? new Date(`${hasta}T23:59:59`).toISOString() : undefined,
              antes_de_id: cursor,
              limite: 100,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const filas = q.data ?? [];
  const reiniciar = () => setAntesDe([]);

  return (
    <>
      <Encabezado titulo="Auditoría" descripcion="Quién hizo qué y cuándo. Este registro no se puede modificar." />
      <Card mb="md">
        <Group gap="sm" align="flex-end">
          <TextInput
            label="Buscar"
            placeholder="p. ej. exportó, campaña, Ana"
            description="Busca en la acción, el autor y el detalle"
            value={texto}
            onChange={(e) => {
              setTexto(e.currentTarget.value);
              reiniciar();
            }}
            w={260}
            data-testid="buscar-auditoria"
          />
          <Select
            label="Acción"
            placeholder="Todas"
            data={Object.entries(ACCIONES_AUDITORIA)
              .filter(([codigo], i, todos) => todos.findIndex(([, e]) => e === ACCIONES_AUDITORIA[codigo]) === i)
              .map(([codigo, etiqueta]) => ({ value: codigo, label: etiqueta }))}
            value={accion}
            onChange={(v) => {
              setAccion(v);
              reiniciar();
            }}
            clearable
            searchable
            w={280}
          />
          <Select
            label="Usuario"
            placeholder="Todos"
            data={(usuarios.data ?? []).map((u) => ({ value: String(u.id), label: u.nombre }))}
            value={usuario}
            onChange={(v) => {
              setUsuario(v);
              reiniciar();
            }}
            clearable
            searchable
          />
          <CampoFecha label="Desde" value={desde} onChange={(v) => (setDesde(v), reiniciar())} w={160} />
          <CampoFecha label="Hasta" value={hasta} onChange={(v) => (setHasta(v), reiniciar())} w={160} minDate={desde || undefined} />
        </Group>
      </Card>
      <Card p={0}>
        {q.isLoading ? (
          <Cargando />
        ) : q.error ? (
          <ErrorCarga error={q.error} />
        ) : filas.length === 0 ? (
          <Vacio titulo="Sin registros" />
        ) : (
          <Table.ScrollContainer minWidth={900}>
            <Table striped data-testid="tabla-auditoria">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Fecha</Table.Th>
                  <Table.Th>Usuario</Table.Th>
                  <Table.Th>Acción</Table.Th>
                  <Table.Th>Objeto</Table.Th>
                  <Table.Th>Detalle</Table.Th>
                  <Table.Th>IP</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {filas.map((a) => (
                  <Table.Tr key={a.id}>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{fmtFechaHora(a.created_at)}</Table.Td>
                    <Table.Td>{a.usuario_id ? nombres.get(a.usuario_id) ?? `#${a.usuario_id}` : "Sistema"}</Table.Td>
                    <Table.Td data-accion={a.accion}>{textoAccion(a.accion)}</Table.Td>
                    <Table.Td>{a.objeto_tipo ? `${textoObjeto(a.objeto_tipo)}${a.objeto_id ? ` ${a.objeto_id}` : ""}` : "—"}</Table.Td>
                    <Table.Td maw={420}>
                      <Text size="sm" lineClamp={3} className="texto-mensaje">
                        {textoDetalle(a.detalle) || "—"}
                      </Text>
                    </Table.Td>
                    <Table.Td>{a.ip ?? "—"}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Group justify="flex-end" p="sm" gap="xs">
          <Button variant="default" size="xs" disabled={!antesDe.length} onClick={() => setAntesDe(antesDe.slice(0, -1))}>
            Más recientes
          </Button>
          <Button
            variant="default"
            size="xs"
            rightSection={<IconChevronRight size={16} />}
            disabled={filas.length < 100}
            onClick={() => setAntesDe([...antesDe, filas[filas.length - 1].id])}
          >
            Más antiguos
          </Button>
        </Group>
      </Card>
    </>
  );
}
