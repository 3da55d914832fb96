/**
 * How the SPA proves who it is to the API.
 *
 * The app talks to an `AuthStrategy` only: `restore()` asks the server who is signed in when the
 * page loads, `signIn()` / `signOut()` start and end a session, and `requestInit()` is merged into
 * every GraphQL request. The one strategy today is `CookieSessionStrategy` (user login: POST
 * /auth/login sets an HttpOnly session cookie plus a readable CSRF cookie whose value goes back in
 * `X-CSRF-Token`). API keys are for partner apps and have no sign-in form here.
 */

export type Role = 'ADMIN' | 'AGENT';

export interface SessionUser {
  email: string;
  /** ADMIN or AGENT; kept as a string so a role the SPA does not know yet gets the least access. */
  role: Role | (string & {});
  org: { slug: string; name: string; timeZone: string };
}

export interface Credentials {
  email: string;
  password: string;
}

export interface AuthStrategy {
  /** Who is signed in, asked of the server; null when nobody is. Throws AuthError when it can't tell. */
  restore(): Promise<SessionUser | null>;
  /** Credentials mode and headers for every API request (read fresh each time). */
  requestInit(): RequestInit;
  /** Starts a session; throws AuthError (with the server's code) when refused. */
  signIn(credentials: Credentials): Promise<SessionUser>;
  /** Ends the session; never throws (the app signs out locally whatever the server says). */
  signOut(): Promise<void>;
}

export type AuthErrorCode =
  | 'INVALID_CREDENTIALS'
  | 'TOO_MANY_ATTEMPTS'
  | 'BAD_REQUEST'
  | 'UNREACHABLE'
  | 'SERVER';

export class AuthError extends Error {
  constructor(
    message: string,
    readonly code: AuthErrorCode,
    /** Which form field the error is about, when it is about one. */
    readonly field?: 'email' | 'password',
    /** Seconds to wait before trying again (429 Retry-After). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export const GRAPHQL_URL = '/graphql';
export const CSRF_COOKIE = 'm360_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

/** A cookie's value from `document.cookie` (null when absent). */
export function readCookie(name: string, cookies: string = document.cookie): string | null {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return null;
}

/** Retry-After as whole seconds: either delta-seconds or an HTTP date; undefined when unusable. */
export function retryAfterSeconds(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Math.max(1, parseInt(value, 10));
  const when = Date.parse(value);
  if (Number.isNaN(when)) return undefined;
  return Math.max(1, Math.ceil((when - now) / 1000));
}

const UNREACHABLE = 'The server could not be reached. Check your connection and try again.';

interface ErrorBody {
  error?: { code?: string; message?: string; field?: string };
}

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  try {
    return ((await response.json()) as ErrorBody).error ?? {};
  } catch {
    return {};
  }
}

function userOf(body: unknown): SessionUser {
  const user = (body as { user?: SessionUser } | null)?.user;
  if (!user || typeof user.email !== 'string' || typeof user.role !== 'string' || !user.org) {
    throw new AuthError('Unexpected answer from the server.', 'SERVER');
  }
  return user;
}

/** User login with a session cookie (issue 6). */
export class CookieSessionStrategy implements AuthStrategy {
  constructor(private readonly cookies: () => string = () => document.cookie) {}

  requestInit(): RequestInit {
    const csrf = readCookie(CSRF_COOKIE, this.cookies());
    // The session cookie rides along by itself (same origin); the CSRF token must be copied
    // into a header, which a cross-site form cannot do.
    return { credentials: 'same-origin', headers: csrf ? { [CSRF_HEADER]: csrf } : {} };
  }

  async restore(): Promise<SessionUser | null> {
    let response: Response;
    try {
      response = await fetch('/auth/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    } catch {
      throw new AuthError(UNREACHABLE, 'UNREACHABLE');
    }
    if (response.status === 401) return null;
    if (!response.ok) {
      throw new AuthError(`The server answered ${response.status}. Try again in a moment.`, 'SERVER');
    }
    return userOf(await response.json().catch(() => null));
  }

  async signIn({ email, password }: Credentials): Promise<SessionUser> {
    const address = email.trim();
    if (!address) throw new AuthError('Enter your email address.', 'BAD_REQUEST', 'email');
    if (!password) throw new AuthError('Enter your password.', 'BAD_REQUEST', 'password');
    let response: Response;
    try {
      response = await fetch('/auth/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ email: address, password }),
      });
    } catch {
      throw new AuthError(UNREACHABLE, 'UNREACHABLE');
    }
    if (response.ok) return userOf(await response.json().catch(() => null));
    const error = await errorOf(response);
    if (response.status === 401) {
      throw new AuthError('That email and password do not match an account. Check them and try again.', 'INVALID_CREDENTIALS');
    }
    if (response.status === 429) {
      const seconds = retryAfterSeconds(response.headers.get('Retry-After'));
      throw new AuthError(
        seconds ? `Too many sign-in attempts. Try again in ${seconds} s.` : 'Too many sign-in attempts. Wait a minute and try again.',
        'TOO_MANY_ATTEMPTS',
        undefined,
        seconds,
      );
    }
    if (response.status === 400) {
      const field = error?.field === 'email' || error?.field === 'password' ? error.field : undefined;
      throw new AuthError(error?.message || 'The server could not read the form.', 'BAD_REQUEST', field);
    }
    throw new AuthError(`The server answered ${response.status}. Try again in a moment.`, 'SERVER');
  }

  async signOut(): Promise<void> {
    try {
      const init = this.requestInit();
      await fetch('/auth/logout', { ...init, method: 'POST' });
    } catch {
      // Offline: the session cookie stays until it expires; the app still forgets the user.
    }
  }
}
