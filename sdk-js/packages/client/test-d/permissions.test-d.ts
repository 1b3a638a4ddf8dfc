// Type-level test: with the generated catalogue registered (permissions.d.ts), permission names
// are checked at compile time. `tsc -p test-d` fails if any @ts-expect-error below is not an error.
import { createClient, type Permission } from '@authstack/client';

const client = createClient({ apiKey: 'ask_test_x', baseUrl: 'http://127.0.0.1:7401' });

client.hasPermission('projects:create');
client.hasPermission('organization:read');
// @ts-expect-error a misspelt permission
client.hasPermission('projcts:create');

export const custom: Permission = 'reports:export';
// @ts-expect-error not in this instance's catalogue
export const unknown: Permission = 'projects:archive';

export const check = client.permissions.check('org_1', 'members:invite');
// @ts-expect-error a misspelt permission
export const badCheck = client.permissions.check('org_1', 'members:invit');

export const granted: readonly Permission[] = client.getState().permissions;
// @ts-expect-error the state's permissions are the catalogue's names, not any string
export const notAny: readonly 'nope'[] = client.getState().permissions;
