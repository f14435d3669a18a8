// The one-time password must be replaced before anything else: the API refuses every other call
// until then (403 cambiar_password), so this screen replaces the whole panel.
import { useState, type FormEvent } from "react";
import { Alert, Box, Button, Center, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { IconAlertCircle } from "@tabler/icons-react";
import { inicioDeRol, useSesion, useUsuario } from "../auth/sesion";
import { mensajeDeError, pedir } from "../api/cliente";

export default function CambiarPassword() {
  const usuario = useUsuario();
  const { salir } = useSesion();
  const [actual, setActual] = useState("");
  const [nueva, setNueva] = useState("");
  const [repetida, setRepetida] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [enviando, setEnviando] = useState(false);

  async function enviar(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (nueva.length < 12) return setError("La contraseña nueva debe tener al menos 12 caracteres.");
    if (nueva !== repetida) return setError("Las dos contraseñas nuevas no coinciden.");
    setEnviando(true);
    try {
      await pedir("POST", "/api/auth/password", { json: { actual, nueva } });
      // A full load asks /api/auth/yo again, now without the pending change.
      window.location.assign(inicioDeRol(usuario.rol));
    } catch (err) {
      setError(mensajeDeError(err));
      setEnviando(false);
    }
  }

  return (
    <Center mih="100vh" p="md">
      <Box w="100%" maw={440}>
        <Paper p="xl" shadow="sm" radius="lg">
          <form onSubmit={enviar} noValidate aria-label="Cambiar contraseña">
            <Stack>
              <div>
                <Title order={1} size="h3">
                  Cambia tu contraseña
                </Title>
                <Text size="sm" c="dimmed">
                  Entraste con una contraseña temporal. Elige una propia para continuar: al menos 12
                  caracteres, mejor una frase de varias palabras.
                </Text>
              </div>
              {error && (
                <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
                  {error}
                </Alert>
              )}
              <PasswordInput label="Contraseña temporal" autoComplete="current-password" value={actual} onChange={(e) => setActual(e.currentTarget.value)} />
              <PasswordInput label="Contraseña nueva" autoComplete="new-password" value={nueva} onChange={(e) => setNueva(e.currentTarget.value)} />
              <PasswordInput label="Repite la contraseña nueva" autoComplete="new-password" value={repetida} onChange={(e) => setRepetida(e.currentTarget.value)} />
              <Button type="submit" loading={enviando}>
                Guardar y continuar
              </Button>
              <Button variant="subtle" onClick={() => void salir()}>
                Cerrar sesión
              </Button>
            </Stack>
          </form>
        </Paper>
      </Box>
    </Center>
  );
}
