// PostGraphile v5 over the Member360 benchmark database: the comparison target of
// `python -m bench.drive.compare`. Read-only (no mutations), one Node process.
//
//   cd bench/postgraphile && npm ci
//   psql postgresql://postgres@127.0.0.1:5432/m360_bench -f bench/postgraphile/schema.sql
//   NODE_ENV=production node bench/postgraphile/server.mjs      # http://127.0.0.1:8013/graphql
//
// Environment: M360_PG_URL (default postgresql://postgres@127.0.0.1:5432/m360_bench), PORT
// (8013), HOST (127.0.0.1), PG_POOL_SIZE (20). Connecting as the postgres superuser bypasses
// the tables' row-level security; the queries name the organization themselves.

// PostGraphile v5 targets Node 22, which has Promise.withResolvers; Node 20 does not. This runs
// before PostGraphile is loaded (the imports below are dynamic for that reason: static imports
// would be evaluated first).
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
// Production behaviour (no query plans or stack traces in responses) unless told otherwise;
// grafast reads NODE_ENV when it is loaded.
process.env.NODE_ENV ??= "production";

const http = await import("node:http");
const { postgraphile } = await import("postgraphile");
const { PostGraphileAmberPreset } = await import("postgraphile/presets/amber");
const { makePgService } = await import("postgraphile/adaptors/pg");
const { grafserv } = await import("postgraphile/grafserv/node");
const { PgSimplifyInflectionPreset } = await import("@graphile/simplify-inflection");
const { PostGraphileConnectionFilterPreset } = await import(
  "postgraphile-plugin-connection-filter"
);
const { jsonPgSmartTags } = await import("postgraphile/utils");

const connectionString =
  process.env.M360_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/m360_bench";
const port = Number(process.env.PORT ?? 8013);
const host = process.env.HOST ?? "127.0.0.1";
const poolSize = Number(process.env.PG_POOL_SIZE ?? 20);

// PostGraphile offers ordering and filtering only on indexed columns. The member list orders by
// name and skips merged members as Member360 does; neither column has a btree index (name has a
// trigram one on lower(name)), so these tags allow them, as an application would.
const MemberListTags = jsonPgSmartTags({
  version: 1,
  config: {
    class: {
      "public.customers": {
        attribute: {
          name: { tags: { behavior: "+orderBy +filterBy" } },
          merged_into_id: { tags: { behavior: "+filterBy" } },
        },
      },
    },
  },
});

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [
    PostGraphileAmberPreset,
    // customers.pointsActivities rather than pointsActivitiesByCustomerId, and so on.
    PgSimplifyInflectionPreset,
    // `filter:` on connections: the member search.
    PostGraphileConnectionFilterPreset,
  ],
  plugins: [MemberListTags],
  // Reads only (no create/update/delete mutations): the comparison is about reads.
  schema: { defaultBehavior: "-insert -update -delete" },
  pgServices: [
    makePgService({
      connectionString,
      poolConfig: { max: poolSize },
      // public: the app's tables; postgraphile_bench: the computed columns of schema.sql.
      schemas: ["public", "postgraphile_bench"],
    }),
  ],
  grafserv: { port, host, graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
// The bench waits for /livez before it sends load (as it does for the API and the floor).
// createHandler rather than addTo: a plain handler can sit behind that route; no websockets.
const graphql = serv.createHandler();
const server = http.createServer((req, res) => {
  if (req.url === "/livez") {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("ok");
    return;
  }
  graphql(req, res, () => {
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found");
  });
});

// Build the schema before answering /livez, so the first measured request does not pay for it.
await pgl.getSchema();
server.listen(port, host, () => {
  console.log(`PostGraphile v5 on http://${host}:${port}/graphql (${connectionString})`);
});

function stop() {
  server.close();
  pgl.release().finally(() => process.exit(0));
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
