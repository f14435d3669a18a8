// Admin: the suppression list — add, remove (with a reason), bulk import REPEP/REUS lists, export.
import { useState } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Badge, Button, Card, Grid, Group, Modal, Pagination, Select, SimpleGrid, Stack, Table, Text, TextInput, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconDownload, IconShieldPlus, IconUpload } from "@tabler/icons-react";
import { api, datos, descargar, mensajeDeError, subirConProgreso } from "../../api/cliente";
import type { EnlaceCumplimientoSchemasImportacionSalida as ImportacionSalida, SupresionSalida } from "../../api/esquema";
import { Cargando, Cifra, Encabezado, ErrorCarga, Vacio } from "../../componentes/comunes";
import ZonaArchivo from "../../componentes/ZonaArchivo";
import { fmtFechaHora, fmtNumero, fmtTelefono } from "../../formato";
import { Formulario } from "../../componentes/Formulario";
import { textoRegla } from "../../diccionario";

const FUENTES: Record<string, string> = {
  respuesta: "Respondió BAJA",
  manual: "Manual",
  repep: "REPEP (PROFECO)",
  reus: "REUS (CONDUSEF)",
  arco: "Derechos ARCO",
  cloud_api: "Preferencia en WhatsApp",
};

function Importar() {
  const cliente = useQueryClient();
  const [archivo, setArchivo] = useState<File | null>(null);
  const [fuente, setFuente] = useState<string>("repep");
  const [progreso, setProgreso] = useState<number | null>(null);
  const [resultado, setResultado] = useState<ImportacionSalida | null>(null);

  async function importar() {
    if (!archivo) return;
    const form = new FormData();
    form.append("archivo", archivo);
    form.append("fuente", fuente);
    setProgreso(0);
    try {
      const r = await subirConProgreso<ImportacionSalida>("/api/supresiones/importar", form, setProgreso);
      setResultado(r);
      setArchivo(null);
      cliente.invalidateQueries({ queryKey: ["supresiones"] });
    } catch (e) {
      notifications.show({ color: "red", title: "No se pudo importar", message: mensajeDeError(e) });
    } finally {
      setProgreso(null);
    }
  }

  return (
    <Card h="100%">
      <Title order={3} size="h5" mb="sm">
        Importar lista (REPEP, REUS…)
      </Title>
      <Stack>
        <ZonaArchivo aceptar=".csv,.txt,text/csv" archivo={archivo} alElegir={setArchivo} etiqueta="Arrastra el CSV de números" ayuda="Un número por fila o una columna «telefono»" />
        <Group align="flex-end">
          <Select
            label="Origen de la lista"
            data={[
              { value: "repep", label: "REPEP (PROFECO)" },
              { value: "reus", label: "REUS (CONDUSEF)" },
              { value: "manual", label: "Lista interna" },
            ]}
            value={fuente}
            onChange={(v) => v && setFuente(v)}
            allowDeselect={false}
          />
          <Button leftSection={<IconUpload size={18} />} onClick={importar} disabled={!archivo} loading={progreso !== null}>
            Importar
          </Button>
        </Group>
        {resultado && (
          <Alert color="green" title="Lista importada" withCloseButton onClose={() => setResultado(null)}>
            <SimpleGrid cols={3} mb="xs">
              <Cifra etiqueta="Filas" valor={fmtNumero(resultado.filas)} />
              <Cifra etiqueta="Nuevos" valor={fmtNumero(resultado.agregados)} />
              <Cifra etiqueta="Ya estaban" valor={fmtNumero(resultado.ya_existian)} />
              <Cifra etiqueta="Repetidos" valor={fmtNumero(resultado.duplicados_en_archivo)} />
              <Cifra etiqueta="Envíos cancelados" valor={fmtNumero(resultado.cancelados)} />
              <Cifra etiqueta="Rechazados" valor={fmtNumero(resultado.total_rechazados)} />
            </SimpleGrid>
            {resultado.rechazados.slice(0, 10).map((r) => (
              <Text size="xs" key={r.fila}>
                Fila {r.fila}: «{r.valor}» — {r.motivo}
              </Text>
            ))}
          </Alert>
        )}
      </Stack>
    </Card>
  );
}

function Agregar() {
  const cliente = useQueryClient();
  const [telefono, setTelefono] = useState("");
  const [motivo, setMotivo] = useState("");
  const agregar = useMutation({
    mutationFn: () => datos(api.POST("/api/supresiones", { body: { telefono, motivo } })),
    onSuccess: (r) => {
      notifications.show({
        color: "green",
        title: r.nueva ? "Número suprimido" : "El número ya estaba suprimido",
        message: r.cancelados ? `Se cancelaron ${r.cancelados} envíos pendientes.` : "No tenía envíos pendientes.",
      });
      setTelefono("");
      setMotivo("");
      cliente.invalidateQueries({ queryKey: ["supresiones"] });
    },
    onError: (e) => notifications.show({ color: "red", title: "No se pudo agregar", message: mensajeDeError(e) }),
  });
  return (
    <Card h="100%">
      <Title order={3} size="h5" mb="sm">
        Agregar un número
      </Title>
      <Formulario
        alEnviar={(e) => {
          e.preventDefault();
          agregar.mutate();
        }}
      >
        <Stack>
          <TextInput label="Teléfono" placeholder="55 1234 5678" required value={telefono} onChange={(e) => setTelefono(e.currentTarget.value)} inputMode="tel" />
          <Textarea label="Motivo" placeholder="Pidió por teléfono no recibir mensajes" required minLength={3} value={motivo} onChange={(e) => setMotivo(e.currentTarget.value)} />
          <Group justify="flex-end">
            <Button type="submit" leftSection={<IconShieldPlus size={18} />} loading={agregar.isPending}>
              Suprimir
            </Button>
          </Group>
        </Stack>
      </Formulario>
    </Card>
  );
}

