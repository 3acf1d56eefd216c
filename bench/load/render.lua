-- wrk script: POST /api/prompts/customer-support/render with the customer-support inputs (10 previous messages).
--   wrk ... -s render.lua URL -- KEY MODE     MODE: label (production label) or unit (a new unitId per request)
-- Ends with one line "RESULT requests seconds p50_us p99_us p999_us errors" that run.sh reads.

local messages = {}
for i = 1, 10 do
  local role = (i % 2 == 1) and "user" or "assistant"
  messages[i] = string.format('{"role":"%s","content":"Message number %d about order #%d."}', role, i, 1000 + i)
end
local variables = '{"company_name":"Acme","customer_name":"Ana","previous_messages":[' .. table.concat(messages, ",") .. ']}'

local threads = {}
local counter = 0
-- UNIT_IDS=random: random UUIDs, as SDKs send them; by default ids that sort near each other (a counter per thread).
local random_ids = os.getenv("UNIT_IDS") == "random"

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  key, mode = args[1] or "", args[2] or "label"
  wrk.method = "POST"
  wrk.path = "/api/prompts/customer-support/render"
  wrk.headers["Content-Type"] = "application/json"
  if key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
  -- A run id keeps units new across runs against the same server.
  run = tostring(os.time())
  math.randomseed(os.time() * 100 + id)
end

local function unit_id()
  if random_ids then
    return string.format("%08x-%04x-4%03x-%04x-%08x%04x", math.random(0, 0x7fffffff), math.random(0, 0xffff),
      math.random(0, 0xfff), math.random(0, 0xffff), math.random(0, 0x7fffffff), math.random(0, 0xffff))
  end
  counter = counter + 1
  return "load-" .. run .. "-" .. id .. "-" .. counter
end

function request()
  if mode == "unit" then
    return wrk.format(nil, nil, nil, '{"variables":' .. variables .. ',"unitId":"' .. unit_id() .. '"}')
  end
  return wrk.format(nil, nil, nil, '{"variables":' .. variables .. '}')
end

done = dofile((os.getenv("LOAD_DIR") or ".") .. "/result.lua")
