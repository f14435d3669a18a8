import { Button, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router";

export default function NoEncontrada() {
  return (
    <Stack align="center" mt="xl" gap="sm">
      <Title order={2}>Página no encontrada</Title>
      <Text c="dimmed">La dirección que abriste no existe en el panel.</Text>
      <Button component={Link} to="/">
        Ir al inicio
      </Button>
    </Stack>
  );
}
