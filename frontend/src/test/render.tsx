import { MantineProvider } from '@mantine/core';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { vi } from 'vitest';
import { OrgProvider } from '../app/OrgProvider';
import { AuthProvider } from '../auth/AuthProvider';
import type { AuthStrategy } from '../auth/strategy';
import { GraphQLProvider } from '../lib/client';

export type Handler = (operationName: string, variables: Record<string, unknown>) => unknown;

export const ORGANIZATION = {
  me: { kind: 'API_KEY', email: null, scopes: ['customers:read', 'pii:read', 'reports:read', 'exports:write'] },
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

export const signedInStrategy: AuthStrategy = {
  kind: 'apiKey',
  hasCredential: () => true,
  requestInit: () => ({ headers: { Authorization: 'Bearer m360_test' } }),
  signIn: async () => ({ organizationName: 'Acme Rewards' }),
  signOut: async () => {},
};

export let currentLocation = '';

function LocationProbe() {
  const location = useLocation();
  currentLocation = location.pathname + location.search;
  return null;
}

/** Renders `ui` at `route` (matched by `path`) inside the app's providers. */
export function renderPage(ui: ReactElement, { route, path }: { route: string; path: string }) {
  return render(
    <MantineProvider>
      <AuthProvider strategy={signedInStrategy}>
        <MemoryRouter initialEntries={[route]}>
          <GraphQLProvider>
            <OrgProvider>
              <Routes>
                <Route path={path} element={ui} />
              </Routes>
              <LocationProbe />
            </OrgProvider>
          </GraphQLProvider>
        </MemoryRouter>
      </AuthProvider>
    </MantineProvider>,
  );
}
