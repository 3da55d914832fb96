import { Anchor, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useUser } from './AuthProvider';
import type { Role } from './strategy';

/**
 * What each role may open in the SPA. The API enforces the same rules (an AGENT asking for the
 * report gets FORBIDDEN); this only keeps the app from offering what would be refused.
 * Member pages (search, a member's tabs, their downloads, resending a coupon) are for every role.
 */
export type Feature = 'reports' | 'exports' | 'auditLog';

const ROLE_FEATURES: Record<Role, readonly Feature[]> = {
  ADMIN: ['reports', 'exports', 'auditLog'],
  AGENT: ['exports'],
};

export const ROLE_LABELS: Record<Role, string> = { ADMIN: 'Admin', AGENT: 'Agent' };

export function roleLabel(role: string): string {
  return ROLE_LABELS[role as Role] ?? role;
}

/** Whether `role` may use `feature`; a role the SPA does not know gets member pages only. */
export function allows(role: string, feature: Feature): boolean {
  return (ROLE_FEATURES[role as Role] ?? []).includes(feature);
}

const FEATURE_NAMES: Record<Feature, string> = {
  reports: 'The All Interactions report and its Excel exports',
  exports: 'Exports',
  auditLog: 'The audit log',
};

/** The page a deep link shows when the signed-in role may not use what it points at. */
export function NotAvailableForRole({ feature }: { feature: Feature }) {
  const user = useUser();
  return (
    <Stack py="xl" gap="sm" role="alert" data-testid="not-for-role">
      <Title order={2}>Not available for your role</Title>
      <Text>
        {FEATURE_NAMES[feature]} {feature === 'reports' ? 'are' : 'is'} not available to the {roleLabel(user.role)}{' '}
        role. You are signed in as {user.email}. Ask an administrator if you need it.
      </Text>
      <Text>
        <Anchor component={Link} to="/customers">
          Find a member
        </Anchor>
      </Text>
    </Stack>
  );
}

/** Renders `children` only for a role that may use `feature`. */
export function RequireFeature({ feature, children }: { feature: Feature; children: ReactNode }) {
  const user = useUser();
  return allows(user.role, feature) ? <>{children}</> : <NotAvailableForRole feature={feature} />;
}
