import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli';
import { catalogueFromConfig, catalogueFromPermissionList, permissionsDeclaration } from './permissions-codegen';

const testD = path.resolve(__dirname, '../test-d');

describe('the catalogue', () => {
  it('is the built-in permissions plus the configured ones, sorted and unique', () => {
    const catalogue = catalogueFromConfig({ organizations: { permissions: ['projects:create', 'members:read'] } });
    expect(catalogue).toContain('projects:create');
    expect(catalogue).toContain('billing:manage');
    expect(catalogue).toHaveLength(15);
    expect(catalogue).toEqual([...catalogue].sort());
    expect(catalogueFromConfig({})).toHaveLength(14);
  });

  it('rejects names the instance would reject', () => {
    expect(() => catalogueFromConfig({ organizations: { permissions: ['Projects:Create'] } })).toThrow(/Projects:Create/);
    expect(() => catalogueFromConfig({ organizations: { permissions: ['projects'] } })).toThrow(/resource:action/);
    expect(() => catalogueFromConfig({ organizations: { permissions: 'projects:create' } })).toThrow(/list/);
    expect(() => catalogueFromPermissionList({ items: [] })).toThrow(/data/);
  });

  it('reads the permission list the API answers', () => {
    const list = { data: [{ name: 'projects:create', builtin: false }, { name: 'audit:read', builtin: true }] };
    expect(catalogueFromPermissionList(list)).toEqual(['audit:read', 'projects:create']);
  });
});

describe('authstack-permissions', () => {
  afterEach(() => vi.restoreAllMocks());

  it('wrote the committed type-test declaration from the fixture configuration', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'authstack-permissions-'));
    const out = path.join(dir, 'permissions.d.ts');
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await main(['--from', 'test-d/authstack.yaml', '--out', out])).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(await readFile(path.join(testD, 'permissions.d.ts'), 'utf8'));
  });

  it("fetches an organization's catalogue from the instance with the member's token and the publishable key", async () => {
    const seen: Record<string, string | undefined>[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization, key: req.headers['x-authstack-key'] as string });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: [{ name: 'projects:create', builtin: false }, { name: 'audit:read', builtin: true }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (printed.push(String(chunk)), true));
    vi.stubEnv('AUTHSTACK_ACCESS_TOKEN', 'eyJ.test.token');
    try {
      const url = `http://127.0.0.1:${port}/v1/organizations/org_1/permissions`;
      expect(await main(['--from', url, '--api-key', 'ask_test_k'])).toBe(0);
    } finally {
      vi.unstubAllEnvs();
      server.close();
    }
    expect(seen).toEqual([
      { url: '/v1/organizations/org_1/permissions', authorization: 'Bearer eyJ.test.token', key: 'ask_test_k' },
    ]);
    expect(printed.join('')).toBe(
      permissionsDeclaration(['audit:read', 'projects:create'], '/v1/organizations/org_1/permissions'),
    );
  });
});

describe('typed permission names', () => {
  function diagnostics(files: Record<string, string>, registered: boolean): string[] {
    const fixture = path.join(testD, 'permissions.test-d.ts');
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
      paths: { '@authstack/client': [path.resolve(__dirname, 'index.ts')] },
    };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    host.readFile = (name) => files[path.resolve(name)] ?? read(name);
    const roots = [fixture, ...(registered ? [path.join(testD, 'permissions.d.ts')] : [])];
    const program = ts.createProgram(roots, options, host);
    return ts
      .getPreEmitDiagnostics(program)
      .map((d) => `TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }

  // Each test compiles the fixture with the TypeScript compiler: seconds, more on a busy machine.
  const COMPILE = 30_000;

  it('compiles the fixture: every @ts-expect-error marks a real error', async () => {
    expect(diagnostics({}, true)).toEqual([]);
  }, COMPILE);

  it('rejects a misspelt permission once the markers are gone', async () => {
    const fixture = path.join(testD, 'permissions.test-d.ts');
    const unmarked = (await readFile(fixture, 'utf8')).replace(/\/\/ @ts-expect-error.*\n/g, '');
    const errors = diagnostics({ [fixture]: unmarked }, true);
    expect(errors).toHaveLength(4);
    expect(errors.join('\n')).toMatch(/"projcts:create"/);
    expect(errors.join('\n')).toMatch(/"members:invit"/);
  }, COMPILE);

  it('accepts any string while no catalogue is registered', async () => {
    const fixture = path.join(testD, 'permissions.test-d.ts');
    const unmarked = (await readFile(fixture, 'utf8')).replace(/\/\/ @ts-expect-error.*\n/g, '');
    const errors = diagnostics({ [fixture]: unmarked }, false);
    // Only the `'nope'[]` line still fails: permissions are plain strings.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/TS2322/);
  }, COMPILE);
});
