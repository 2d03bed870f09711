-- wrk: GET /v1/venues/{id}/availability?date= spread over the bench palace's venues
-- (ids 01900000-0000-7000-8000-0000000000NN, see bench/palaces_load.sql) and the
-- loaded month of local dates. The token comes with wrk's -H.
--   env: PALACES_VENUES (100), PALACES_DAYS (comma-separated YYYY-MM-DD)
local venues = tonumber(os.getenv("PALACES_VENUES") or "100")
local days = {}
for d in string.gmatch(os.getenv("PALACES_DAYS") or "", "[^,]+") do days[#days + 1] = d end
local threads = 0

function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end

function init(args)
    math.randomseed(os.time() + 7919 * (tid or 0))
end

function request()
    local v = math.random(0, venues - 1)
    local d = days[math.random(1, #days)]
    return wrk.format("GET",
        string.format("/v1/venues/01900000-0000-7000-8000-%012d/availability?date=%s", v, d))
end
