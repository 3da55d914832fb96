import { Alert, Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import type { CombinedError } from 'urql';

export function errorMessage(error: CombinedError | Error | string): string {
  if (typeof error === 'string') return error;
  const combined = error as CombinedError;
  if (combined.graphQLErrors?.length) {
    const first = combined.graphQLErrors[0];
    if (first.extensions?.code === 'FORBIDDEN') {
      return `Your role does not allow this (${first.message}).`;
    }
    return combined.graphQLErrors.map((e) => e.message).join('; ');
  }
  if (combined.networkError) {
    return 'The server could not be reached. Check your connection and try again.';
  }
  return error.message;
}

export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed">{label}</Text>
      </Group>
    </Center>
  );
}

export function ErrorState({
  error,
  onRetry,
}: {
  error: CombinedError | Error | string;
  onRetry?: () => void;
}) {
  return (
    <Alert color="red" title="Something went wrong" role="alert" my="md">
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{errorMessage(error)}</Text>
        {onRetry && (
          <Button size="xs" variant="light" color="red" onClick={onRetry}>
            Try again
          </Button>
        )}
      </Stack>
    </Alert>
  );
}

export function EmptyState({ children }: { children: React.ReactNode }) {
  return (
    <Center py="xl">
      <Text c="dimmed" data-testid="empty-state">
        {children}
      </Text>
    </Center>
  );
}
