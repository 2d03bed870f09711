-- wrk: POST /v1/bookings by staff for a guest, 1 unit of one 60-minute slot, every
-- request on a different (venue, slot): request n of thread t takes slot index
-- t + THREADS*n of VENUES x DAYS x 14 hourly slots (08:00-22:00 Asia/Shanghai), venue
-- varying fastest. Every loaded slot keeps 2 free units, so even a wrap-around can't
-- meet a full slot; any non-201 is counted and printed (a 409 is a bench failure).
--   env: PALACES_VENUES (100), PALACES_DAYS (comma-separated YYYY-MM-DD), PALACES_THREADS
local venues = tonumber(os.getenv("PALACES_VENUES") or "100")
local nthreads = tonumber(os.getenv("PALACES_THREADS") or "2")
local days = {}
for d in string.gmatch(os.getenv("PALACES_DAYS") or "", "[^,]+") do days[#days + 1] = d end
local space = venues * #days * 14
local threads = {}

function setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

function init(args)
    n = 0
    statuses = {}
    wrapped = 0
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    local i = tid + nthreads * n
    n = n + 1
    if i >= space then wrapped = wrapped + 1 end
    i = i % space
    local v = i % venues
    local rest = math.floor(i / venues)
    local hour = 8 + rest % 14
    local day = days[math.floor(rest / 14) + 1]
    local body = string.format(
        '{"venue_id":"01900000-0000-7000-8000-%012d","start":"%sT%02d:00:00+08:00",' ..
        '"end":"%sT%02d:00:00+08:00","units":1,"guest_name":"压测散客"}',
        v, day, hour, day, hour + 1)
    return wrk.format("POST", "/v1/bookings", nil, body)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status ~= 201 and (statuses[status] or 0) <= 1 then
        io.stderr:write("status " .. status .. ": " .. body .. "\n")
    end
end

function done(summary, latency, requests)
    local total = {}
    local wraps = 0
    for _, t in ipairs(threads) do
        local s = t:get("statuses")
        for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
        wraps = wraps + t:get("wrapped")
    end
    local parts = {}
    for k, v in pairs(total) do parts[#parts + 1] = k .. "=" .. v end
    table.sort(parts)
    io.write("statuses: " .. table.concat(parts, " ") .. "\n")
    io.write("wrapped: " .. wraps .. " of space " .. space .. "\n")
end
