import { MantineProvider } from '@mantine/core';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, useLocation } from 'react-router';
import { AuthProvider } from '../auth/AuthProvider';
import { CookieSessionStrategy, type SessionUser } from '../auth/strategy';
import { ADMIN, AGENT, ORGANIZATION } from '../test/render';
import { App } from './App';

/**
 * The whole app against a fake server at the fetch boundary: /auth/* behave like the backend's
 * contract (login sets the CSRF cookie, logout clears it), /graphql answers by operation name.
 */
interface Sent {
  url: string;
  method: string;
  credentials?: RequestCredentials;
  csrf: string | null;
  operationName?: string;
  body?: unknown;
}

interface ServerOptions {
  /** Who GET /auth/me finds at page load (null: nobody; 'down': the server is unreachable). */
  session?: SessionUser | null | 'down';
  /** Answers POST /auth/login; default: accepts any password for `loginAs`. */
  login?: (body: { email: string; password: string }) => Response | Promise<Response>;
  loginAs?: SessionUser;
  /** Answers a GraphQL operation; return a Response to answer with an HTTP status instead. */
  graphql?: (operationName: string) => unknown;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

const SEARCH_RESULT = {
  customers: {
    edges: [
      {
        cursor: 'c0',
        node: {
          id: 'Q3VzdG9tZXI6MQ==',
          customerId: 'CUST-1',
          name: 'Zara Fernandes',
          email: 'zara@example.com',
          mobile: '9990001111',
          externalId: null,
          tier: 'Gold',
          optedIn: true,
          pointsBalance: 1234,
        },
      },
    ],
    pageInfo: { hasNextPage: false, endCursor: null },
  },
};

function fakeServer(options: ServerOptions = {}) {
  const server = {
    cookies: '',
    session: options.session ?? null,
    sent: [] as Sent[],
  };
  let csrfCounter = 0;
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const method = init.method ?? 'GET';
    const body = init.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : undefined;
    server.sent.push({
      url,
      method,
      credentials: init.credentials,
      csrf: new Headers(init.headers).get('X-CSRF-Token'),
      operationName: body?.operationName as string | undefined,
      body,
    });
    if (url === '/auth/me') {
      if (server.session === 'down') throw new TypeError('Failed to fetch');
      return server.session ? json(200, { user: server.session }) : json(401, { error: { code: 'UNAUTHENTICATED' } });
    }
    if (url === '/auth/login') {
      const answer = options.login
        ? await options.login(body as { email: string; password: string })
        : json(200, { user: options.loginAs ?? ADMIN });
      if (answer.ok) {
        csrfCounter += 1;
        server.cookies = `m360_csrf=csrf-${csrfCounter}`;
      }
      return answer;
    }
    if (url === '/auth/logout') {
      server.cookies = '';
      return new Response(null, { status: 204 });
    }
    if (url === '/graphql') {
      const op = body?.operationName as string;
      const data = op === 'Organization' ? ORGANIZATION : options.graphql?.(op);
      if (data instanceof Response) return data;
      return json(200, { data: data ?? null });
    }
    return new Response('not found', { status: 404 });
  });
  vi.stubGlobal('fetch', fetchMock);
  return server;
}

let location = '';
function LocationProbe() {
  const current = useLocation();
  location = current.pathname + current.search;
  return null;
}

function renderApp(route: string, server: ReturnType<typeof fakeServer>, cookies = '') {
  server.cookies = cookies;
  const strategy = new CookieSessionStrategy(() => server.cookies);
  return render(
    <MantineProvider>
      <AuthProvider strategy={strategy}>
        <MemoryRouter initialEntries={[route]}>
          <App />
          <LocationProbe />
        </MemoryRouter>
      </AuthProvider>
    </MantineProvider>,
  );
}

async function fillLogin(email: string, password: string) {
  fireEvent.change(await screen.findByLabelText(/^Email/), { target: { value: email } });
  fireEvent.change(screen.getByLabelText(/^Password/), { target: { value: password } });
}

function mainNav() {
  return screen.getByRole('navigation', { name: 'Main' });
}

