import { Anchor, Stack, Text, Title } from '@mantine/core';
import { lazy } from 'react';
import { Link, Navigate, Route, Routes } from 'react-router';
import { RequireAuth } from '../auth/AuthProvider';
import { SignInPage } from '../auth/SignInPage';
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

/**
 * Routes (all state in the URL):
 *   /signin?next=…                                   the API key form
 *   /customers?q=…                                   member search
 *   /customers/:customerId/:tab/:sub?after=…&breakup=…&event=…
 *   /reports/interactions?from=…&to=…&actionId=…&name=…&after=…
 *   /export-jobs                                     export jobs (/exports/* is the download route)
 */
export function App() {
  return (
    <GraphQLProvider>
      <Routes>
        <Route path="/signin" element={<SignInPage />} />
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
          <Route path="reports/interactions" element={<InteractionReportPage />} />
          <Route path="export-jobs" element={<ExportsPage />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </GraphQLProvider>
  );
}
