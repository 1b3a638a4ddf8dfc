#!/usr/bin/env node
// `npm run setup`: allow the demo's origins on the demo account's live instance.
// Usage: node scripts/setup.mjs [--origin http://host:port ...]
import { allowOrigins, DEFAULT_ORIGINS, devJsonPath, readDevInfo } from './dev-config.mjs';

const origins = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--origin' && args[i + 1]) origins.push(args[++i]);
  else if (args[i]?.startsWith('--origin=')) origins.push(args[i].slice('--origin='.length));
  else {
    console.error(`unknown argument ${args[i]}`);
    process.exit(2);
  }
}

try {
  const info = readDevInfo();
  const result = await allowOrigins(info, origins.length > 0 ? origins : DEFAULT_ORIGINS);
  console.log(`dev.json: ${devJsonPath()}`);
  console.log(`gateway:  ${info.gateway_url}`);
  console.log(`instance ${result.instanceId} allows: ${result.allowedOrigins.join(', ')}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
