-- wrk script for bench/api: sends the bearer token in BENCH_TOKEN with
-- every request and, at the end, prints the run's figures as one line
-- of JSON after the marker BENCH_RESULT, so nothing parses wrk's text.

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- With BENCH_FRESH_QUERIES set, each request adds due_from=<a day drawn at
-- random from 2000 to 2023> to the query string, so the service has
-- rarely parsed that query string before; the page is the same, as every
-- task is due later. Each thread draws from a seed of its own.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + (thread_number or 0))
end

local fresh = os.getenv("BENCH_FRESH_QUERIES")
if fresh and fresh ~= "" then
  local first_day = 946684800 -- 2000-01-01T00:00:00Z
  request = function()
    local day = first_day + math.random(0, 8765) * 86400
    local path = wrk.path .. "&due_from=" .. os.date("!%Y-%m-%d", day)
    return wrk.format(nil, path)
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "\nBENCH_RESULT {\"requests\": %d, \"duration_us\": %d, " ..
    "\"p50_us\": %d, \"p99_us\": %d, \"connect_errors\": %d, " ..
    "\"read_errors\": %d, \"write_errors\": %d, \"timeouts\": %d, " ..
    "\"bad_status\": %d}\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    errors.connect, errors.read, errors.write, errors.timeout,
    errors.status))
end
