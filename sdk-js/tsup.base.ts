import type { Options } from 'tsup';

/**
 * The build every package shares: ESM + CJS + .d.ts from `src/index.ts`, ES2022, source maps.
 * A package's `tsup.config.ts` calls this and adds only what differs (entries, externals).
 */
export function packageBuild(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    treeshake: true,
    ...overrides,
  };
}
