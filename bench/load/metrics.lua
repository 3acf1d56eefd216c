-- wrk script: POST /api/metrics with a batch of 500 events for one version (no experiment).
--   wrk ... -s metrics.lua URL -- KEY VERSION_ID
-- Every event is new (no id), so every acknowledged event is stored.

function init(args)
  local key, version = args[1], args[2]
  local events = {}
  for i = 1, 500 do
    events[i] = string.format('{"versionId":"%s","latencyMs":%d,"inputTokens":%d,"outputTokens":%d,"converted":%s}',
      version, 400 + (i * 37) % 900, 200 + (i * 53) % 1800, 50 + (i * 29) % 750, (i % 8 == 0) and "true" or "false")
  end
  wrk.method = "POST"
  wrk.path = "/api/metrics"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.body = '{"events":[' .. table.concat(events, ",") .. ']}'
end

done = dofile((os.getenv("LOAD_DIR") or ".") .. "/result.lua")
