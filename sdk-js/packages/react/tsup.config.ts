import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig(
  packageBuild({
    entry: ['src/index.ts'],
    external: ['react', 'react-dom', 'react/jsx-runtime', '@authstack/client'],
    async onSuccess() {
      copyFileSync('src/styles.css', 'dist/styles.css');
      // The components use hooks: mark the bundles as client code for React Server Components.
      // (Added after bundling: the bundler drops module-level directives.)
      for (const file of ['dist/index.js', 'dist/index.cjs']) {
        const code = readFileSync(file, 'utf8');
        if (!code.startsWith("'use client';")) writeFileSync(file, `'use client';\n${code}`);
      }
    },
  }),
);
