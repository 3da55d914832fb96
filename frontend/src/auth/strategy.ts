/**
 * How the SPA proves who it is to the API.
 *
 * Today: an API key typed once on the sign-in page and kept in sessionStorage (gone when the tab
 * closes), sent as `Authorization: Bearer …`. When user login lands (POST /auth/login sets a
 * session cookie), a `CookieSessionStrategy` implements the same interface — `requestInit()`
 * returns `{ credentials: 'same-origin' }`, `signIn()` posts the email and password, `signOut()`
 * posts /auth/logout — and nothing else in the app changes.
 */

export interface SignInResult {
  organizationName: string;
}

export interface AuthStrategy {
  /** What the sign-in form asks for. */
  readonly kind: 'apiKey' | 'password';
  /** Whether a credential is at hand (the server still has the last word: a 401 signs out). */
  hasCredential(): boolean;
  /** Headers / credentials mode for every API request. */
  requestInit(): RequestInit;
  /** Checks the credential against the API and keeps it; throws AuthError when refused. */
  signIn(input: Record<string, string>): Promise<SignInResult>;
  signOut(): Promise<void>;
}

export class AuthError extends Error {}

export const GRAPHQL_URL = '/graphql';

const CHECK = 'query SignInCheck { me { kind organization { name } } }';

/** Asks the API who we are with the given request options; used to validate a credential. */
export async function checkCredential(init: RequestInit): Promise<SignInResult> {
  let response: Response;
  try {
    response = await fetch(GRAPHQL_URL, {
      ...init,
      method: 'POST',
      headers: { ...(init.headers as Record<string, string>), 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: CHECK }),
    });
  } catch {
    throw new AuthError('The server could not be reached. Check your connection and try again.');
  }
  if (response.status === 401) {
    throw new AuthError('That API key was not accepted. Check it and try again.');
  }
  if (!response.ok) {
    throw new AuthError(`The server answered ${response.status}. Try again in a moment.`);
  }
  const body = (await response.json()) as {
    data?: { me?: { organization?: { name?: string } } };
    errors?: { message: string }[];
  };
  const name = body.data?.me?.organization?.name;
  if (!name) {
    throw new AuthError(body.errors?.[0]?.message ?? 'Unexpected answer from the server.');
  }
  return { organizationName: name };
}

const STORAGE_KEY = 'member360.apiKey';

export class ApiKeyStrategy implements AuthStrategy {
  readonly kind = 'apiKey' as const;

  constructor(private readonly storage: Storage = window.sessionStorage) {}

  hasCredential(): boolean {
    return !!this.storage.getItem(STORAGE_KEY);
  }

  requestInit(): RequestInit {
    const key = this.storage.getItem(STORAGE_KEY);
    return key ? { headers: { Authorization: `Bearer ${key}` } } : {};
  }

  async signIn(input: Record<string, string>): Promise<SignInResult> {
    const key = (input.apiKey ?? '').trim().replace(/^bearer\s+/i, '');
    if (!key) throw new AuthError('Enter an API key.');
    const result = await checkCredential({ headers: { Authorization: `Bearer ${key}` } });
    this.storage.setItem(STORAGE_KEY, key);
    return result;
  }

  async signOut(): Promise<void> {
    this.storage.removeItem(STORAGE_KEY);
  }
}
