-- wrk: GET /v1/stations?near=LAT,LNG&radius_m=3000 without a token (the public search),
-- at a random point of the province's box (latitude 24.5-30.1, longitude 113.6-118.5),
-- a different one every request.
--   env: STATIONS_RADIUS_M (3000)
local radius = os.getenv("STATIONS_RADIUS_M") or "3000"
local threads = 0

function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end

function init(args)
    math.randomseed(os.time() + 7919 * (tid or 0))
end

function request()
    local lat = 24.5 + 5.6 * math.random()
    local lng = 113.6 + 4.9 * math.random()
    return wrk.format("GET", string.format("/v1/stations?near=%.6f,%.6f&radius_m=%s", lat, lng, radius))
end
