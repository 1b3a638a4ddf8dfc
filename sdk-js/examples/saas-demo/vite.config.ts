import react from '@vitejs/plugin-react';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
// @ts-expect-error plain ESM helper shared with the setup script
import { devJsonPath } from './scripts/dev-config.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const packages = path.resolve(here, '../../packages');

interface DevInfo {
  gateway_url: string;
  demo: { live_publishable_key: string };
}

/** dev.json of `authstack dev`, when there is one. */
function readDevJson(): { info: DevInfo; file: string } | null {
  const file = devJsonPath() as string;
  if (!existsSync(file)) return null;
  return { info: JSON.parse(readFileSync(file, 'utf8')) as DevInfo, file };
}

/**
 * `GET /__authstack/outbox`: the mail `authstack dev`'s instances wrote (DATA_DIR/instances/
 * <id>/data/outbox/*.json), newest first, for the demo's dev mailbox page. Dev and preview only;
 * a production build never has it.
 */
function devMailbox(dataDir: string | null): Plugin {
  const handler = (_req: IncomingMessage, res: ServerResponse) => {
    const mails: unknown[] = [];
    const instances = dataDir ? path.join(dataDir, 'instances') : null;
    if (instances && existsSync(instances)) {
      for (const id of readdirSync(instances)) {
        const outbox = path.join(instances, id, 'data', 'outbox');
        if (!existsSync(outbox)) continue;
        for (const name of readdirSync(outbox).filter((n) => n.endsWith('.json'))) {
          const mail = JSON.parse(readFileSync(path.join(outbox, name), 'utf8')) as Record<string, unknown>;
          mails.push({ file: name, instance: id, kind: mail['kind'], to: mail['to'], subject: mail['subject'], link: mail['link'] });
        }
      }
    }
    mails.sort((a, b) => String((b as { file: string }).file).localeCompare(String((a as { file: string }).file)));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ data: mails.slice(0, 50) }));
  };
  return {
    name: 'authstack-dev-mailbox',
    configureServer(server) {
      server.middlewares.use('/__authstack/outbox', handler);
    },
    configurePreviewServer(server) {
      server.middlewares.use('/__authstack/outbox', handler);
    },
  };
}

export default defineConfig(() => {
  const dev = readDevJson();
  // Explicit VITE_ variables win; otherwise dev.json's demo account.
  const key = process.env.VITE_AUTHSTACK_PUBLISHABLE_KEY ?? dev?.info.demo.live_publishable_key ?? '';
  const gateway = process.env.VITE_AUTHSTACK_GATEWAY_URL ?? dev?.info.gateway_url ?? '';
  if (!key || !gateway) {
    console.warn(
      `[saas-demo] no AuthStack configuration: start \`authstack dev\` (dev.json expected at ${devJsonPath()}) ` +
        'or set VITE_AUTHSTACK_PUBLISHABLE_KEY and VITE_AUTHSTACK_GATEWAY_URL',
    );
  }
  return {
    plugins: [react(), devMailbox(dev ? path.dirname(dev.file) : null)],
    define: {
      'import.meta.env.VITE_AUTHSTACK_PUBLISHABLE_KEY': JSON.stringify(key),
      'import.meta.env.VITE_AUTHSTACK_GATEWAY_URL': JSON.stringify(gateway),
    },
    resolve: {
      // The SDK from source: no package build needed to run the demo.
      alias: [
        { find: '@authstack/react/styles.css', replacement: path.join(packages, 'react/src/styles.css') },
        { find: '@authstack/react', replacement: path.join(packages, 'react/src/index.ts') },
        { find: '@authstack/client', replacement: path.join(packages, 'client/src/index.ts') },
      ],
    },
    server: { host: '127.0.0.1', port: 5173 },
    preview: { host: '127.0.0.1', port: 4173 },
  };
});
