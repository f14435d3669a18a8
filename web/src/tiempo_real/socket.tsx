// One socket.io connection per logged-in user (cookie auth; the server puts it in its role's rooms) and a hook to listen.
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { io, type Socket } from "socket.io-client";
import type { Eventos } from "../api/eventos";

export type EstadoConexion = "conectando" | "conectado" | "desconectado";

interface Contexto {
  socket: Socket | null;
  estado: EstadoConexion;
  /** Increases on every (re)connection: screens refetch their snapshot when it changes. */
  generacion: number;
}

const Ctx = createContext<Contexto>({ socket: null, estado: "desconectado", generacion: 0 });

export function ProveedorTiempoReal({ activo, children }: { activo: boolean; children: ReactNode }) {
  const [socket, setSocket] = useState<Socket | null>(null);
  const [estado, setEstado] = useState<EstadoConexion>("desconectado");
  const [generacion, setGeneracion] = useState(0);

  useEffect(() => {
    if (!activo) return;
    const s = io({
      path: "/socket.io",
      withCredentials: true,
      transports: ["websocket", "polling"],
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    setSocket(s);
    setEstado("conectando");
    const alConectar = () => {
      setEstado("conectado");
      setGeneracion((g) => g + 1);
    };
    const alDesconectar = () => setEstado("desconectado");
    s.on("connect", alConectar);
    s.on("disconnect", alDesconectar);
    s.on("connect_error", alDesconectar);
    return () => {
      s.off("connect", alConectar);
      s.off("disconnect", alDesconectar);
      s.off("connect_error", alDesconectar);
      s.disconnect();
      setSocket(null);
      setEstado("desconectado");
    };
  }, [activo]);

  return <Ctx.Provider value={{ socket, estado, generacion }}>{children}</Ctx.Provider>;
}

export function useTiempoReal(): Contexto {
  return useContext(Ctx);
}

/** The realtime events and their payloads (generated from enlace.comun.eventos by `make esquema`). */
export type NombreEvento = keyof Eventos;

/** Calls `manejador` for every `evento`; the latest handler is used without re-subscribing. */
export function useEvento<K extends NombreEvento>(evento: K, manejador: (datos: Eventos[K]) => void) {
  const { socket } = useTiempoReal();
  const ref = useRef(manejador);
  ref.current = manejador;
  useEffect(() => {
    if (!socket) return;
    const f = (datos: Eventos[K]) => ref.current(datos);
    const nombre: string = evento; // socket.io's own typing only knows its reserved events
    socket.on(nombre, f);
    return () => {
      socket.off(nombre, f);
    };
  }, [socket, evento]);
}
