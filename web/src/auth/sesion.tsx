// Who is logged in: loads /api/auth/yo once, offers login/logout, and reacts to an expired session.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { alExpirarSesion, leerCookie, pedir } from "../api/cliente";
import { sincronizarReloj } from "../reloj";

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
    // No CSRF cookie means no session (both are set and cleared together): don't ask, so a first visit
    // logs no 401 in the console.
    if (!leerCookie("enlace_csrf")) {
      setCargando(false);
      return;
    }
    pedir<Usuario>("GET", "/api/auth/yo")
      .then((u) => {
        if (!vivo) return;
        setUsuario(u);
        void sincronizarReloj();
      })
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
      void sincronizarReloj();
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
