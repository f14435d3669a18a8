// Admin: users (create, role, deactivate, reset password) and teams (create, supervisor, members).
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  PasswordInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Tabs,
  Text,
  TextInput,
  Tooltip,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconEdit, IconPlus, IconUsersGroup } from "@tabler/icons-react";
import { api, datos, mensajeDeError } from "../../api/cliente";
import type { EquipoSalida, UsuarioSalida } from "../../api/esquema";
import { Cargando, Encabezado, ErrorCarga, Vacio } from "../../componentes/comunes";
import { NOMBRE_ROL, type Rol } from "../../auth/sesion";
import { fmtTelefono } from "../../formato";
import { Formulario } from "../../componentes/Formulario";

const ROLES = [
  { value: "agente", label: "Agente" },
  { value: "supervisor", label: "Supervisor" },
  { value: "admin", label: "Administrador" },
];

function FormUsuario({ equipos, usuario, alTerminar }: { equipos: EquipoSalida[]; usuario: UsuarioSalida | null; alTerminar: () => void }) {
  const cliente = useQueryClient();
  const [f, setF] = useState({
    usuario: usuario?.usuario ?? "",
    nombre: usuario?.nombre ?? "",
    email: usuario?.email ?? "",
    rol: (usuario?.rol ?? "agente") as Rol,
    password: "",
    equipo_id: usuario?.equipo_ids?.[0] ? String(usuario.equipo_ids[0]) : "",
    activo: usuario?.activo ?? true,
  });
  const [error, setError] = useState<string | null>(null);
  const guardar = useMutation({
    mutationFn: async () => {
      const equipo_id = f.equipo_id ? Number(f.equipo_id) : null;
      if (usuario) {
        return datos(
          api.PATCH("/api/usuarios/{usuario_id}", {
            params: { path: { usuario_id: usuario.id } },
            body: { nombre: f.nombre, email: f.email || null, rol: f.rol, activo: f.activo, password: f.password || null, equipo_id },
          }),
        );
      }
      return datos(
        api.POST("/api/usuarios", {
          body: { usuario: f.usuario, nombre: f.nombre, email: f.email || null, rol: f.rol, password: f.password, equipo_id },
        }),
      );
    },
    onSuccess: () => {
      cliente.invalidateQueries({ queryKey: ["usuarios"] });
      cliente.invalidateQueries({ queryKey: ["agentes"] });
      // A renamed agent shows the new name on the wall and in reports at once.
      cliente.invalidateQueries({ queryKey: ["snapshot"] });
      notifications.show({ color: "green", message: usuario ? "Usuario actualizado." : "Usuario creado." });
      alTerminar();
    },
    onError: (e) => setError(mensajeDeError(e)),
  });

  function enviar(e: FormEvent) {
    e.preventDefault();
    setError(null);
    guardar.mutate();
  }

  return (
    <Formulario alEnviar={enviar}>
      <Stack>
        {error && (
          <Alert color="red" role="alert" data-testid="error-usuario">
            {error}
          </Alert>
        )}
        <TextInput label="Usuario" required disabled={!!usuario} value={f.usuario} onChange={(e) => setF({ ...f, usuario: e.currentTarget.value })} description="Letras, números, punto, guion o arroba" />
        <TextInput label="Nombre completo" required value={f.nombre} onChange={(e) => setF({ ...f, nombre: e.currentTarget.value })} />
        <TextInput label="Correo" type="email" value={f.email} onChange={(e) => setF({ ...f, email: e.currentTarget.value })} />
        <Select label="Rol" data={ROLES} value={f.rol} onChange={(v) => v && setF({ ...f, rol: v as Rol })} allowDeselect={false} />
        <Select
          label="Equipo"
          data={equipos.map((e) => ({ value: String(e.id), label: e.nombre }))}
          value={f.equipo_id || null}
          onChange={(v) => setF({ ...f, equipo_id: v ?? "" })}
          clearable
          placeholder="Sin equipo"
        />
        <PasswordInput
          label={usuario ? "Nueva contraseña (opcional)" : "Contraseña"}
          description="Mínimo 10 caracteres"
          required={!usuario}
          value={f.password}
          onChange={(e) => setF({ ...f, password: e.currentTarget.value })}
          autoComplete="new-password"
        />
        {usuario && <Switch label="Activo" checked={f.activo} onChange={(e) => setF({ ...f, activo: e.currentTarget.checked })} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={alTerminar}>
            Cancelar
          </Button>
          <Button type="submit" loading={guardar.isPending}>
            Guardar
          </Button>
        </Group>
      </Stack>
    </Formulario>
  );
}

function PestanaUsuarios({ equipos }: { equipos: EquipoSalida[] }) {
  const [editando, setEditando] = useState<UsuarioSalida | null | "nuevo">(null);
  const q = useQuery({ queryKey: ["usuarios"], queryFn: () => datos(api.GET("/api/usuarios")) });
  const nombreEquipo = new Map(equipos.map((e) => [e.id, e.nombre]));
  return (
    <>
      <Group justify="flex-end" mb="sm">
        <Button leftSection={<IconPlus size={18} />} onClick={() => setEditando("nuevo")}>
          Nuevo usuario
        </Button>
      </Group>
      {q.isLoading ? (
        <Cargando />
      ) : q.error ? (
        <ErrorCarga error={q.error} />
      ) : (
        <Card p={0}>
          <Table.ScrollContainer minWidth={700}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Usuario</Table.Th>
                  <Table.Th>Nombre</Table.Th>
                  <Table.Th>Rol</Table.Th>
                  <Table.Th>Equipo</Table.Th>
                  <Table.Th>Estado</Table.Th>
                  <Table.Th aria-label="Acciones" />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {(q.data ?? []).map((u) => (
                  <Table.Tr key={u.id}>
                    <Table.Td>
                      <Text ff="monospace" size="sm">
                        {u.usuario}
                      </Text>
                    </Table.Td>
                    <Table.Td>{u.nombre}</Table.Td>
                    <Table.Td>{NOMBRE_ROL[u.rol]}</Table.Td>
                    <Table.Td>{(u.equipo_ids ?? []).map((id) => nombreEquipo.get(id) ?? `#${id}`).join(", ") || "—"}</Table.Td>
                    <Table.Td>{u.activo ? <Badge color="green" variant="light">Activo</Badge> : <Badge color="gray" variant="light">Inactivo</Badge>}</Table.Td>
                    <Table.Td>
                      <Tooltip label="Editar">
                        <ActionIcon variant="subtle" onClick={() => setEditando(u)} aria-label={`Editar ${u.usuario}`}>
                          <IconEdit size={18} />
                        </ActionIcon>
                      </Tooltip>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <Modal opened={editando !== null} onClose={() => setEditando(null)} title={editando === "nuevo" ? "Nuevo usuario" : "Editar usuario"}>
        {editando !== null && <FormUsuario equipos={equipos} usuario={editando === "nuevo" ? null : editando} alTerminar={() => setEditando(null)} />}
      </Modal>
    </>
  );
}

function PestanaEquipos({ equipos }: { equipos: EquipoSalida[] }) {
  const cliente = useQueryClient();
  const [nombre, setNombre] = useState("");
  const [supervisor, setSupervisor] = useState<string | null>(null);
  const usuarios = useQuery({ queryKey: ["usuarios"], queryFn: () => datos(api.GET("/api/usuarios")) });
  const agentes = useQuery({ queryKey: ["agentes"], queryFn: () => datos(api.GET("/api/agentes")) });
  const supervisores = (usuarios.data ?? []).filter((u) => u.rol !== "agente");
  const nombreUsuario = new Map((usuarios.data ?? []).map((u) => [u.id, u.nombre]));

  const crear = useMutation({
    mutationFn: () => datos(api.POST("/api/equipos", { body: { nombre, supervisor_id: supervisor ? Number(supervisor) : null } })),
    onSuccess: () => {
      setNombre("");
      setSupervisor(null);
      cliente.invalidateQueries({ queryKey: ["equipos"] });
      notifications.show({ color: "green", message: "Equipo creado." });
    },
    onError: (e) => notifications.show({ color: "red", title: "No se pudo crear el equipo", message: mensajeDeError(e) }),
  });
  const mover = useMutation({
    mutationFn: ({ agente, equipo }: { agente: number; equipo: number | null }) =>
      datos(api.PATCH("/api/agentes/{agente_id}", { params: { path: { agente_id: agente } }, body: { equipo_id: equipo } })),
    onSuccess: () => cliente.invalidateQueries({ queryKey: ["agentes"] }),
    onError: (e) => notifications.show({ color: "red", message: mensajeDeError(e) }),
  });

  return (
    <Stack>
      <Card>
        <Formulario
          alEnviar={(e) => {
            e.preventDefault();
            crear.mutate();
          }}
        >
          <Group align="flex-end">
            <TextInput label="Nombre del equipo" required value={nombre} onChange={(e) => setNombre(e.currentTarget.value)} />
            <Select
              label="Supervisor"
              data={supervisores.map((u) => ({ value: String(u.id), label: u.nombre }))}
              value={supervisor}
              onChange={setSupervisor}
              clearable
              searchable
              placeholder="Elige"
            />
            <Button type="submit" leftSection={<IconUsersGroup size={18} />} loading={crear.isPending}>
              Crear equipo
            </Button>
          </Group>
        </Formulario>
      </Card>
      {equipos.length === 0 ? (
        <Vacio titulo="Aún no hay equipos">Crea un equipo y asigna un supervisor; los supervisores ven a los agentes de sus equipos.</Vacio>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
          {equipos.map((eq) => {
            const miembros = (agentes.data ?? []).filter((a) => a.equipo_id === eq.id);
            return (
              <Card key={eq.id}>
                <Group justify="space-between" mb="xs">
                  <Text fw={700}>{eq.nombre}</Text>
                  <Badge variant="light">{miembros.length} agentes</Badge>
                </Group>
                <Text size="sm" c="dimmed" mb="sm">
                  Supervisor: {eq.supervisor_id ? nombreUsuario.get(eq.supervisor_id) ?? `#${eq.supervisor_id}` : "sin asignar"}
                </Text>
                <Stack gap={4}>
                  {miembros.map((a) => (
                    <Group key={a.id} justify="space-between" wrap="nowrap">
                      <Text size="sm">{a.nombre}</Text>
                      <Text size="xs" c="dimmed" className="num">
                        {fmtTelefono(a.numero_wa)}
                      </Text>
                    </Group>
                  ))}
                </Stack>
              </Card>
            );
          })}
        </SimpleGrid>
      )}
      <Card>
        <Text fw={700} mb="sm">
          Agentes y su equipo
        </Text>
        <Table.ScrollContainer minWidth={500}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Agente</Table.Th>
                <Table.Th>Número</Table.Th>
                <Table.Th>Equipo</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(agentes.data ?? []).map((a) => (
                <Table.Tr key={a.id}>
                  <Table.Td>{a.nombre}</Table.Td>
                  <Table.Td className="num">{fmtTelefono(a.numero_wa)}</Table.Td>
                  <Table.Td>
                    <Select
                      aria-label={`Equipo de ${a.nombre}`}
                      size="xs"
                      w={200}
                      data={equipos.map((e) => ({ value: String(e.id), label: e.nombre }))}
                      value={a.equipo_id ? String(a.equipo_id) : null}
                      onChange={(v) => mover.mutate({ agente: a.id, equipo: v ? Number(v) : null })}
                      placeholder="Sin equipo"
                    />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>
    </Stack>
  );
}

export default function Usuarios() {
  const equipos = useQuery({ queryKey: ["equipos"], queryFn: () => datos(api.GET("/api/equipos")) });
  return (
    <>
      <Encabezado titulo="Usuarios y equipos" descripcion="Quién entra al panel, con qué rol, y cómo se agrupan los agentes." />
      <Tabs defaultValue="usuarios" keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="usuarios">Usuarios</Tabs.Tab>
          <Tabs.Tab value="equipos">Equipos</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="usuarios">
          <PestanaUsuarios equipos={equipos.data ?? []} />
        </Tabs.Panel>
        <Tabs.Panel value="equipos">
          <PestanaEquipos equipos={equipos.data ?? []} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
