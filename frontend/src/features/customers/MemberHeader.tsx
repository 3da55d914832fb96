import { Badge, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useTimeZone } from '../../app/OrgProvider';
import type { MemberQuery } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';

type Member = NonNullable<MemberQuery['customer']>;

function Field({ label, value }: { label: string; value: string | null | undefined }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" c={value ? undefined : 'dimmed'} style={{ overflowWrap: 'anywhere' }}>
        {value || '—'}
      </Text>
    </div>
  );
}

/** Who the member is at a glance: name, identifiers, tier, opt-in and the points balance. */
export function MemberHeader({ member }: { member: Member }) {
  const tz = useTimeZone();
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-label="Member summary">
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="lg">
        <Stack gap={6}>
          <Group gap="sm">
            <Title order={2} data-testid="member-name">
              {member.name}
            </Title>
            {member.tier && (
              <Badge size="lg" variant="light" color="grape" aria-label={`Tier ${member.tier}`}>
                {member.tier}
              </Badge>
            )}
            <Badge
              size="lg"
              variant="outline"
              color={member.optedIn ? 'green' : 'gray'}
              data-testid="opt-in"
            >
              {member.optedIn ? 'Opted in' : 'Not opted in'}
            </Badge>
          </Group>
          <Text size="sm" c="dimmed">
            Customer ID {member.customerId} · member since {formatDateTime(member.enrolledAt, tz)}
          </Text>
        </Stack>
        <Stack gap={0} align="flex-end">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            Points balance
          </Text>
          <Text size="2rem" fw={700} lh={1.1} data-testid="points-balance">
            {member.pointsBalance.toLocaleString('en-US')}
          </Text>
        </Stack>
      </Group>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }} mt="md" spacing="md">
        <Field label="Mobile" value={member.mobile} />
        <Field label="Email" value={member.email} />
        <Field label="External ID" value={member.externalId} />
        <Field label="User role" value={member.userRole} />
        <Field label="Group" value={member.groupId} />
        <Field label="Tier" value={member.tier} />
      </SimpleGrid>
    </Paper>
  );
}
