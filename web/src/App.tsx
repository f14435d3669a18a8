// Routes by role: the login screen, then each role's screens inside the shared layout.
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { Center, Loader } from "@mantine/core";
import { inicioDeRol, useSesion, type Rol } from "./auth/sesion";
import { ProveedorTiempoReal } from "./tiempo_real/socket";
import Login from "./paginas/Login";
import Marco from "./componentes/Marco";
import NoEncontrada from "./paginas/NoEncontrada";
import CambiarPassword from "./paginas/CambiarPassword";

const ConectarWhatsApp = lazy(() => import("./paginas/agente/ConectarWhatsApp"));
const Carteras = lazy(() => import("./paginas/agente/Carteras"));
const Campanas = lazy(() => import("./paginas/agente/Campanas"));
const CampanaDetalle = lazy(() => import("./paginas/agente/CampanaDetalle"));
const Bandeja = lazy(() => import("./paginas/agente/Bandeja"));
const Muro = lazy(() => import("./paginas/supervisor/Muro"));
const AgenteDetalle = lazy(() => import("./paginas/supervisor/AgenteDetalle"));
const BitacoraMensajes = lazy(() => import("./paginas/supervisor/BitacoraMensajes"));
const Graficas = lazy(() => import("./paginas/supervisor/Graficas"));
const Usuarios = lazy(() => import("./paginas/admin/Usuarios"));
const Tokens = lazy(() => import("./paginas/admin/Tokens"));
const Perfiles = lazy(() => import("./paginas/admin/Perfiles"));
const Supresiones = lazy(() => import("./paginas/admin/Supresiones"));
const Configuracion = lazy(() => import("./paginas/admin/Configuracion"));
const Webhooks = lazy(() => import("./paginas/admin/Webhooks"));
const Auditoria = lazy(() => import("./paginas/admin/Auditoria"));
const LineasOficiales = lazy(() => import("./paginas/admin/LineasOficiales"));

function Cargando() {
  return (
    <Center h="60vh" aria-live="polite">
      <Loader aria-label="Cargando" />
    </Center>
  );
}

function Protegida({ roles, children }: { roles?: Rol[]; children: ReactNode }) {
  const { usuario } = useSesion();
  const ubicacion = useLocation();
  if (!usuario) return <Navigate to="/login" replace state={{ desde: ubicacion.pathname }} />;
  if (roles && !roles.includes(usuario.rol)) return <Navigate to={inicioDeRol(usuario.rol)} replace />;
  return <Suspense fallback={<Cargando />}>{children}</Suspense>;
}

const TODOS: Rol[] = ["agente", "supervisor", "admin"];
const SUPERVISION: Rol[] = ["supervisor", "admin"];
const ADMIN: Rol[] = ["admin"];

export default function App() {
  const { usuario, cargando } = useSesion();
  if (cargando) return <Cargando />;
  if (usuario?.debe_cambiar_password) return <CambiarPassword />;
  return (
    <ProveedorTiempoReal activo={usuario !== null}>
      <Routes>
        <Route path="/login" element={usuario ? <Navigate to={inicioDeRol(usuario.rol)} replace /> : <Login />} />
        <Route element={usuario ? <Marco /> : <Navigate to="/login" replace />}>
          <Route index element={usuario ? <Navigate to={inicioDeRol(usuario.rol)} replace /> : null} />
          <Route path="whatsapp" element={<Protegida roles={["agente"]}><ConectarWhatsApp /></Protegida>} />
          <Route path="carteras" element={<Protegida roles={TODOS}><Carteras /></Protegida>} />
          <Route path="campanas" element={<Protegida roles={TODOS}><Campanas /></Protegida>} />
          <Route path="campanas/:id" element={<Protegida roles={TODOS}><CampanaDetalle /></Protegida>} />
          <Route path="bandeja" element={<Protegida roles={TODOS}><Bandeja /></Protegida>} />
          <Route path="bandeja/:contactoId" element={<Protegida roles={TODOS}><Bandeja /></Protegida>} />
          <Route path="muro" element={<Protegida roles={SUPERVISION}><Muro /></Protegida>} />
          <Route path="agentes/:id" element={<Protegida roles={SUPERVISION}><AgenteDetalle /></Protegida>} />
          <Route path="mensajes" element={<Protegida roles={SUPERVISION}><BitacoraMensajes /></Protegida>} />
          <Route path="graficas" element={<Protegida roles={SUPERVISION}><Graficas /></Protegida>} />
          <Route path="admin/usuarios" element={<Protegida roles={ADMIN}><Usuarios /></Protegida>} />
          <Route path="admin/tokens" element={<Protegida roles={ADMIN}><Tokens /></Protegida>} />
          <Route path="admin/perfiles" element={<Protegida roles={ADMIN}><Perfiles /></Protegida>} />
          <Route path="admin/supresiones" element={<Protegida roles={ADMIN}><Supresiones /></Protegida>} />
          <Route path="admin/configuracion" element={<Protegida roles={ADMIN}><Configuracion /></Protegida>} />
          <Route path="admin/webhooks" element={<Protegida roles={ADMIN}><Webhooks /></Protegida>} />
          <Route path="admin/auditoria" element={<Protegida roles={ADMIN}><Auditoria /></Protegida>} />
          <Route path="lineas-oficiales" element={<Protegida roles={SUPERVISION}><LineasOficiales /></Protegida>} />
          <Route path="*" element={<NoEncontrada />} />
        </Route>
      </Routes>
    </ProveedorTiempoReal>
  );
}
