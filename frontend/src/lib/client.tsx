import { useMemo, type ReactNode } from 'react';
import { Client, Provider, cacheExchange, fetchExchange } from 'urql';
import { useAuth } from '../auth/AuthProvider';
import { GRAPHQL_URL } from '../auth/strategy';

/** Whether an API answer means the session is gone: 401, or a 403 for a missing/stale CSRF token. */
export async function sessionLost(response: Response): Promise<boolean> {
  if (response.status === 401) return true;
  if (response.status !== 403) return false;
  try {
    const body = (await response.clone().json()) as { error?: { code?: string } };
    // A CSRF token that no longer matches (cookies cleared or replaced in another tab) cannot be
    // repaired from here; signing in again issues a fresh pair.
    return body.error?.code === 'CSRF_FAILED';
  } catch {
    return false;
  }
}

/** Merges the strategy's request options (credentials mode, CSRF header) into urql's. */
export function withAuth(base: RequestInit | undefined, auth: RequestInit): RequestInit {
  const headers = new Headers(base?.headers);
  new Headers(auth.headers).forEach((value, name) => headers.set(name, value));
  return { ...base, ...auth, headers };
}

/**
 * One urql client per session: every request carries what the auth strategy says (the session
 * cookie and the X-CSRF-Token header), and a 401 (session expired or revoked) returns to the login
 * page, which brings the user back to the page they were on.
 */
export function GraphQLProvider({ children }: { children: ReactNode }) {
  const { strategy, generation, expire } = useAuth();
  const client = useMemo(() => {
    const authFetch: typeof fetch = async (input, init) => {
      // Read at send time: the CSRF cookie changes with every login.
      const response = await fetch(input, withAuth(init, strategy.requestInit()));
      if (await sessionLost(response)) expire();
      return response;
    };
    return new Client({
      url: GRAPHQL_URL,
      exchanges: [cacheExchange, fetchExchange],
      fetch: authFetch,
      preferGetMethod: false,
      requestPolicy: 'cache-and-network',
    });
    // A new client (with an empty cache) for every sign-in/sign-out.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [strategy, generation, expire]);
  return <Provider value={client}>{children}</Provider>;
}
