import { useMemo, type ReactNode } from 'react';
import { Client, Provider, cacheExchange, fetchExchange } from 'urql';
import { useAuth } from '../auth/AuthProvider';
import { GRAPHQL_URL } from '../auth/strategy';

/**
 * One urql client per signed-in session: credentials come from the auth strategy on every
 * request, and a 401 (credential revoked or expired) signs out and returns to the sign-in page.
 */
export function GraphQLProvider({ children }: { children: ReactNode }) {
  const { strategy, generation, signOut } = useAuth();
  const client = useMemo(() => {
    const authFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (response.status === 401) void signOut('expired');
      return response;
    };
    return new Client({
      url: GRAPHQL_URL,
      exchanges: [cacheExchange, fetchExchange],
      fetch: authFetch,
      fetchOptions: () => strategy.requestInit(),
      preferGetMethod: false,
      requestPolicy: 'cache-and-network',
    });
    // A new client (with an empty cache) for every sign-in/sign-out.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [strategy, generation, signOut]);
  return <Provider value={client}>{children}</Provider>;
}
