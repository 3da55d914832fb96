-- wrk script: POSTs a GraphQL document for a random member or search term per request.
--
--   wrk -t2 -c8 -d20s -s bench/wrk/post.lua http://127.0.0.1:8011/graphql -- \
--       DOCUMENT_FILE VARIABLE PICK [BEARER_KEY]
--
-- DOCUMENT_FILE  the GraphQL document (sent as {"query": …, "variables": {VARIABLE: value}};
--                the floor reads only the variables)
-- PICK           "range:FIRST:LAST:FORMAT" picks string.format(FORMAT, n) for a random n in
--                FIRST..LAST (e.g. range:1:100000:CUST-%07d), or "list:a,b,c" picks an item
-- Responses other than 200, and 200s carrying "errors", are counted; done() prints one line
-- "WRK_JSON {…}" with throughput, latency percentiles (ms) and those counts.

local threads = {}

function setup(thread)
  thread:set("thread_no", #threads + 1)
  table.insert(threads, thread)
end

local function json_string(s)
  s = s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n")
  return '"' .. s .. '"'
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  local document = f:read("*a")
  f:close()
  prefix = '{"query":' .. json_string(document) .. ',"variables":{"' .. args[2] .. '":"'
  local pick = args[3]
  if pick:sub(1, 6) == "range:" then
    local first, last, format = pick:match("^range:(%d+):(%d+):(.+)$")
    lo, hi, fmt = tonumber(first), tonumber(last), format
  else
    items = {}
    for item in pick:sub(6):gmatch("[^,]+") do
      table.insert(items, item)
    end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[4] and args[4] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[4]
  end
  math.randomseed(os.time() * 1000 + thread_no * 7919)
  non_200 = 0
  graphql_errors = 0
end

function request()
  local value
  if items then
    value = items[math.random(#items)]
  else
    value = string.format(fmt, math.random(lo, hi))
  end
  return wrk.format(nil, nil, nil, prefix .. value .. '"}}')
end

function response(status, headers, body)
  if status ~= 200 then
    non_200 = non_200 + 1
  elseif body:find('"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
  end
end

function done(summary, latency, requests)
  local bad, errors = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non_200")
    errors = errors + thread:get("graphql_errors")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_s": %.3f, "rps": %.2f, "bytes": %d, ' ..
    '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "mean_ms": %.2f, ' ..
    '"non_200": %d, "graphql_errors": %d, "socket_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.bytes, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    bad, errors, e.connect + e.read + e.write, e.timeout))
end