export default function Supresiones() {
  const cliente = useQueryClient();
  const [pagina, setPagina] = useState(1);
  const [telefono, setTelefono] = useState("");
  const [fuente, setFuente] = useState<string | null>(null);
  const [quitando, setQuitando] = useState<SupresionSalida | null>(null);
  const [motivo, setMotivo] = useState("");
  const porPagina = 50;
  const q = useQuery({
    queryKey: ["supresiones", pagina, telefono, fuente],
    queryFn: () =>
      datos(
        api.GET("/api/supresiones", {
          params: { query: { limite: porPagina, desplazamiento: (pagina - 1) * porPagina, telefono: telefono || undefined, fuente: fuente ?? undefined } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const quitar = useMutation({
    mutationFn: () => datos(api.POST("/api/supresiones/quitar", { body: { telefono: quitando!.telefono, motivo } })),
    onSuccess: () => {
      notifications.show({ color: "green", message: "Número quitado de la lista." });
      setQuitando(null);
      setMotivo("");
      cliente.invalidateQueries({ queryKey: ["supresiones"] });
    },
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });

  return (
    <>
      <Encabezado
        titulo="Lista de supresión"
        descripcion="Números que no deben recibir mensajes. Se revisa en cada envío, para todos los agentes y campañas."
        acciones={
          <Button variant="default" leftSection={<IconDownload size={18} />} onClick={() => descargar("/api/supresiones/exportar", { fuente })}>
            Exportar CSV
          </Button>
        }
      />
      <Grid gap="md" mb="md">
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Agregar />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Importar />
        </Grid.Col>
      </Grid>
      <Card p={0}>
        <Group p="md" gap="sm">
          <TextInput
            placeholder="Buscar teléfono"
            value={telefono}
            onChange={(e) => {
              setTelefono(e.currentTarget.value);
              setPagina(1);
            }}
            aria-label="Buscar teléfono"
          />
          <Select
            placeholder="Todos los orígenes"
            data={Object.entries(FUENTES).map(([v, t]) => ({ value: v, label: t }))}
            value={fuente}
            onChange={(v) => {
              setFuente(v);
              setPagina(1);
            }}
            clearable
            aria-label="Origen"
          />
          {q.data && (
            <Text size="sm" c="dimmed">
              {fmtNumero(q.data.total)} números
            </Text>
          )}
        </Group>
        {q.isLoading ? (
          <Cargando />
        ) : q.error ? (
          <ErrorCarga error={q.error} />
        ) : !q.data?.filas.length ? (
          <Vacio titulo="La lista está vacía" />
        ) : (
          <Table.ScrollContainer minWidth={700}>
            <Table striped data-testid="tabla-supresiones">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Teléfono</Table.Th>
                  <Table.Th>Origen</Table.Th>
                  <Table.Th>Motivo</Table.Th>
                  <Table.Th>Fecha</Table.Th>
                  <Table.Th aria-label="Acciones" />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {q.data.filas.map((s) => (
                  <Table.Tr key={s.id}>
                    <Table.Td className="num">{fmtTelefono(s.telefono)}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={s.fuente === "respuesta" ? "orange" : "gray"}>
                        {FUENTES[s.fuente] ?? s.fuente}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" lineClamp={2}>
                        {s.motivo}
                      </Text>
                      {s.regla && (
                        <Text size="xs" c="dimmed">
                          Motivo detectado: {textoRegla(s.regla)}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{fmtFechaHora(s.created_at)}</Table.Td>
                    <Table.Td>
                      <Button size="xs" variant="subtle" color="red" onClick={() => setQuitando(s)}>
                        Quitar
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {q.data && q.data.total > porPagina && (
          <Group justify="center" p="md">
            <Pagination total={Math.ceil(q.data.total / porPagina)} value={pagina} onChange={setPagina} />
          </Group>
        )}
      </Card>
      <Modal opened={quitando !== null} onClose={() => setQuitando(null)} title="Quitar de la lista de supresión">
        <Formulario
          alEnviar={(e) => {
            e.preventDefault();
            quitar.mutate();
          }}
        >
          <Stack>
            <Text size="sm">
              El número {fmtTelefono(quitando?.telefono)} podrá volver a recibir mensajes. Queda registrado en la auditoría.
            </Text>
            <Textarea label="Motivo" required minLength={3} value={motivo} onChange={(e) => setMotivo(e.currentTarget.value)} />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setQuitando(null)}>
                Cancelar
              </Button>
              <Button type="submit" color="red" loading={quitar.isPending}>
                Quitar
              </Button>
            </Group>
          </Stack>
        </Formulario>
      </Modal>
    </>
  );
}
