import { AppShell, Burger, Button, Group, NavLink, Text, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Suspense } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { LoadingState } from '../components/States';
import { useAuth } from '../auth/AuthProvider';
import { zoneLabel } from '../lib/dates';
import { useOrg, useViewer } from './OrgProvider';

const NAV = [
  { to: '/customers', label: 'Members', match: '/customers' },
  { to: '/reports/interactions', label: 'Reports › All Interactions', match: '/reports' },
  { to: '/export-jobs', label: 'Exports', match: '/export-jobs' },
];

export function Layout() {
  const org = useOrg();
  const viewer = useViewer();
  const { signOut } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const [opened, { toggle, close }] = useDisclosure();

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
            <Text size="xs" c="dimmed" visibleFrom="lg">
              {viewer.email ?? (viewer.kind === 'API_KEY' ? 'API key' : viewer.kind)}
            </Text>
            <Button
              size="xs"
              variant="default"
              onClick={() => {
                void signOut().then(() => navigate('/signin', { replace: true }));
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {NAV.map((item) => (
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
