// Prints the minified + gzipped size of each package as an application ships it:
// the package's ESM build bundled by esbuild with React external (its own imports,
// such as @authstack/client inside @authstack/react, are counted).
// Run `npm run build` first.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const packages = [
  { name: '@authstack/client', dir: 'packages/client', budget: 10 * 1024 },
  { name: '@authstack/react', dir: 'packages/react', budget: 35 * 1024 },
];
const external = ['react', 'react-dom', 'react/jsx-runtime', 'react-dom/client'];

let failed = false;
for (const pkg of packages) {
  const entry = path.join(root, pkg.dir, 'dist/index.js');
  if (!existsSync(path.join(root, pkg.dir, 'package.json'))) continue;
  if (!existsSync(entry)) {
    console.error(`${pkg.name}: ${path.relative(root, entry)} missing; run npm run build`);
    failed = true;
    continue;
  }
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external,
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0].contents;
  const gz = gzipSync(code, { level: 9 }).length;
  const over = gz > pkg.budget;
  failed ||= over;
  console.log(
    `${pkg.name.padEnd(20)} min ${kb(code.length).padStart(9)}   min+gz ${kb(gz).padStart(9)}   budget ${kb(pkg.budget)}${over ? '   OVER BUDGET' : ''}`,
  );
}
process.exitCode = failed ? 1 : 0;

function kb(bytes) {
  return `${(bytes / 1024).toFixed(2)} kB`;
}
