-- wrk script for bench/api: sends the bearer token in BENCH_TOKEN with
-- every request and, at the end, prints the run's figures as one line
-- of JSON after the marker BENCH_RESULT, so nothing parses wrk's text.

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
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
