import { safeNext } from './LoginPage';
import { AuthError, CookieSessionStrategy, readCookie, retryAfterSeconds } from './strategy';

const USER = {
  email: 'admin@demo.member360.test',
  role: 'ADMIN',
  org: { slug: 'demo', name: 'Demo Loyalty', timeZone: 'Asia/Kolkata' },
};

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

function stubFetch(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const fetchMock = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => answer(String(url), init ?? {}));
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

function call(fetchMock: ReturnType<typeof stubFetch>, n = 0) {
  const [url, init] = fetchMock.mock.calls[n] as unknown as [string, RequestInit];
  return { url, init, headers: new Headers(init.headers) };
}

describe('reading cookies and Retry-After', () => {
  it('finds one cookie among several, decoded', () => {
    expect(readCookie('m360_csrf', 'theme=dark; m360_csrf=abc%2Fdef; other=1')).toBe('abc/def');
    expect(readCookie('m360_csrf', 'xm360_csrf=no; m360_csrfx=no')).toBeNull();
    expect(readCookie('m360_csrf', '')).toBeNull();
  });

  it('takes seconds or an HTTP date, and ignores nonsense', () => {
    expect(retryAfterSeconds('42')).toBe(42);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(retryAfterSeconds('soon')).toBeUndefined();
    expect(retryAfterSeconds(null)).toBeUndefined();
  });
});

describe('the cookie session strategy', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('sends same-origin credentials and the CSRF cookie as X-CSRF-Token, read fresh each time', () => {
    let cookies = 'm360_csrf=first';
    const auth = new CookieSessionStrategy(() => cookies);
    expect(auth.requestInit()).toEqual({ credentials: 'same-origin', headers: { 'X-CSRF-Token': 'first' } });
    cookies = 'm360_csrf=second';
    expect(auth.requestInit().headers).toEqual({ 'X-CSRF-Token': 'second' });
    cookies = '';
    expect(auth.requestInit()).toEqual({ credentials: 'same-origin', headers: {} });
  });

  it('restores the session from GET /auth/me, or finds nobody on 401', async () => {
    const fetchMock = stubFetch(() => json(200, { user: USER }));
    const auth = new CookieSessionStrategy(() => '');
    expect(await auth.restore()).toEqual(USER);
    expect(call(fetchMock).url).toBe('/auth/me');
    expect(call(fetchMock).init.credentials).toBe('same-origin');

    stubFetch(() => json(401, { error: { code: 'UNAUTHENTICATED', message: 'no session' } }));
    expect(await auth.restore()).toBeNull();
  });

  it('says when it cannot tell whether a session exists', async () => {
    stubFetch(() => Promise.reject(new TypeError('offline')));
    await expect(new CookieSessionStrategy(() => '').restore()).rejects.toMatchObject({ code: 'UNREACHABLE' });
    stubFetch(() => new Response('oops', { status: 502 }));
    await expect(new CookieSessionStrategy(() => '').restore()).rejects.toThrow('The server answered 502');
  });

  it('posts the email (trimmed) and password as JSON and returns the user', async () => {
    const fetchMock = stubFetch(() => json(200, { user: USER }));
    const user = await new CookieSessionStrategy(() => '').signIn({ email: ' admin@demo.member360.test ', password: ' pw ' });
    expect(user.role).toBe('ADMIN');
    const { url, init, headers } = call(fetchMock);
    expect(url).toBe('/auth/login');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
    expect(headers.get('Content-Type')).toBe('application/json');
    // The password is sent as typed: spaces can be part of it.
    expect(JSON.parse(String(init.body))).toEqual({ email: 'admin@demo.member360.test', password: ' pw ' });
  });

  it('turns 401, 429 and 400 into errors the form can show', async () => {
    const auth = new CookieSessionStrategy(() => '');
    stubFetch(() => json(401, { error: { code: 'INVALID_CREDENTIALS', message: 'wrong email or password' } }));
    await expect(auth.signIn({ email: 'a@b.test', password: 'x' })).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
      message: expect.stringContaining('do not match an account'),
    });

    stubFetch(() => json(429, { error: { code: 'TOO_MANY_ATTEMPTS', message: 'slow down' } }, { 'Retry-After': '27' }));
    const tooMany = await auth.signIn({ email: 'a@b.test', password: 'x' }).catch((e: AuthError) => e);
    expect(tooMany).toBeInstanceOf(AuthError);
    expect(tooMany).toMatchObject({ code: 'TOO_MANY_ATTEMPTS', retryAfter: 27, message: expect.stringContaining('27 s') });

    stubFetch(() => json(400, { error: { code: 'BAD_REQUEST', message: 'email: not a valid address', field: 'email' } }));
    await expect(auth.signIn({ email: 'nope', password: 'x' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      field: 'email',
      message: 'email: not a valid address',
    });
  });

  it('asks for both fields before calling anyone', async () => {
    const fetchMock = stubFetch(() => json(200, { user: USER }));
    const auth = new CookieSessionStrategy(() => '');
    await expect(auth.signIn({ email: ' ', password: 'x' })).rejects.toMatchObject({ field: 'email' });
    await expect(auth.signIn({ email: 'a@b.test', password: '' })).rejects.toMatchObject({ field: 'password' });
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('signs out with POST /auth/logout carrying the CSRF token, and never throws', async () => {
    const fetchMock = stubFetch(() => new Response(null, { status: 204 }));
    await new CookieSessionStrategy(() => 'm360_csrf=tok').signOut();
    const { url, init, headers } = call(fetchMock);
    expect([url, init.method, init.credentials]).toEqual(['/auth/logout', 'POST', 'same-origin']);
    expect(headers.get('X-CSRF-Token')).toBe('tok');
    stubFetch(() => Promise.reject(new TypeError('offline')));
    await expect(new CookieSessionStrategy(() => '').signOut()).resolves.toBeUndefined();
  });
});

describe('where login goes next', () => {
  it('follows only same-site paths', () => {
    expect(safeNext('/customers/X/points?after=a')).toBe('/customers/X/points?after=a');
    expect(safeNext('https://evil.test/')).toBe('/customers');
    expect(safeNext('//evil.test/')).toBe('/customers');
    expect(safeNext('/\\evil.test/')).toBe('/customers');
    expect(safeNext('/login?next=/x')).toBe('/customers');
    expect(safeNext('/signin?next=/x')).toBe('/customers');
    expect(safeNext(null)).toBe('/customers');
  });
});