describe('logging in', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('checks the session first, then sends a visitor to login and back to the deep link', async () => {
    let answerMe: (r: Response) => void = () => {};
    const server = fakeServer({ graphql: (op) => (op === 'CustomerSearch' ? SEARCH_RESULT : null) });
    // Hold GET /auth/me until the loading state has been seen.
    const baseFetch = globalThis.fetch;
    vi.stubGlobal(
      'fetch',
      vi.fn((input: RequestInfo | URL, init?: RequestInit) =>
        String(input) === '/auth/me'
          ? new Promise<Response>((resolve) => {
              answerMe = resolve;
            })
          : baseFetch(input, init),
      ),
    );
    renderApp('/customers?q=zara', server);
    expect(screen.getByRole('status')).toHaveTextContent('Checking your session…');
    await act(async () => answerMe(json(401, { error: { code: 'UNAUTHENTICATED' } })));

    await waitFor(() => expect(location).toBe('/login?next=%2Fcustomers%3Fq%3Dzara'));
    const form = screen.getByRole('form', { name: 'Sign in to Member360' });
    expect(within(form).getByLabelText(/^Email/)).toHaveAttribute('autocomplete', 'username');
    expect(within(form).getByLabelText(/^Password/)).toHaveAttribute('autocomplete', 'current-password');

    await fillLogin('admin@demo.member360.test', 'secret');
    // Enter in the password field submits (the form's submit event, as a browser sends it).
    fireEvent.submit(screen.getByLabelText(/^Password/));
    expect(await screen.findByRole('link', { name: 'Zara Fernandes' })).toBeInTheDocument();
    expect(location).toBe('/customers?q=zara');
    const login = server.sent.find((s) => s.url === '/auth/login');
    expect(login?.body).toEqual({ email: 'admin@demo.member360.test', password: 'secret' });
    expect(screen.getByTestId('signed-in-user')).toHaveTextContent('admin@acme.test');
    expect(screen.getByTestId('signed-in-user')).toHaveTextContent('Admin');
  });

  it('shows the button busy while the server answers, then a wrong-password error', async () => {
    let answer: (r: Response) => void = () => {};
    const server = fakeServer({
      login: () =>
        new Promise<Response>((resolve) => {
          answer = resolve;
        }),
    });
    renderApp('/login', server);
    await fillLogin('admin@demo.member360.test', 'wrong');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Sign in' })).toHaveAttribute('data-loading', 'true'));
    await act(async () =>
      answer(json(401, { error: { code: 'INVALID_CREDENTIALS', message: 'wrong email or password' } })),
    );
    expect(await screen.findByTestId('login-error')).toHaveTextContent('do not match an account');
    expect(screen.getByLabelText(/^Password/)).toHaveValue('');
    expect(screen.getByLabelText(/^Password/)).toHaveFocus();
    expect(screen.getByLabelText(/^Email/)).toHaveValue('admin@demo.member360.test');
    expect(location).toBe('/login');
  });

  it('names an empty field without asking the server', async () => {
    const server = fakeServer();
    renderApp('/login', server);
    await fillLogin('admin@demo.member360.test', '');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const password = screen.getByLabelText(/^Password/);
    await waitFor(() => expect(password).toHaveAttribute('aria-invalid', 'true'));
    expect(password).toHaveAccessibleDescription('Enter your password.');
    expect(password).toHaveFocus();
    expect(server.sent.some((s) => s.url === '/auth/login')).toBe(false);
  });

  it('after too many attempts, counts down Retry-After before allowing another try', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let attempts = 0;
    const server = fakeServer({
      login: () => {
        attempts += 1;
        return attempts === 1
          ? json(429, { error: { code: 'TOO_MANY_ATTEMPTS', message: 'slow down' } }, { 'Retry-After': '3' })
          : json(200, { user: ADMIN });
      },
    });
    renderApp('/login', server);
    await fillLogin('admin@demo.member360.test', 'secret');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByTestId('login-wait')).toHaveTextContent('Try again in 3 s');
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeDisabled();
    await act(async () => vi.advanceTimersByTime(1000));
    expect(screen.getByTestId('login-wait')).toHaveTextContent('Try again in 2 s');
    // Submitting with Enter during the wait does nothing either.
    fireEvent.submit(screen.getByLabelText(/^Password/));
    expect(attempts).toBe(1);
    await act(async () => vi.advanceTimersByTime(1000));
    await act(async () => vi.advanceTimersByTime(1000));
    expect(screen.queryByTestId('login-wait')).toBeNull();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeEnabled();
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(location).toBe('/customers'));
    expect(attempts).toBe(2);
  });

  it('offers to ask again when the server cannot be reached at load', async () => {
    const server = fakeServer({ session: 'down' });
    renderApp('/customers', server);
    expect(await screen.findByText('Member360 is not answering')).toBeInTheDocument();
    server.session = ADMIN;
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('signed-in-user')).toHaveTextContent('admin@acme.test');
  });

  it('skips the form when the session is still open', async () => {
    const server = fakeServer({ session: ADMIN });
    renderApp('/login?next=%2Fexport-jobs', server, 'm360_csrf=kept');
    await waitFor(() => expect(location).toBe('/export-jobs'));
  });
});

