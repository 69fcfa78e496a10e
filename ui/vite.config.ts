// Vite build of the dashboard. `npm run dev` proxies the API to a local tickstreamd.
import { defineConfig } from 'vite';

const daemon = process.env.TICKSTREAM_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  build: {
    target: 'es2022',
    // RapiDoc and GraphiQL, the API pages' renderers, are large bundles.
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: { dashboard: 'index.html', api: 'api.html', graphiql: 'graphiql.html' } },
  },
  server: {
    proxy: {
      '/api': daemon,
      '/ws': { target: daemon.replace(/^http/, 'ws'), ws: true },
    },
  },
});
