import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import "@mantine/core/styles.css";
import "@mantine/notifications/styles.css";
import "./estilos.css";
import { tema } from "./tema";
import { ProveedorSesion } from "./auth/sesion";
import { ErrorApi } from "./api/cliente";
import App from "./App";
import { ProveedorConfirmar } from "./componentes/Confirmar";

const consultas = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // Retrying a 4xx only repeats the same answer; retry network blips and 5xx once.
      retry: (intentos, error) => !(error instanceof ErrorApi && error.status >= 400 && error.status < 500) && intentos < 1,
    },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <MantineProvider theme={tema} defaultColorScheme="light">
      <Notifications position="top-right" limit={4} />
      <QueryClientProvider client={consultas}>
        <BrowserRouter>
          <ProveedorSesion>
            <ProveedorConfirmar>
              <App />
            </ProveedorConfirmar>
          </ProveedorSesion>
        </BrowserRouter>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
