import { Anchor, Stack, Text, Title } from '@mantine/core';
import { lazy } from 'react';
import { Link, Navigate, Route, Routes, useLocation } from 'react-router';
import { LOGIN_PATH, RequireAuth } from '../auth/AuthProvider';
import { RequireFeature } from '../auth/access';
import { LoginPage } from '../auth/LoginPage';
import { GraphQLProvider } from '../lib/client';
import { SearchPage } from '../features/customers/SearchPage';
import { Layout } from './Layout';
import { OrgProvider } from './OrgProvider';

// Pages past the landing search load on first visit (the report brings the date picker).
const MemberPage = lazy(() => import('../features/customers/MemberPage').then((m) => ({ default: m.MemberPage })));
const InteractionReportPage = lazy(() =>
  import('../features/reports/InteractionReportPage').then((m) => ({ default: m.InteractionReportPage })),
);
const ExportsPage = lazy(() => import('../features/exports/ExportsPage').then((m) => ({ default: m.ExportsPage })));

function NotFound() {
  return (
    <Stack py="xl">
      <Title order={2}>Page not found</Title>
      <Text>
        Nothing lives at this address.{' '}
        <Anchor component={Link} to="/customers">
          Find a member
        </Anchor>
      </Text>
    </Stack>
  );
}

/** The old sign-in address (API-key era) keeps working for bookmarks: same `next`, new page. */
function OldSignIn() {
  const { search } = useLocation();
  return <Navigate to={LOGIN_PATH + search} replace />;
}

/**
 * Routes (all state in the URL):
 *   /login?next=…                                    email + password; `next` is where to go after
 *   /customers?q=…                                   member search
 *   /customers/:customerId/:tab/:sub?after=…&breakup=…&event=…
 *   /reports/interactions?from=…&to=…&actionId=…&name=…&after=…
 *   /export-jobs                                     export jobs (/exports/* is the download route)
 */
export function App() {
  return (
    <GraphQLProvider>
      <Routes>
        <Route path={LOGIN_PATH} element={<LoginPage />} />
        <Route path="/signin" element={<OldSignIn />} />
        <Route
          element={
            <RequireAuth>
              <OrgProvider>
                <Layout />
              </OrgProvider>
            </RequireAuth>
          }
        >
          <Route index element={<Navigate to="/customers" replace />} />
          <Route path="customers" element={<SearchPage />} />
          <Route path="customers/:customerId/:tab?/:sub?" element={<MemberPage />} />
          <Route path="reports" element={<Navigate to="/reports/interactions" replace />} />
          <Route
            path="reports/interactions"
            element={
              <RequireFeature feature="reports">
                <InteractionReportPage />
              </RequireFeature>
            }
          />
          <Route
            path="export-jobs"
            element={
              <RequireFeature feature="exports">
                <ExportsPage />
              </RequireFeature>
            }
          />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </GraphQLProvider>
  );
}
