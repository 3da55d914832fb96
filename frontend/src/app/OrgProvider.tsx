import { createContext, useContext, type ReactNode } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { OrganizationQuery } from '../gql/graphql';
import { ErrorState, LoadingState } from '../components/States';

const ORGANIZATION = graphql(`
  query Organization {
    me {
      kind
      email
      scopes
    }
    organization {
      slug
      name
      timeZone
      features {
        hierarchy
        surveys
        extendedAttributes
      }
      actions {
        id
        name
      }
      stores {
        storeId
        name
      }
      sources
    }
  }
`);

export type Org = OrganizationQuery['organization'];
export type Viewer = OrganizationQuery['me'];

const OrgContext = createContext<{ org: Org; viewer: Viewer } | null>(null);

/** Loads the organization once per session: its time zone formats every date on every page. */
export function OrgProvider({ children }: { children: ReactNode }) {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: ORGANIZATION,
    requestPolicy: 'cache-first',
  });
  if (data) {
    return (
      <OrgContext.Provider value={{ org: data.organization, viewer: data.me }}>
        {children}
      </OrgContext.Provider>
    );
  }
  if (error && !fetching) {
    return <ErrorState error={error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />;
  }
  return <LoadingState label="Loading your organization…" />;
}

export function useOrg(): Org {
  const value = useContext(OrgContext);
  if (!value) throw new Error('useOrg outside OrgProvider');
  return value.org;
}

export function useViewer(): Viewer {
  const value = useContext(OrgContext);
  if (!value) throw new Error('useViewer outside OrgProvider');
  return value.viewer;
}

/** Formats with the organization's zone: `const tz = useTimeZone()`. */
export function useTimeZone(): string {
  return useOrg().timeZone;
}
