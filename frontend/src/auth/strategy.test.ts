import { safeNext } from './SignInPage';
import { ApiKeyStrategy, AuthError } from './strategy';

function memoryStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (k) => data.get(k) ?? null,
    key: (i) => [...data.keys()][i] ?? null,
    removeItem: (k) => void data.delete(k),
    setItem: (k, v) => void data.set(k, v),
  };
}

describe('signing in with an API key', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('checks the key against the API, then keeps it for the session', async () => {
    const fetchMock = vi.fn(async () =>
      new Response(JSON.stringify({ data: { me: { kind: 'API_KEY', organization: { name: 'Acme' } } } }), {
        status: 200,
      }),
    );
    vi.stubGlobal('fetch', fetchMock);
    const storage = memoryStorage();
    const auth = new ApiKeyStrategy(storage);
    expect(auth.hasCredential()).toBe(false);
    const result = await auth.signIn({ apiKey: '  Bearer m360_abc  ' });
    expect(result.organizationName).toBe('Acme');
    const init = (fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer m360_abc');
    expect(auth.requestInit()).toEqual({ headers: { Authorization: 'Bearer m360_abc' } });
    await auth.signOut();
    expect(auth.hasCredential()).toBe(false);
    expect(auth.requestInit()).toEqual({});
  });

  it('refuses a key the API answers 401 for, and keeps nothing', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 401 })));
    const storage = memoryStorage();
    const auth = new ApiKeyStrategy(storage);
    await expect(auth.signIn({ apiKey: 'm360_wrong' })).rejects.toThrow(AuthError);
    expect(storage.length).toBe(0);
  });

  it('asks for a key before calling anyone', async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
    await expect(new ApiKeyStrategy(memoryStorage()).signIn({ apiKey: ' ' })).rejects.toThrow('Enter an API key.');
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('reports an unreachable server', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('offline'))));
    await expect(new ApiKeyStrategy(memoryStorage()).signIn({ apiKey: 'k' })).rejects.toThrow(/could not be reached/);
  });
});

describe('where sign-in goes next', () => {
  it('follows only same-site paths', () => {
    expect(safeNext('/customers/X/points?after=a')).toBe('/customers/X/points?after=a');
    expect(safeNext('https://evil.test/')).toBe('/customers');
    expect(safeNext('//evil.test/')).toBe('/customers');
    expect(safeNext('/signin?next=/x')).toBe('/customers');
    expect(safeNext(null)).toBe('/customers');
  });
});
