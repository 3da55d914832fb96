-- What PostGraphile needs beyond the app's tables, kept out of the app's migrations: the
-- benchmark applies this file (idempotently) to the data set database before it starts
-- PostGraphile, and `DROP SCHEMA postgraphile_bench CASCADE` removes all of it.
--
-- PostGraphile exposes a function whose first argument is a table row and whose name starts with
-- the table's name as a field of that table (a "computed column"). These two give an activity
-- the values Member360's `activity` connection returns beside the stored columns.

CREATE SCHEMA IF NOT EXISTS postgraphile_bench;

-- Member360's actionName: the organization's name for the action, else the action id.
CREATE OR REPLACE FUNCTION postgraphile_bench.points_activities_action_name(
    activity public.points_activities
) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(
        (SELECT a.name FROM public.actions a
          WHERE a.org_id = activity.org_id AND a.action_id = activity.action_id),
        activity.action_id::text)
$$;

-- Member360's runningBalance: the member's balance after this entry, i.e. the sum of every
-- entry up to it in (occurred_at, id) order, as the API's window function counts it. The row
-- comparison is a range scan of ix_points_activities_customer_time (customer_id, occurred_at, id).
CREATE OR REPLACE FUNCTION postgraphile_bench.points_activities_running_balance(
    activity public.points_activities
) RETURNS integer LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sum(p.points)::integer FROM public.points_activities p
     WHERE p.org_id = activity.org_id AND p.customer_id = activity.customer_id
       AND (p.occurred_at, p.id) <= (activity.occurred_at, activity.id)
$$;

-- The member search filters on lower(name) (ILIKE '%term%'), as Member360 matches it, so that
-- PostgreSQL can use the app's trigram index ix_customers_name_trgm (lower(name) gin_trgm_ops);
-- the same filter on the plain column (name ILIKE …) scans the table instead. A bare
-- expression, so PostgreSQL inlines it into the query PostGraphile writes and matches the
-- index's expression.
CREATE OR REPLACE FUNCTION postgraphile_bench.customers_name_lower(
    member public.customers
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(member.name)
$$;
