-- wrk script: POST /api/metrics with a batch of 500 events for one version, or for one variant of a running experiment.
--   wrk ... -s metrics.lua URL -- KEY VERSION_ID [EXPERIMENT_ID VARIANT_ID]
-- With an experiment, event i of every batch is unit u-i's, so each batch adds an event to each of 500 units.
-- Every event is new (no id), so every acknowledged event is stored.

function init(args)
  local key, version, experiment, variant = args[1], args[2], args[3], args[4]
  local events = {}
  for i = 1, 500 do
    local unit = experiment and string.format(',"experimentId":"%s","variantId":"%s","unitId":"u-%d"', experiment, variant, i) or ""
    events[i] = string.format('{"versionId":"%s"%s,"latencyMs":%d,"inputTokens":%d,"outputTokens":%d,"converted":%s}',
      version, unit, 400 + (i * 37) % 900, 200 + (i * 53) % 1800, 50 + (i * 29) % 750, (i % 8 == 0) and "true" or "false")
  end
  wrk.method = "POST"
  wrk.path = "/api/metrics"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.body = '{"events":[' .. table.concat(events, ",") .. ']}'
end

done = dofile((os.getenv("LOAD_DIR") or ".") .. "/result.lua")
