// The app's own confirmation dialog (never the browser's): a question, the consequence spelled out, and
// buttons that say what they do («Sí, cancelar la campaña» / «No, volver») so «Cancelar» is never ambiguous.
import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from "react";
import { Button, Group, Modal, Stack, Text } from "@mantine/core";

export interface OpcionesConfirmar {
  titulo: string;
  mensaje: ReactNode;
  confirmar: string; // the action, e.g. «Sí, cancelar la campaña»
  volver?: string;
  peligro?: boolean;
}

type Pedir = (o: OpcionesConfirmar) => Promise<boolean>;
const Contexto = createContext<Pedir | null>(null);

export function ProveedorConfirmar({ children }: { children: ReactNode }) {
  const [abierto, setAbierto] = useState<OpcionesConfirmar | null>(null);
  const resolver = useRef<((v: boolean) => void) | null>(null);
  const pedir = useCallback<Pedir>(
    (o) =>
      new Promise<boolean>((resolve) => {
        resolver.current?.(false);
        resolver.current = resolve;
        setAbierto(o);
      }),
    [],
  );
  const cerrar = (valor: boolean) => {
    resolver.current?.(valor);
    resolver.current = null;
    setAbierto(null);
  };
  return (
    <Contexto.Provider value={pedir}>
      {children}
      <Modal
        opened={abierto !== null}
        onClose={() => cerrar(false)}
        title={abierto?.titulo}
        closeButtonProps={{ "aria-label": "Cerrar" }}
        data-testid="dialogo-confirmar"
        centered
      >
        {abierto && (
          <Stack>
            {typeof abierto.mensaje === "string" ? <Text size="sm">{abierto.mensaje}</Text> : abierto.mensaje}
            <Group justify="flex-end" gap="sm">
              <Button variant="default" onClick={() => cerrar(false)} data-testid="confirmar-no">
                {abierto.volver ?? "No, volver"}
              </Button>
              <Button color={abierto.peligro ? "red.8" : undefined} onClick={() => cerrar(true)} data-testid="confirmar-si" data-autofocus>
                {abierto.confirmar}
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Contexto.Provider>
  );
}

/** `if (await confirmar({...})) hacer()` */
export function useConfirmar(): Pedir {
  const c = useContext(Contexto);
  if (!c) throw new Error("useConfirmar fuera de ProveedorConfirmar");
  return c;
}
