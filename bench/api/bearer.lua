-- wrk script for bench/api: sends the bearer token in BENCH_TOKEN with
-- every request and, at the end, prints the run's figures as one line
-- of JSON after the marker BENCH_RESULT, so nothing parses wrk's text.

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- With BENCH_FRESH_QUERIES set, each request adds _=<a random number>
-- to the query string, as a client busting caches does, so the service
-- has rarely parsed that query string before. The service ignores the
-- parameter, so the page is the same. Each thread draws from a seed of
-- its own.
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
  request = function()
    local path = wrk.path .. "&_=" .. math.random(1, 1000000000)
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
