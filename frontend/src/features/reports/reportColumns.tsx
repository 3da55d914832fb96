import { Anchor, Badge } from '@mantine/core';
import { Link } from 'react-router';
import type { Column } from '../../components/DataTable';
import { SignedPoints, formatInt, orDash } from '../../components/format';
import type { InteractionReportRowFieldsFragment } from '../../gql/graphql';
import { formatDate } from '../../lib/dates';
import { memberPath } from '../customers/memberPath';

type Row = InteractionReportRowFieldsFragment;

interface Features {
  hierarchy: boolean;
  surveys: boolean;
  extendedAttributes: readonly string[];
}

interface ReportColumn extends Column<Row> {
  /** Shown only when the organization has this feature (as in the Excel export). */
  needs?: 'hierarchy' | 'surveys';
  /** Shown only when the organization configured this extended attribute. */
  attribute?: string;
}

const text = (key: keyof Row, header: string, extra: Partial<ReportColumn> = {}): ReportColumn => ({
  key,
  header,
  render: (r) => orDash(r[key] as string | null),
  ...extra,
});

const memberLink = (id: string | null | undefined) =>
  id ? (
    <Anchor component={Link} to={memberPath(id)} size="sm">
      {id}
    </Anchor>
  ) : (
    orDash(null)
  );

/** The on-screen columns, in the order of the report's Excel export. */
export const REPORT_COLUMNS: ReportColumn[] = [
  { key: 'date', header: 'Date', nowrap: true, render: (r) => formatDate(r.date) },
  text('name', 'Name', { nowrap: true }),
  { key: 'userId', header: 'User ID', nowrap: true, render: (r) => memberLink(r.userId) },
  text('email', 'Email'),
  { key: 'actionId', header: 'Actions ID', align: 'right', render: (r) => r.actionId },
  text('actionName', 'Actions', { nowrap: true }),
  text('orderId', 'Order ID', { nowrap: true }),
  text('customId', 'Custom ID'),
  text('coupon', 'Coupon'),
  { key: 'points', header: 'Points', align: 'right', render: (r) => <SignedPoints value={r.points} /> },
  {
    key: 'groupPoints',
    header: 'Group Points',
    align: 'right',
    needs: 'hierarchy',
    render: (r) => orDash(formatInt(r.groupPoints)),
  },
  {
    key: 'pointsExpirationDate',
    header: 'Points Expiration Date',
    nowrap: true,
    render: (r) => orDash(formatDate(r.pointsExpirationDate)),
  },
  text('reason', 'Reason'),
  text('source', 'Source'),
  {
    key: 'optInStatus',
    header: 'Opt-In Status',
    render: (r) => (
      <Badge variant="outline" size="sm" color={r.optInStatus ? 'green' : 'gray'}>
        {r.optInStatus ? 'Yes' : 'No'}
      </Badge>
    ),
  },
  text('sectionId', 'Section ID', { needs: 'surveys' }),
  text('sectionName', 'Section Name', { needs: 'surveys' }),
  text('surveyId', 'Survey ID', { needs: 'surveys' }),
  text('surveyName', 'Survey Name', { needs: 'surveys' }),
  { key: 'senderId', header: 'Sender ID', attribute: 'SENDER_ID', render: (r) => memberLink(r.senderId) },
  { key: 'receiverId', header: 'Receiver ID', attribute: 'RECEIVER_ID', render: (r) => memberLink(r.receiverId) },
  text('phoneNumber', 'Phone Number', { attribute: 'PHONE_NUMBER', nowrap: true }),
  text('userRole', 'User Role', { attribute: 'USER_ROLE' }),
  text('storeId', 'Store ID', { attribute: 'STORE_ID', nowrap: true }),
  text('storeName', 'Store Name', { attribute: 'STORE_NAME' }),
  text('storeRegion', 'Store Region', { attribute: 'STORE_REGION' }),
  text('storeType', 'Store Type', { attribute: 'STORE_TYPE' }),
];

export function reportColumns(features: Features): ReportColumn[] {
  return REPORT_COLUMNS.filter(
    (c) =>
      (!c.needs || features[c.needs]) &&
      (!c.attribute || features.extendedAttributes.includes(c.attribute)),
  );
}
