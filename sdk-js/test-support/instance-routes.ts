// The instance's HTTP API as types, from the OpenAPI document the client's types are generated
// from (packages/client/src/generated/openapi.ts): which routes exist, what each takes and which
// answers it documents. A fake built on these cannot answer a route, a status or a body shape
// the instance does not document without a type error.
import type { components, paths } from '../packages/client/src/generated/openapi';

/** The instance's schemas (`UserView`, `OrganizationView`, …). */
export type Schemas = components['schemas'];

type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';

/** `METHOD /template` of every operation the instance documents, e.g. `PATCH /v1/organizations/{id}`. */
export type Route = {
  [P in keyof paths]: {
    [M in Method]: paths[P][M] extends { responses: object } ? `${Uppercase<M>} ${P & string}` : never;
  }[Method];
}[keyof paths];

type Operation<R extends Route> = R extends `${infer M} ${infer P extends keyof paths}`
  ? paths[P][Lowercase<M> & keyof paths[P]]
  : never;

/** The answers a route documents, by status. */
export type Responses<R extends Route> = Operation<R> extends { responses: infer S } ? S : never;

/** The routes that document an answer with status `S`. */
export type RouteAnswering<S extends number> = {
  [R in Route]: S extends keyof Responses<R> ? R : never;
}[Route];

/** The body a route takes (JSON or form), as its schema gives it; `undefined` when it takes none. */
export type RequestBody<R extends Route> =
  Operation<R> extends { requestBody?: { content: infer C } } ? ([C] extends [never] ? undefined : C[keyof C]) : undefined;

/** The path parameters of a route, by name. */
export type PathParams<R extends Route> = Operation<R> extends { parameters: { path: infer T extends object } } ? T : {};

/** The JSON body a route answers with `status`, or `undefined` where that answer has none. */
export type ResponseBody<R extends Route, S extends keyof Responses<R>> = Responses<R>[S] extends {
  content: { 'application/json': infer B };
}
  ? B
  : undefined;

/** The statuses a route documents an `ErrorBody` for. */
export type ErrorStatus<R extends Route> = {
  [S in keyof Responses<R>]: ResponseBody<R, S> extends Schemas['ErrorBody'] ? S : never;
}[keyof Responses<R>] &
  number;

declare const checked: unique symbol;

/** An answer built by `reply` or `fail` (or, marked as such, `undocumented`): nothing else is one. */
export interface Answered {
  readonly status: number;
  readonly body?: unknown;
  readonly [checked]: true;
}

/**
 * The answers a route may give: `reply(status, body)` takes only a status the route documents,
 * with exactly that status's schema (no body where it has none); `fail` an `ErrorBody` status.
 */
export interface Answers<R extends Route> {
  reply<S extends keyof Responses<R> & number>(
    status: S,
    ...body: ResponseBody<R, S> extends undefined ? [] : [ResponseBody<R, S>]
  ): Answered;
  fail(status: ErrorStatus<R>, error: string, message: string): Answered;
}

/** Builds an answer; for the fake's machinery, which checks the route's types before calling it. */
export function answered(status: number, body?: unknown): Answered {
  return { status, body } as Answered;
}

/** What `Answers` does at run time; the checking is its types'. */
export const answers = {
  reply: (status: number, ...body: unknown[]) => answered(status, body[0]),
  fail: (status: number, error: string, message: string) => answered(status, { error, message }),
};

/**
 * An answer the instance gives but its OpenAPI document does not list, escaping the check
 * `Answers` makes: every use says which answer it is, so that it goes once the document has it.
 */
export function undocumented(status: number, error: string, message: string): Answered {
  return answered(status, { error, message });
}

/** Matches a route's template (`/v1/organizations/{id}`) against a request path; the decoded parameters, or null. */
export function matchTemplate(template: string, path: string): Record<string, string> | null {
  const names: string[] = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const found = new RegExp(`^${source}$`).exec(path);
  if (!found) return null;
  return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1]!)]));
}
