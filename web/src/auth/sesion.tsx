// Who is logged in: loads /api/auth/yo once, offers login/logout, and reacts to an expired session.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { alExpirarSesion, pedir } from "../api/cliente";

export type Rol = "admin" | "supervisor" | "agente";

export interface Usuario {
  id: number;
  usuario: string;
  nombre: string;
  rol: Rol;
  agente_id: number | null;
  debe_cambiar_password?: boolean;
}

interface EstadoSesion {
  usuario: Usuario | null;
  cargando: boolean;
  /** Set when the server ended the session under us; the login screen shows it. */
  aviso: string | null;
  entrar: (usuario: string, password: string) => Promise<Usuario>;
  salir: () => Promise<void>;
}

const Contexto = createContext<EstadoSesion | null>(null);

export function ProveedorSesion({ children }: { children: ReactNode }) {
  const [usuario, setUsuario] = useState<Usuario | null>(null);
  const [cargando, setCargando] = useState(true);
  const [aviso, setAviso] = useState<string | null>(null);
  const cliente = useQueryClient();

  useEffect(() => {
    let vivo = true;
    pedir<Usuario>("GET", "/api/auth/yo")
      .then((u) => vivo && setUsuario(u))
      .catch(() => vivo && setUsuario(null))
      .finally(() => vivo && setCargando(false));
    return () => {
      vivo = false;
    };
  }, []);

  useEffect(
    () =>
      alExpirarSesion(() => {
        setUsuario((previo) => {
          if (previo) setAviso("Tu sesión expiró o se cerró. Vuelve a iniciar sesión.");
          return null;
        });
        cliente.clear();
      }),
    [cliente],
  );

  const entrar = useCallback(
    async (nombreUsuario: string, password: string) => {
      const r = await pedir<{ usuario: Usuario } | Usuario>("POST", "/api/auth/login", {
        json: { usuario: nombreUsuario, password },
      });
      const yo = "rol" in r ? r : r.usuario;
      cliente.clear();
      setAviso(null);
      setUsuario(yo);
      return yo;
    },
    [cliente],
  );

  const salir = useCallback(async () => {
    try {
      await pedir("POST", "/api/auth/logout");
    } finally {
      cliente.clear();
      setAviso(null);
      setUsuario(null);
    }
  }, [cliente]);

  const valor = useMemo(() => ({ usuario, cargando, aviso, entrar, salir }), [usuario, cargando, aviso, entrar, salir]);
  return <Contexto.Provider value={valor}>{children}</Contexto.Provider>;
}

export function useSesion(): EstadoSesion {
  const c = useContext(Contexto);
  if (!c) throw new Error("useSesion fuera de ProveedorSesion");
  return c;
}

/** The logged-in user; only for screens behind RutaProtegida. */
export function useUsuario(): Usuario {
  const { usuario } = useSesion();
  if (!usuario) throw new Error("Pantalla protegida sin usuario");
  return usuario;
}

export const NOMBRE_ROL: Record<Rol, string> = { admin: "Administración", supervisor: "Supervisión", agente: "Agente" };

export function inicioDeRol(rol: Rol): string {
  return rol === "agente" ? "/whatsapp" : "/muro";
}
