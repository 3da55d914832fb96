import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { LOGIN_PATH, SessionPending, useAuth } from './AuthProvider';
import { AuthError } from './strategy';

/** Only same-site paths are followed after login (never an absolute URL from the query). */
export function safeNext(next: string | null): string {
  if (
    !next ||
    !next.startsWith('/') ||
    next.startsWith('//') ||
    next.startsWith('/\\') ||
    next.startsWith(LOGIN_PATH) ||
    next.startsWith('/signin')
  ) {
    return '/customers';
  }
  return next;
}

/** Seconds left before a locked-out login may be tried again, counting down once a second. */
function useCountdown(): [number, (seconds: number) => void] {
  const [left, setLeft] = useState(0);
  useEffect(() => {
    if (left <= 0) return;
    const timer = setTimeout(() => setLeft((s) => s - 1), 1000);
    return () => clearTimeout(timer);
  }, [left]);
  return [left, setLeft];
}

export function LoginPage() {
  const { signIn, status, signedOutReason } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [fieldError, setFieldError] = useState<{ email?: string; password?: string }>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [waitSeconds, setWaitSeconds] = useCountdown();
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);

  if (status === 'loading' || status === 'unreachable') return <SessionPending />;
  if (status === 'signedIn' && !busy) return <Navigate to={next} replace />;

  const submit = async () => {
    if (busy || waitSeconds > 0) return;
    setError(null);
    setFieldError({});
    setBusy(true);
    try {
      await signIn({ email, password });
      navigate(next, { replace: true });
    } catch (e) {
      if (!(e instanceof AuthError)) {
        setError('Sign-in failed. Try again.');
      } else if (e.field) {
        setFieldError({ [e.field]: e.message });
        (e.field === 'email' ? emailRef : passwordRef).current?.focus();
      } else if (e.code === 'TOO_MANY_ATTEMPTS') {
        setWaitSeconds(e.retryAfter ?? 0);
        setError(e.retryAfter ? null : e.message);
      } else {
        setError(e.message);
        if (e.code === 'INVALID_CREDENTIALS') {
          setPassword('');
          passwordRef.current?.focus();
        }
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center mih="100vh" p="md" bg="gray.0">
      <Paper withBorder shadow="sm" p="xl" radius="md" w={420} component="main">
        <form
          noValidate
          aria-labelledby="login-title"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <Stack>
            <div>
              <Title order={1} size="h2" id="login-title">
                Sign in to Member360
              </Title>
              <Text c="dimmed" size="sm">
                Use the email address and password your administrator gave you.
              </Text>
            </div>
            {signedOutReason === 'expired' && (
              <Alert color="yellow" role="status">
                Your session has ended. Sign in again to continue where you were.
              </Alert>
            )}
            {signedOutReason === 'signedOut' && (
              <Alert color="gray" role="status">
                You are signed out.
              </Alert>
            )}
            {waitSeconds > 0 && (
              <Alert color="orange" role="alert" data-testid="login-wait">
                Too many sign-in attempts. Try again in {waitSeconds} s.
              </Alert>
            )}
            {error && (
              <Alert color="red" role="alert" data-testid="login-error">
                {error}
              </Alert>
            )}
            <TextInput
              ref={emailRef}
              label="Email"
              type="email"
              name="email"
              autoComplete="username"
              autoFocus
              required
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
              error={fieldError.email}
            />
            <PasswordInput
              ref={passwordRef}
              label="Password"
              name="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              error={fieldError.password}
              // Mantine marks only the wrapper; screen readers need it on the input itself.
              aria-invalid={!!fieldError.password}
            />
            <Button type="submit" loading={busy} disabled={waitSeconds > 0}>
              Sign in
            </Button>
            <Text size="xs" c="dimmed">
              Accounts are created with <code>member360 user create</code>; <code>make run</code> prints the demo
              logins.
            </Text>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
