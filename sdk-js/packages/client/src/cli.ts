// authstack-permissions: writes the TypeScript union of an instance's permission catalogue.
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { catalogueFromConfig, catalogueFromPermissionList, permissionsDeclaration } from './permissions-codegen';

const USAGE = `Usage: authstack-permissions --from <source> [--out permissions.d.ts] [--api-key KEY]

<source> is one of:
  instance configuration, YAML or JSON   the built-in permissions plus organizations.permissions
                                         (YAML needs the \`yaml\` package installed)
  a saved permission list (JSON)          the answer of GET /v1/organizations/{id}/permissions
  http(s)://…/v1/organizations/{id}/permissions
                                          fetched with Authorization: Bearer $AUTHSTACK_ACCESS_TOKEN
                                          and X-AuthStack-Key: --api-key or $AUTHSTACK_PUBLISHABLE_KEY

Without --out the declaration is printed.`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      out: { type: 'string' },
      'api-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.from) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const catalogue = await readCatalogue(values.from, values['api-key'] ?? process.env.AUTHSTACK_PUBLISHABLE_KEY);
  const source = /^https?:/.test(values.from) ? new URL(values.from).pathname : values.from;
  const declaration = permissionsDeclaration(catalogue, source);
  if (values.out) {
    await writeFile(values.out, declaration);
    console.error(`wrote ${values.out}: ${catalogue.length} permissions`);
  } else {
    process.stdout.write(declaration);
  }
  return 0;
}

async function readCatalogue(from: string, apiKey: string | undefined): Promise<string[]> {
  if (/^https?:\/\//.test(from)) {
    const token = process.env.AUTHSTACK_ACCESS_TOKEN;
    if (!token) throw new Error('AUTHSTACK_ACCESS_TOKEN (an access token of a member of the organization) is required');
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (apiKey) headers['x-authstack-key'] = apiKey;
    const response = await fetch(from, { headers });
    const body = await response.text();
    if (!response.ok) throw new Error(`GET ${new URL(from).pathname}: HTTP ${response.status} ${body.slice(0, 200)}`);
    return catalogueFromPermissionList(JSON.parse(body));
  }
  const text = await readFile(from, 'utf8');
  if (/\.ya?ml$/i.test(from)) {
    let yaml: { parse(text: string): unknown };
    try {
      yaml = await import('yaml');
    } catch {
      throw new Error('reading YAML needs the `yaml` package: npm install --save-dev yaml');
    }
    return catalogueFromConfig(yaml.parse(text));
  }
  const json: unknown = JSON.parse(text);
  return json && typeof json === 'object' && 'data' in json
    ? catalogueFromPermissionList(json)
    : catalogueFromConfig(json);
}
