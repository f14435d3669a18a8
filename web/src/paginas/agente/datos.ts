// Shared queries for the agent screens (carteras, templates, profiles, agents), so every screen reads the same cache.
import { useQuery } from "@tanstack/react-query";
import { api, datos } from "../../api/cliente";

export function useCarteras() {
  return useQuery({
    queryKey: ["carteras"],
    queryFn: async () => (await datos(api.GET("/api/carteras", { params: { query: { porPagina: 200 } } }))).items,
  });
}

export function usePlantillas() {
  return useQuery({ queryKey: ["plantillas"], queryFn: () => datos(api.GET("/api/plantillas")) });
}

export function usePerfiles() {
  return useQuery({ queryKey: ["perfiles"], queryFn: () => datos(api.GET("/api/perfiles-envio")) });
}

export function useAgentes(activo = true) {
  return useQuery({ queryKey: ["agentes"], queryFn: () => datos(api.GET("/api/agentes")), enabled: activo });
}
