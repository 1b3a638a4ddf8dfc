#!/usr/bin/env node
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`authstack-permissions: ${error.message}`);
    process.exit(1);
  },
);
