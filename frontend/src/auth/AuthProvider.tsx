import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import type { AuthStrategy, SignInResult } from './strategy';

interface AuthState {
  strategy: AuthStrategy;
  signedIn: boolean;
  /** Bumped on every sign-in and sign-out so the GraphQL client (and its cache) is rebuilt. */
  generation: number;
  signIn(input: Record<string, string>): Promise<SignInResult>;
  signOut(reason?: 'expired'): Promise<void>;
  /** Why the last sign-out happened, for the sign-in page. */
  signedOutReason: 'expired' | null;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ strategy, children }: { strategy: AuthStrategy; children: ReactNode }) {
  const [signedIn, setSignedIn] = useState(() => strategy.hasCredential());
  const [generation, setGeneration] = useState(0);
  const [signedOutReason, setReason] = useState<'expired' | null>(null);

  const signIn = useCallback(
    async (input: Record<string, string>) => {
      const result = await strategy.signIn(input);
      setSignedIn(true);
      setReason(null);
      setGeneration((g) => g + 1);
      return result;
    },
    [strategy],
  );

  const signOut = useCallback(
    async (reason?: 'expired') => {
      await strategy.signOut();
      setSignedIn(false);
      setReason(reason ?? null);
      setGeneration((g) => g + 1);
    },
    [strategy],
  );

  const value = useMemo(
    () => ({ strategy, signedIn, generation, signIn, signOut, signedOutReason }),
    [strategy, signedIn, generation, signIn, signOut, signedOutReason],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}

/** Sends visitors without a credential to the sign-in page, remembering where they were going. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { signedIn } = useAuth();
  const location = useLocation();
  if (!signedIn) {
    const next = location.pathname + location.search;
    return <Navigate to={`/signin?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}
