// The login screen; also where an expired session lands, with the reason shown.
import { useState, type FormEvent } from "react";
import { useLocation, useNavigate } from "react-router";
import { Alert, Box, Button, Center, Group, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { IconAlertCircle, IconMessages } from "@tabler/icons-react";
import { inicioDeRol, useSesion } from "../auth/sesion";
import { mensajeDeError } from "../api/cliente";

export default function Login() {
  const { entrar, aviso } = useSesion();
  const navegar = useNavigate();
  const ubicacion = useLocation();
  const [usuario, setUsuario] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [enviando, setEnviando] = useState(false);

  async function enviar(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!usuario.trim() || !password) {
      setError("Escribe tu usuario y tu contraseña.");
      return;
    }
    setEnviando(true);
    try {
      const u = await entrar(usuario.trim(), password);
      const desde = (ubicacion.state as { desde?: string } | null)?.desde;
      navegar(desde && desde !== "/login" ? desde : inicioDeRol(u.rol), { replace: true });
    } catch (err) {
      setError(mensajeDeError(err));
    } finally {
      setEnviando(false);
    }
  }

  return (
    <Center mih="100vh" p="md" style={{ background: "linear-gradient(160deg, #e6f7f1 0%, #f8f9fa 55%)" }}>
      <Box w="100%" maw={400}>
        <Group gap="xs" justify="center" mb="lg">
          <IconMessages size={34} color="var(--mantine-color-enlace-8)" aria-hidden />
          <Title order={1} size="h2">
            Enlace
          </Title>
        </Group>
        <Paper p="xl" shadow="sm" radius="lg">
          <form onSubmit={enviar} noValidate aria-label="Iniciar sesión">
            <Stack>
              <div>
                <Title order={2} size="h4">
                  Iniciar sesión
                </Title>
                <Text size="sm" c="dimmed">
                  Panel de mensajería del centro de contacto
                </Text>
              </div>
              {aviso && !error && (
                <Alert color="yellow" icon={<IconAlertCircle size={18} />} role="status">
                  {aviso}
                </Alert>
              )}
              {error && (
                <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
                  {error}
                </Alert>
              )}
              <TextInput
                label="Usuario"
                name="usuario"
                autoComplete="username"
                autoFocus
                value={usuario}
                onChange={(e) => setUsuario(e.currentTarget.value)}
              />
              <PasswordInput
                label="Contraseña"
                name="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.currentTarget.value)}
              />
              <Button type="submit" loading={enviando} fullWidth mt="xs">
                Entrar
              </Button>
            </Stack>
          </form>
        </Paper>
        <Text size="xs" c="dimmed" ta="center" mt="md">
          El uso de este panel queda registrado en la bitácora de auditoría.
        </Text>
      </Box>
    </Center>
  );
}
