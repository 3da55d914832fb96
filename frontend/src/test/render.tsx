import { MantineProvider } from '@mantine/core';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { vi } from 'vitest';
import { OrgProvider } from '../app/OrgProvider';
import { AuthProvider, RequireAuth } from '../auth/AuthProvider';
import type { AuthStrategy, SessionUser } from '../auth/strategy';
import { GraphQLProvider } from '../lib/client';

export type Handler = (operationName: string, variables: Record<string, unknown>) => unknown;

export const ORGANIZATION = {
  me: {
    kind: 'USER',
    email: 'admin@acme.test',
    scopes: ['customers:read', 'pii:read', 'reports:read', 'exports:write', 'coupons:write'],
  },
  organization: {
    slug: 'acme',
    name: 'Acme Rewards',
    timeZone: 'Asia/Kolkata',
    features: { hierarchy: false, surveys: false, extendedAttributes: ['STORE_ID'] },
    actions: [
      { id: 100, name: 'Purchase' },
      { id: 102, name: 'Redemption' },
    ],
    stores: [{ storeId: 'ST-1', name: 'Store One' }],
    sources: ['POS'],
  },
};

/** Answers GraphQL requests by operation name, like the server would; records every call. */
export function stubGraphQL(handler: Handler) {
  const calls: { operationName: string; variables: Record<string, unknown> }[] = [];
  const fetchMock = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body ?? '{}')) as {
      operationName: string;
      variables?: Record<string, unknown>;
    };
    const variables = body.variables ?? {};
    calls.push({ operationName: body.operationName, variables });
    const data = body.operationName === 'Organization' ? ORGANIZATION : handler(body.operationName, variables);
    return new Response(JSON.stringify({ data }), {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
    });
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls, fetchMock };
}

export const ADMIN: SessionUser = {
  email: 'admin@acme.test',
  role: 'ADMIN',
  org: { slug: 'acme', name: 'Acme Rewards', timeZone: 'Asia/Kolkata' },
};
export const AGENT: SessionUser = { ...ADMIN, email: 'agent@acme.test', role: 'AGENT' };

/** A strategy whose session is already open for `user` (no cookies, no /auth calls). */
export function signedInAs(user: SessionUser = ADMIN): AuthStrategy {
  return {
    restore: async () => user,
    requestInit: () => ({ credentials: 'same-origin', headers: { 'X-CSRF-Token': 'csrf-test' } }),
    signIn: async () => user,
    signOut: async () => {},
  };
}


export let currentLocation = '';

function LocationProbe() {
  const location = useLocation();
  currentLocation = location.pathname + location.search;
  return null;
}

/** Renders `ui` at `route` (matched by `path`) inside the app's providers, signed in as `user`. */
export function renderPage(
  ui: ReactElement,
  { route, path, user = ADMIN }: { route: string; path: string; user?: SessionUser },
) {
  return render(
    <MantineProvider>
      <AuthProvider strategy={signedInAs(user)}>
        <MemoryRouter initialEntries={[route]}>
          <GraphQLProvider>
            <RequireAuth>
              <OrgProvider>
                <Routes>
                  <Route path={path} element={ui} />
                </Routes>
                <LocationProbe />
              </OrgProvider>
            </RequireAuth>
          </GraphQLProvider>
        </MemoryRouter>
      </AuthProvider>
    </MantineProvider>,
  );
}
