import { AppShell, Badge, Burger, Button, Group, NavLink, Text, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Suspense, useState } from 'react';
import { Link, Outlet, useLocation } from 'react-router';
import { LoadingState } from '../components/States';
import { useAuth, useUser } from '../auth/AuthProvider';
import { allows, roleLabel, type Feature } from '../auth/access';
import { zoneLabel } from '../lib/dates';
import { useOrg } from './OrgProvider';

/** The main navigation; an entry with a `feature` shows only to roles allowed to use it. */
export const NAV: { to: string; label: string; match: string; feature?: Feature }[] = [
  { to: '/customers', label: 'Members', match: '/customers' },
  { to: '/reports/interactions', label: 'Reports › All Interactions', match: '/reports', feature: 'reports' },
  { to: '/export-jobs', label: 'Exports', match: '/export-jobs', feature: 'exports' },
];

export function Layout() {
  const org = useOrg();
  const user = useUser();
  const { signOut } = useAuth();
  const location = useLocation();
  const [opened, { toggle, close }] = useDisclosure();
  const [signingOut, setSigningOut] = useState(false);
  const nav = NAV.filter((item) => !item.feature || allows(user.role, item.feature));

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: 'md', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="md" size="sm" aria-label="Menu" />
            <Text component={Link} to="/customers" fw={800} size="lg" c="blue.7" style={{ textDecoration: 'none' }}>
              Member360
            </Text>
            <Text size="sm" c="dimmed" visibleFrom="sm">
              {org.name}
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Tooltip label="Dates are shown in the organization's time zone">
              <Text size="xs" c="dimmed" visibleFrom="sm" data-testid="org-zone">
                {zoneLabel(org.timeZone)}
              </Text>
            </Tooltip>
            <Group gap={6} wrap="nowrap" data-testid="signed-in-user">
              <Text size="xs" c="dimmed" visibleFrom="sm">
                {user.email}
              </Text>
              <Badge size="sm" variant="light" color={user.role === 'ADMIN' ? 'grape' : 'teal'}>
                {roleLabel(user.role)}
              </Badge>
            </Group>
            <Button
              size="xs"
              variant="default"
              loading={signingOut}
              onClick={() => {
                // RequireAuth then shows the login page.
                setSigningOut(true);
                void signOut();
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {nav.map((item) => (
          <NavLink
            key={item.to}
            component={Link}
            to={item.to}
            label={item.label}
            active={location.pathname.startsWith(item.match)}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <Suspense fallback={<LoadingState />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
