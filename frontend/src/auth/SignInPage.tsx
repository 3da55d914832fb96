import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { useAuth } from './AuthProvider';
import { AuthError } from './strategy';

/** Only same-site paths are followed after sign-in (never an absolute URL from the query). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/signin')) {
    return '/customers';
  }
  return next;
}

export function SignInPage() {
  const { signIn, signedIn, signedOutReason } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get('next'));
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (signedIn && !busy) return <Navigate to={next} replace />;

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await signIn({ apiKey });
      navigate(next, { replace: true });
    } catch (e) {
      setError(e instanceof AuthError ? e.message : 'Sign-in failed. Try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center mih="100vh" p="md" bg="gray.0">
      <Paper withBorder shadow="sm" p="xl" radius="md" w={440} component="main">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <Stack>
            <div>
              <Title order={1} size="h2">
                Member360
              </Title>
              <Text c="dimmed" size="sm">
                Sign in with your organization's API key. It is kept for this browser tab only.
              </Text>
            </div>
            {signedOutReason === 'expired' && (
              <Alert color="yellow" role="status">
                Your key was not accepted any more. Sign in again.
              </Alert>
            )}
            <PasswordInput
              label="API key"
              placeholder="m360_…"
              autoFocus
              required
              autoComplete="off"
              value={apiKey}
              onChange={(e) => setApiKey(e.currentTarget.value)}
              error={error}
            />
            <Button type="submit" loading={busy}>
              Sign in
            </Button>
            <Text size="xs" c="dimmed">
              An operator creates keys with <code>member360 api-key create</code>; <code>make run</code> prints one
              for the demo organization.
            </Text>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
