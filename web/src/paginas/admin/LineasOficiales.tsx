// Official (Cloud API) lines: admins add, verify, enable/disable and rotate them; supervisors see quality and tier.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Badge, Button, Card, Code, Group, PasswordInput, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconBrandWhatsapp, IconPlugConnected } from "@tabler/icons-react";
import { api, datos, mensajeDeError } from "../../api/cliente";
import { useSesion } from "../../auth/sesion";
import { Cargando, Encabezado, ErrorCarga, Vacio } from "../../componentes/comunes";
import { fmtFechaHora, fmtNumero } from "../../formato";

const COLOR_CALIDAD: Record<string, string> = { GREEN: "green", YELLOW: "yellow", RED: "red", UNKNOWN: "gray" };
const NOMBRE_CALIDAD: Record<string, string> = { GREEN: "Verde", YELLOW: "Amarilla", RED: "Roja", UNKNOWN: "Sin dato" };

const VACIO = { phone_number_id: "", waba_id: "", token: "", app_secret: "", numero: "", base_url: "" };

export default function LineasOficiales() {
  const { usuario } = useSesion();
  const esAdmin = usuario?.rol === "admin";
  const cliente = useQueryClient();
  const [forma, setForma] = useState(VACIO);
  const [proveedor, setProveedor] = useState<string | null>("meta");
  const [equipoId, setEquipoId] = useState<string | null>(null);
  const lineas = useQuery({ queryKey: ["lineas-oficiales"], queryFn: () => datos(api.GET("/api/oficial/lineas")) });
  const equipos = useQuery({
    queryKey: ["equipos"],
    queryFn: () => datos(api.GET("/api/equipos")),
    enabled: esAdmin,
  });
  const refrescar = () => cliente.invalidateQueries({ queryKey: ["lineas-oficiales"] });

  const crear = useMutation({
    mutationFn: () =>
      datos(
        api.POST("/api/oficial/lineas", {
          body: {
            ...forma,
            base_url: forma.base_url || null,
            proveedor: (proveedor ?? "meta") as "meta" | "360dialog",
            equipo_id: equipoId ? Number(equipoId) : null,
          },
        }),
      ),
    onSuccess: (l) => {
      setForma(VACIO);
      refrescar();
      notifications.show({ color: "green", message: `Línea ${l.numero || l.phone_number_id} agregada. Verifícala.` });
    },
    onError: (e) => notifications.show({ color: "red", title: "No se pudo agregar la línea", message: mensajeDeError(e) }),
  });
  const verificar = useMutation({
    mutationFn: (id: number) =>
      datos(api.POST("/api/oficial/lineas/{linea_id}/verificar", { params: { path: { linea_id: id } } })),
    onSuccess: (l) => {
      refrescar();
      notifications.show(
        l.verificada_at
          ? { color: "green", message: "Verificada: Meta respondió con las credenciales guardadas." }
          : { color: "red", title: "La verificación falló", message: l.verificacion_error ?? "" },
      );
    },
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });
  const cambiar = useMutation({
    mutationFn: ({ id, activa }: { id: number; activa: boolean }) =>
      datos(api.PATCH("/api/oficial/lineas/{linea_id}", { params: { path: { linea_id: id } }, body: { activa } })),
    onSuccess: refrescar,
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });

  const campo = (nombre: keyof typeof VACIO) => ({
    value: forma[nombre],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setForma({ ...forma, [nombre]: e.currentTarget.value }),
  });

  return (
    <>
      <Encabezado
        titulo="Líneas oficiales"
        descripcion="Números de la WhatsApp Business Platform (Cloud API o un proveedor). La calidad y el nivel de mensajería los informa Meta; el nivel limita a cuántas personas nuevas se escribe en 24 h."
      />
      <Stack>
        {esAdmin && (
          <Card>
            <form
              aria-label="Agregar línea oficial"
              onSubmit={(e) => {
                e.preventDefault();
                crear.mutate();
              }}
            >
              <Group align="flex-end" wrap="wrap">
                <TextInput label="Phone number id" required {...campo("phone_number_id")} />
                <TextInput label="WABA id" required {...campo("waba_id")} />
                <PasswordInput label="Token de acceso" required w={220} {...campo("token")} />
                <PasswordInput label="App secret" w={200} {...campo("app_secret")} />
                <TextInput label="Número" placeholder="+525510000000" {...campo("numero")} />
                <Select
                  label="Proveedor"
                  data={[
                    { value: "meta", label: "Meta (Cloud API)" },
                    { value: "360dialog", label: "360dialog" },
                  ]}
                  value={proveedor}
                  onChange={setProveedor}
                  allowDeselect={false}
                />
                <TextInput label="URL base (opcional)" placeholder="https://graph.facebook.com" {...campo("base_url")} />
                <Select
                  label="Cola del equipo"
                  required
                  data={(equipos.data ?? []).map((e) => ({ value: String(e.id), label: e.nombre }))}
                  value={equipoId}
                  onChange={setEquipoId}
                />
                <Button type="submit" leftSection={<IconBrandWhatsapp size={18} />} loading={crear.isPending}>
                  Agregar línea
                </Button>
              </Group>
            </form>
          </Card>
        )}
        {lineas.isLoading ? (
          <Cargando />
        ) : lineas.error ? (
          <ErrorCarga error={lineas.error} />
        ) : (lineas.data ?? []).length === 0 ? (
          <Vacio titulo="Sin líneas oficiales">{esAdmin ? "Agrega el primer número de la Cloud API." : "Tu equipo no tiene líneas oficiales."}</Vacio>
        ) : (
          <Card p={0}>
            <Table.ScrollContainer minWidth={900}>
              <Table data-testid="tabla-lineas">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Línea</Table.Th>
                    <Table.Th>Proveedor</Table.Th>
                    <Table.Th>Calidad</Table.Th>
                    <Table.Th>Nivel (24 h)</Table.Th>
                    <Table.Th>Verificación</Table.Th>
                    <Table.Th>Webhook</Table.Th>
                    <Table.Th>Estado</Table.Th>
                    {esAdmin && <Table.Th aria-label="Acciones" />}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {(lineas.data ?? []).map((l) => (
                    <Table.Tr key={l.id} data-testid={`linea-${l.phone_number_id}`}>
                      <Table.Td>
                        <Text fw={500}>{l.numero || l.phone_number_id}</Text>
                        <Text size="xs" c="dimmed">
                          {l.agente_nombre} · {l.phone_number_id}
                        </Text>
                      </Table.Td>
                      <Table.Td>{l.proveedor === "meta" ? "Meta" : l.proveedor}</Table.Td>
                      <Table.Td>
                        <Badge color={COLOR_CALIDAD[l.calidad] ?? "gray"} variant="light" data-testid="calidad">
                          {NOMBRE_CALIDAD[l.calidad] ?? l.calidad}
                        </Badge>
                        {l.marcada && (
                          <Badge color="orange" variant="outline" ml={4}>
                            Marcada
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td data-testid="nivel">{l.limite_24h === null ? "Sin límite" : `${fmtNumero(l.limite_24h)} personas`}</Table.Td>
                      <Table.Td>
                        {l.verificada_at ? (
                          <Text size="sm">{fmtFechaHora(l.verificada_at)}</Text>
                        ) : (
                          <Text size="sm" c={l.verificacion_error ? "red" : "dimmed"}>
                            {l.verificacion_error ?? "Sin verificar"}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Code>{l.webhook_url}</Code>
                      </Table.Td>
                      <Table.Td>
                        <Badge color={l.activa ? "green" : "gray"} variant="light">
                          {l.activa ? "Habilitada" : "Deshabilitada"}
                        </Badge>
                      </Table.Td>
                      {esAdmin && (
                        <Table.Td>
                          <Group gap={4} wrap="nowrap">
                            <Button
                              size="xs"
                              variant="light"
                              leftSection={<IconPlugConnected size={14} />}
                              loading={verificar.isPending && verificar.variables === l.id}
                              onClick={() => verificar.mutate(l.id)}
                            >
                              Verificar
                            </Button>
                            <Button
                              size="xs"
                              variant="subtle"
                              color={l.activa ? "red" : "green"}
                              onClick={() => cambiar.mutate({ id: l.id, activa: !l.activa })}
                            >
                              {l.activa ? "Deshabilitar" : "Habilitar"}
                            </Button>
                          </Group>
                        </Table.Td>
                      )}
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Card>
        )}
      </Stack>
    </>
  );
}