describe('requests carry the session', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('sends the CSRF cookie as X-CSRF-Token with same-origin credentials on every GraphQL call', async () => {
    const server = fakeServer({ session: ADMIN, graphql: (op) => (op === 'CustomerSearch' ? SEARCH_RESULT : null) });
    renderApp('/customers?q=zara', server, 'theme=dark; m360_csrf=tok-123');
    await screen.findByRole('link', { name: 'Zara Fernandes' });
    const graphql = server.sent.filter((s) => s.url === '/graphql');
    expect(graphql.map((s) => s.operationName)).toEqual(expect.arrayContaining(['Organization', 'CustomerSearch']));
    for (const sent of graphql) {
      expect(sent.csrf).toBe('tok-123');
      expect(sent.credentials).toBe('same-origin');
    }
  });

  it('on a 401 goes to login keeping the URL, and signing in again returns there with the new token', async () => {
    let expired = true;
    const server = fakeServer({
      session: ADMIN,
      graphql: (op) =>
        op === 'CustomerSearch'
          ? expired
            ? json(401, { error: { code: 'UNAUTHENTICATED', message: 'session expired' } })
            : SEARCH_RESULT
          : null,
    });
    renderApp('/customers?q=zara', server, 'm360_csrf=old');
    await waitFor(() => expect(location).toBe('/login?next=%2Fcustomers%3Fq%3Dzara'));
    expect(screen.getByRole('status')).toHaveTextContent('Your session has ended');

    expired = false;
    await fillLogin('admin@demo.member360.test', 'secret');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('link', { name: 'Zara Fernandes' })).toBeInTheDocument();
    expect(location).toBe('/customers?q=zara');
    const last = server.sent.filter((s) => s.operationName === 'CustomerSearch').at(-1);
    expect(last?.csrf).toBe('csrf-1');
  });

  it('treats a 403 CSRF_FAILED like an ended session', async () => {
    const server = fakeServer({
      session: ADMIN,
      graphql: (op) =>
        op === 'CustomerSearch' ? json(403, { error: { code: 'CSRF_FAILED', message: 'missing X-CSRF-Token' } }) : null,
    });
    renderApp('/customers?q=zara', server);
    await waitFor(() => expect(location).toBe('/login?next=%2Fcustomers%3Fq%3Dzara'));
  });

  it('Sign out posts /auth/logout with the token and lands on a plain login page', async () => {
    const server = fakeServer({ session: ADMIN });
    renderApp('/customers', server, 'm360_csrf=tok-9');
    fireEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(location).toBe('/login'));
    expect(screen.getByRole('status')).toHaveTextContent('You are signed out');
    const logout = server.sent.find((s) => s.url === '/auth/logout');
    expect(logout).toMatchObject({ method: 'POST', csrf: 'tok-9', credentials: 'same-origin' });
  });
});

describe('what each role sees', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('an ADMIN has Members, Reports and Exports', async () => {
    renderApp('/customers', fakeServer({ session: ADMIN }));
    await screen.findByTestId('signed-in-user');
    const links = within(mainNav()).getAllByRole('link').map((a) => a.textContent);
    expect(links).toEqual(['Members', 'Reports › All Interactions', 'Exports']);
  });

  it('an AGENT has no Reports entry, and the header says Agent', async () => {
    renderApp('/customers', fakeServer({ session: AGENT }));
    const who = await screen.findByTestId('signed-in-user');
    expect(who).toHaveTextContent('agent@acme.test');
    expect(who).toHaveTextContent('Agent');
    const links = within(mainNav()).getAllByRole('link').map((a) => a.textContent);
    expect(links).toEqual(['Members', 'Exports']);
  });

  it("an AGENT's deep link to the report says it is not for their role, without asking for it", async () => {
    const server = fakeServer({ session: AGENT });
    renderApp('/reports/interactions?from=2024-03-01&to=2024-03-31', server);
    const refusal = await screen.findByTestId('not-for-role');
    expect(refusal).toHaveTextContent('Not available for your role');
    expect(refusal).toHaveTextContent('Agent');
    expect(within(refusal).getByRole('link', { name: 'Find a member' })).toHaveAttribute('href', '/customers');
    expect(server.sent.some((s) => s.operationName?.startsWith('InteractionReport'))).toBe(false);
    expect(location).toBe('/reports/interactions?from=2024-03-01&to=2024-03-31');
  });

  it('a role the app does not know gets member pages only', async () => {
    renderApp('/reports/interactions', fakeServer({ session: { ...AGENT, role: 'AUDITOR' } }));
    expect(await screen.findByTestId('not-for-role')).toBeInTheDocument();
    expect(within(mainNav()).getAllByRole('link').map((a) => a.textContent)).toEqual(['Members']);
  });
});
