// Admin: API tokens for the CRM integration (created once, shown once, revocable).
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Badge, Button, Card, Code, CopyButton, Group, MultiSelect, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconKey } from "@tabler/icons-react";
import { api, datos, mensajeDeError } from "../../api/cliente";
import { Cargando, Encabezado, ErrorCarga, Vacio } from "../../componentes/comunes";
import { fmtFechaHora } from "../../formato";
import { useConfirmar } from "../../componentes/Confirmar";
import { Formulario } from "../../componentes/Formulario";

export default function Tokens() {
  const cliente = useQueryClient();
  const [nombre, setNombre] = useState("");
  const [usuarioId, setUsuarioId] = useState<string | null>(null);
  const [alcances, setAlcances] = useState<string[]>([]);
  const [nuevo, setNuevo] = useState<string | null>(null);
  const tokens = useQuery({ queryKey: ["tokens"], queryFn: () => datos(api.GET("/api/tokens")) });
  const usuarios = useQuery({ queryKey: ["usuarios"], queryFn: () => datos(api.GET("/api/usuarios")) });
  // Scopes come from the server's list: free text is refused there.
  const confirmar = useConfirmar();
  const catalogo = useQuery({ queryKey: ["tokens", "alcances"], queryFn: () => datos(api.GET("/api/tokens/alcances")) });
  const nombreUsuario = new Map((usuarios.data ?? []).map((u) => [u.id, u.nombre]));

  const crear = useMutation({
    mutationFn: () =>
      datos(api.POST("/api/tokens", { body: { nombre, usuario_id: usuarioId ? Number(usuarioId) : null, alcances } })),
    onSuccess: (t) => {
      setNuevo(t.token);
      setNombre("");
      setAlcances([]);
      cliente.invalidateQueries({ queryKey: ["tokens"] });
    },
    onError: (e) => notifications.show({ color: "red", title: "No se pudo crear el token", message: mensajeDeError(e) }),
  });
  const revocar = useMutation({
    mutationFn: (id: number) => datos(api.DELETE("/api/tokens/{token_id}", { params: { path: { token_id: id } } })),
    onSuccess: () => {
      cliente.invalidateQueries({ queryKey: ["tokens"] });
      notifications.show({ color: "green", message: "Token revocado." });
    },
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });

  return (
    <>
      <Encabezado titulo="Tokens de API" descripcion="Credenciales para que el CRM de la empresa consulte Enlace. Cada token actúa con los permisos de su usuario." />
      <Stack>
        <Card>
          <Formulario
            alEnviar={(e) => {
              e.preventDefault();
              crear.mutate();
            }}
          >
            <Group align="flex-end" wrap="wrap">
              <TextInput label="Nombre" placeholder="CRM producción" required value={nombre} onChange={(e) => setNombre(e.currentTarget.value)} />
              <Select
                label="Usuario"
                placeholder="Yo"
                data={(usuarios.data ?? []).map((u) => ({ value: String(u.id), label: `${u.nombre} (${u.usuario})` }))}
                value={usuarioId}
                onChange={setUsuarioId}
                clearable
                searchable
              />
              <MultiSelect
                label="Alcances"
                placeholder={alcances.length ? undefined : "Elige al menos uno"}
                data={(catalogo.data ?? []).map((a) => ({ value: a.alcance, label: `${a.alcance} — ${a.descripcion}` }))}
                value={alcances}
                onChange={setAlcances}
                required
                searchable
                w={320}
              />
              <Button type="submit" leftSection={<IconKey size={18} />} loading={crear.isPending}>
                Crear token
              </Button>
            </Group>
          </Formulario>
          {nuevo && (
            <Alert color="green" mt="md" title="Copia el token ahora: no se volverá a mostrar" withCloseButton onClose={() => setNuevo(null)}>
              <Group gap="sm" wrap="nowrap">
                <Code style={{ wordBreak: "break-all" }}>{nuevo}</Code>
                <CopyButton value={nuevo}>
                  {({ copied, copy }) => (
                    <Button size="xs" variant="light" onClick={copy}>
                      {copied ? "Copiado" : "Copiar"}
                    </Button>
                  )}
                </CopyButton>
              </Group>
            </Alert>
          )}
        </Card>
        {tokens.isLoading ? (
          <Cargando />
        ) : tokens.error ? (
          <ErrorCarga error={tokens.error} />
        ) : (tokens.data ?? []).length === 0 ? (
          <Vacio titulo="Sin tokens">Crea un token para conectar el CRM.</Vacio>
        ) : (
          <Card p={0}>
            <Table.ScrollContainer minWidth={800}>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Nombre</Table.Th>
                    <Table.Th>Prefijo</Table.Th>
                    <Table.Th>Usuario</Table.Th>
                    <Table.Th>Alcances</Table.Th>
                    <Table.Th>Último uso</Table.Th>
                    <Table.Th>Estado</Table.Th>
                    <Table.Th aria-label="Acciones" />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {(tokens.data ?? []).map((t) => (
                    <Table.Tr key={t.id}>
                      <Table.Td>{t.nombre}</Table.Td>
                      <Table.Td>
                        <Code>{t.prefijo}…</Code>
                      </Table.Td>
                      <Table.Td>{nombreUsuario.get(t.usuario_id) ?? `#${t.usuario_id}`}</Table.Td>
                      <Table.Td>
                        <Group gap={4}>{t.alcances.length ? t.alcances.map((a) => <Badge key={a} variant="outline" size="sm">{a}</Badge>) : <Text size="sm" c="dimmed">Todos los de su rol</Text>}</Group>
                      </Table.Td>
                      <Table.Td>{fmtFechaHora(t.ultimo_uso_at)}</Table.Td>
                      <Table.Td>
                        {t.revocado_at ? (
                          <Badge color="gray" variant="light">Revocado</Badge>
                        ) : t.expira_at && new Date(t.expira_at) < new Date() ? (
                          <Badge color="orange" variant="light">Expirado</Badge>
                        ) : (
                          <Badge color="green" variant="light">Vigente</Badge>
                        )}
                      </Table.Td>
                      <Table.Td>
                        {!t.revocado_at && (
                          <Button
                            size="xs"
                            variant="subtle"
                            color="red"
                            onClick={async () =>
                              (await confirmar({
                                titulo: `¿Revocar el token «${t.nombre}»?`,
                                mensaje: "Lo que use este token (por ejemplo el CRM) deja de tener acceso en ese momento. No se puede deshacer: habría que crear otro token y configurarlo.",
                                confirmar: "Sí, revocar el token",
                                volver: "No, conservarlo",
                                peligro: true,
                              })) && revocar.mutate(t.id)
                            }
                          >
                            Revocar
                          </Button>
                        )}
                      </Table.Td>
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
