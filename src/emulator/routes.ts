import type { RouteGroup } from './faults/table.js';

/**
 * The one route table of the emulator: every path it serves, with its method, who may call it
 * and the group a deployment may lack. Matching and the 404/405 answers both come from it.
 */

interface RouteSpec {
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path template; `{name}` matches one non-empty segment. */
  readonly path: string;
  /**
   * public: no key; api (the default): key, rate limits and faults; emulator: key only, never
   * faulted, counted in the stats' requests_by_endpoint as `emulator` (the rest by name).
   */
  readonly access?: 'public' | 'emulator';
  /** A deployment may lack the route (--absent-routes). */
  readonly group?: RouteGroup;
}

/**
 * In matching order: as in Starlette, the first route whose path and method match wins, so
 * literal paths come before the templates that would also match them.
 */
const ROUTES = [
  { name: 'health', method: 'GET', path: '/health', access: 'public' },
  { name: 'whoami', method: 'GET', path: '/api/v1/auth/whoami' },
  { name: 'create', method: 'POST', path: '/api/v1/memories/create' },
  { name: 'batch', method: 'POST', path: '/api/v1/memories/batch' },
  { name: 'list', method: 'GET', path: '/api/v1/memories', group: 'list' },
  { name: 'status', method: 'GET', path: '/api/v1/memories/status/{ingestion_id}' },
  { name: 'get', method: 'GET', path: '/api/v1/memories/{memory_id}' },
  { name: 'update', method: 'PATCH', path: '/api/v1/memories/{memory_id}' },
  { name: 'delete', method: 'DELETE', path: '/api/v1/memories/{memory_id}' },
  { name: 'credits_balance', method: 'GET', path: '/v1/credits/balance', group: 'credits' },
  { name: 'credits_ledger', method: 'GET', path: '/v1/credits/ledger', group: 'credits' },
  { name: 'credits_estimate', method: 'POST', path: '/v1/credits/estimate', group: 'credits' },
  { name: 'emulator_stats', method: 'GET', path: '/_emulator/stats', access: 'emulator' },
  { name: 'emulator_documents', method: 'GET', path: '/_emulator/documents', access: 'emulator' },
] as const satisfies readonly RouteSpec[];

/** A row of the table, its name a literal (RouteName is derived from the table). */
type Route = (typeof ROUTES)[number] & RouteSpec;
export type RouteName = Route['name'];

export type RouteMatch =
  | { found: true; route: Route; params: Record<string, string> }
  | { found: false; status: 404 | 405; allow: string[] };

const compiled = ROUTES.map((route: Route) => ({
  route,
  segments: route.path.split('/').slice(1),
}));

function matchPath(segments: readonly string[], parts: string[]): Record<string, string> | null {
  if (segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const template = segments[i]!;
    const part = parts[i]!;
    if (template.startsWith('{')) {
      if (part === '') return null;
      let value: string;
      try {
        value = decodeURIComponent(part);
      } catch {
        return null;
      }
      params[template.slice(1, -1)] = value;
    } else if (template !== part) {
      return null;
    }
  }
  return params;
}

/** Finds the route for a request; 405 (with Allow) when only the method differs, else 404. */
export function matchRoute(
  method: string,
  pathname: string,
  absent: ReadonlySet<RouteGroup> = new Set(),
): RouteMatch {
  const parts = pathname.split('/').slice(1);
  const allow: string[] = [];
  for (const { route, segments } of compiled) {
    if (route.group && absent.has(route.group)) continue;
    const params = matchPath(segments, parts);
    if (!params) continue;
    if (route.method === method) return { found: true, route, params };
    allow.push(route.method);
  }
  return allow.length > 0
    ? { found: false, status: 405, allow: [...new Set(allow)] }
    : { found: false, status: 404, allow: [] };
}
