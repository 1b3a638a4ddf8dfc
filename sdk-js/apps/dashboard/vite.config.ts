import react from '@vitejs/plugin-react';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = path.dirname(fileURLToPath(import.meta.url));
const packages = path.resolve(here, '../../packages');
// `vite dev` forwards the control-plane API and its relay of the platform instance (`/platform`);
// the built app calls its own origin.
const controlPlane = process.env.AUTHSTACK_CONTROL_PLANE_URL ?? 'http://127.0.0.1:7400';

export default defineConfig({
  plugins: [react()],
  // Served by the control plane at `/`.
  base: '/',
  resolve: {
    // The SDK from source: no package build needed first.
    alias: [
      { find: '@authstack/react/styles.css', replacement: path.join(packages, 'react/src/styles.css') },
      { find: '@authstack/react', replacement: path.join(packages, 'react/src/index.ts') },
      { find: '@authstack/client', replacement: path.join(packages, 'client/src/index.ts') },
    ],
  },
  server: { host: '127.0.0.1', port: 5174, proxy: { '/v1': controlPlane, '/platform': controlPlane } },
  preview: { host: '127.0.0.1', port: 4174, proxy: { '/v1': controlPlane, '/platform': controlPlane } },
  build: { outDir: 'dist', emptyOutDir: true },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
