import { Text } from '@mantine/core';
import { DataTable, type Column } from '../../components/DataTable';
import { StatusBadge, orDash } from '../../components/format';
import { compactFields } from '../../components/JsonFields';
import { graphql } from '../../gql';
import type { CustomerLeadsQuery } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';
import { usePagedConnection } from '../../lib/usePagedConnection';

const LEADS = graphql(`
  query CustomerLeads($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      leads(first: $first, after: $after) {
        edges {
          cursor
          node {
            leadId
            leadType
            leadFor
            status
            subStatus
            createdAt
            updatedAt
            lastFollowUpAt
            nextFollowUpAt
            extendedFields
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

type Edge = NonNullable<CustomerLeadsQuery['customer']>['leads']['edges'][number];

export function LeadsTab({ customerId }: { customerId: string }) {
  const { timeZone: tz, table } = usePagedConnection(LEADS, { customerId }, (d) => d.customer?.leads);
  const columns: Column<Edge>[] = [
    { key: 'leadId', header: 'Lead ID', render: (e) => e.node.leadId },
    { key: 'leadType', header: 'Type', render: (e) => orDash(e.node.leadType) },
    { key: 'leadFor', header: 'For', render: (e) => orDash(e.node.leadFor) },
    { key: 'status', header: 'Status', render: (e) => <StatusBadge status={e.node.status} /> },
    { key: 'subStatus', header: 'Sub-status', render: (e) => orDash(e.node.subStatus) },
    { key: 'createdAt', header: 'Created', nowrap: true, render: (e) => formatDateTime(e.node.createdAt, tz) },
    { key: 'updatedAt', header: 'Updated', nowrap: true, render: (e) => formatDateTime(e.node.updatedAt, tz) },
    { key: 'last', header: 'Last follow-up', nowrap: true, render: (e) => orDash(formatDateTime(e.node.lastFollowUpAt, tz)) },
    { key: 'next', header: 'Next follow-up', nowrap: true, render: (e) => orDash(formatDateTime(e.node.nextFollowUpAt, tz)) },
    {
      key: 'extended',
      header: 'Extended fields',
      render: (e) => (
        <Text size="xs" maw={280}>
          {compactFields(e.node.extendedFields) || '—'}
        </Text>
      ),
    },
  ];
  return <DataTable label="Leads" columns={columns} empty="No leads." {...table} />;
}
