-- The done() of every load script: one machine-readable line for run.sh (latencies in microseconds; the last field
-- counts the answers with a status above 399, so requests minus it are the acknowledged ones).
return function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d %d %d %d\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect + e.read + e.write + e.status + e.timeout, e.status))
end
