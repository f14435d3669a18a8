import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// In development the panel runs on Vite and talks to `enlace serve` (ENLACE_PORT, 8000 by default).
const backend = `http://127.0.0.1:${process.env.ENLACE_PORT ?? "8000"}`;

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      output: {
        // Keep the vendor libraries apart from our code so a panel change does not bust their cache.
        codeSplitting: {
          groups: [
            { name: "react", test: /node_modules[\\/](react|react-dom|react-router|scheduler)[\\/]/ },
            { name: "mantine", test: /node_modules[\\/]@mantine[\\/](core|hooks|notifications)[\\/]/ },
            { name: "graficas", test: /node_modules[\\/](recharts|d3-|victory-vendor|@reduxjs|immer|decimal\.js-light|es-toolkit)/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      "/api": backend,
      "/openapi.json": backend,
      "/socket.io": { target: backend, ws: true },
    },
  },
});
