import { Button, Center, Stack, Text, Title } from '@mantine/core';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { LoadingState } from '../components/States';
import { AuthError, type AuthStrategy, type Credentials, type SessionUser } from './strategy';

/**
 * `loading`: asking the server (GET /auth/me) whether this browser has a session;
 * `unreachable`: it could not tell (offline, 5xx) — the app offers to ask again.
 */
export type AuthStatus = 'loading' | 'signedIn' | 'signedOut' | 'unreachable';

/** Why nobody is signed in: the session ran out (`expired`) or the user signed out. */
export type SignedOutReason = 'expired' | 'signedOut' | null;

interface AuthState {
  strategy: AuthStrategy;
  status: AuthStatus;
  user: SessionUser | null;
  /** Bumped on every sign-in and sign-out so the GraphQL client (and its cache) is rebuilt. */
  generation: number;
  signedOutReason: SignedOutReason;
  bootstrapError: string | null;
  signIn(credentials: Credentials): Promise<SessionUser>;
  signOut(): Promise<void>;
  /** The server answered 401 (session expired or revoked): back to the login page. */
  expire(): void;
  /** Ask the server about the session again (after `unreachable`). */
  retry(): void;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ strategy, children }: { strategy: AuthStrategy; children: ReactNode }) {
  const [status, setStatusState] = useState<AuthStatus>('loading');
  // Read by expire(), which many failing requests may call at once.
  const statusRef = useRef<AuthStatus>('loading');
  const setStatus = useCallback((next: AuthStatus) => {
    statusRef.current = next;
    setStatusState(next);
  }, []);
  const [user, setUser] = useState<SessionUser | null>(null);
  const [generation, setGeneration] = useState(0);
  const [signedOutReason, setReason] = useState<SignedOutReason>(null);
  const [bootstrapError, setBootstrapError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setStatus('loading');
    strategy.restore().then(
      (found) => {
        if (!live) return;
        setUser(found);
        setStatus(found ? 'signedIn' : 'signedOut');
      },
      (error: unknown) => {
        if (!live) return;
        setBootstrapError(error instanceof AuthError ? error.message : 'The session could not be checked.');
        setStatus('unreachable');
      },
    );
    return () => {
      live = false;
    };
  }, [strategy, attempt, setStatus]);

  const signIn = useCallback(
    async (credentials: Credentials) => {
      const signedIn = await strategy.signIn(credentials);
      setUser(signedIn);
      setStatus('signedIn');
      setReason(null);
      setGeneration((g) => g + 1);
      return signedIn;
    },
    [strategy, setStatus],
  );

  const signOut = useCallback(async () => {
    await strategy.signOut();
    setUser(null);
    setStatus('signedOut');
    setReason('signedOut');
    setGeneration((g) => g + 1);
  }, [strategy, setStatus]);

  const expire = useCallback(() => {
    // Several requests may fail at once; only the first one changes anything.
    if (statusRef.current !== 'signedIn') return;
    setStatus('signedOut');
    setUser(null);
    setReason('expired');
    setGeneration((g) => g + 1);
  }, [setStatus]);

  const retry = useCallback(() => setAttempt((a) => a + 1), []);

  const value = useMemo(
    () => ({ strategy, status, user, generation, signedOutReason, bootstrapError, signIn, signOut, expire, retry }),
    [strategy, status, user, generation, signedOutReason, bootstrapError, signIn, signOut, expire, retry],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}

/** The signed-in user; only under RequireAuth. */
export function useUser(): SessionUser {
  const { user } = useAuth();
  if (!user) throw new Error('useUser outside RequireAuth');
  return user;
}

export const LOGIN_PATH = '/login';

/** The login page's address, remembering `next` (the page to return to) unless it is the default. */
export function loginPath(next?: string): string {
  return next && next !== '/' && next !== '/customers' ? `${LOGIN_PATH}?next=${encodeURIComponent(next)}` : LOGIN_PATH;
}

/** While the session is being checked (page load), or could not be checked. */
export function SessionPending() {
  const { status, bootstrapError, retry } = useAuth();
  if (status === 'unreachable') {
    return (
      <Center mih="100vh" p="md">
        <Stack align="center" role="alert">
          <Title order={1} size="h3">
            Member360 is not answering
          </Title>
          <Text>{bootstrapError}</Text>
          <Button onClick={retry}>Try again</Button>
        </Stack>
      </Center>
    );
  }
  return (
    <Center mih="100vh">
      <LoadingState label="Checking your session…" />
    </Center>
  );
}

/**
 * Sends visitors without a session to the login page, remembering where they were going (a deep
 * link, or the page whose request found the session expired). After Sign out, plain /login.
 */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status, signedOutReason } = useAuth();
  const location = useLocation();
  if (status === 'loading' || status === 'unreachable') return <SessionPending />;
  if (status !== 'signedIn') {
    const next = signedOutReason === 'signedOut' ? undefined : location.pathname + location.search;
    return <Navigate to={loginPath(next)} replace />;
  }
  return <>{children}</>;
}
