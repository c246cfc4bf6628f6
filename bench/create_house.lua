-- wrk script for the "create house" scenario (bench/run.sh).
-- Every request creates a new house in one unit reserved for this benchmark;
-- numbers stay unique across wrk threads (each thread has its own Lua state,
-- so the thread number is part of the house number).
-- Usage: UNIT_ID=123 RUN=1 BENCH_TOKEN=<access token> wrk -s bench/create_house.lua http://127.0.0.1:PORT/api/v1/houses

local unit_id = tonumber(os.getenv("UNIT_ID") or error("UNIT_ID is not set"))
local run = os.getenv("RUN") or "0"
local next_thread = 0
local counter = 0
local prefix = ""

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_no", next_thread)
end

function init(args)
  -- house numbers are at most 20 characters: "R<run>T<thread>-<n>"
  prefix = "R" .. run .. "T" .. tostring(thread_no or 0) .. "-"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or error("BENCH_TOKEN is not set"))
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"unit_id":%d,"number":"%s%d","floor":%d,"building_area":88.5,"usable_area":70.25,'
      .. '"house_type":"residential","state":"occupied"}',
    unit_id, prefix, counter, counter % 30 + 1)
  return wrk.format(nil, nil, nil, body)
end
