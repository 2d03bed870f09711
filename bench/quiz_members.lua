-- wrk: every member of the quiz benchmark makes one request, with their own token.
--   QUIZ_PHASE=start:  POST /v1/competitions/{QUIZ_ID}/attempts (no body, no key: a
--                      retried start is answered 409 naming the attempt, so a client
--                      needs no key)
--   QUIZ_PHASE=submit: POST /v1/attempts/{attempt}/submission with QUIZ_BODY and an
--                      Idempotency-Key (the documented way to retry a submission
--                      safely); attempt n is 01930000-0000-7000-8000-<n> (bench/quiz.sh
--                      renumbers the attempts so)
-- QUIZ_TOKENS: a file of "n token" lines, member n's access token. Thread t of
-- QUIZ_THREADS keeps only the lines with (line - 1) % QUIZ_THREADS == t, so each member
-- is asked for once and the tokens are held once across threads. A connection asks
-- for the next of its thread's members; when they are all handed out its delay() never
-- ends, and once every answer is in the thread writes QUIZ_DONE<t> (requests and
-- statuses) and stops. bench/quiz.sh waits for those files and then ends wrk.
-- Any answer but 201 is counted, and the first is printed with its body.
local phase = os.getenv("QUIZ_PHASE") or "start"
local quiz = os.getenv("QUIZ_ID") or ""
local body = os.getenv("QUIZ_BODY") or ""
local nthreads = tonumber(os.getenv("QUIZ_THREADS") or "2")
local threads = {}

function setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

function init(args)
    members, tokens = {}, {}
    local line_no = 0
    for line in io.lines(os.getenv("QUIZ_TOKENS")) do
        if line_no % nthreads == tid then
            local n, token = line:match("^(%d+) (%S+)$")
            members[#members + 1] = tonumber(n)
            tokens[#tokens + 1] = token
        end
        line_no = line_no + 1
    end
    handed, asked, answered, refused = 0, 0, 0, 0
    statuses = {}
end

function delay()
    if handed < #members then
        handed = handed + 1
        return 0
    end
    return 3600 * 1000
end

function request()
    if handed == 0 then
        -- wrk's own check of the script, before any connection asked: never sent
        return wrk.format("POST", "/")
    end
    asked = asked + 1
    -- A headers table replaces wrk.headers (but for Host): everything goes in it.
    local n = members[asked]
    local headers = { Authorization = "Bearer " .. tokens[asked], ["Content-Type"] = "application/json" }
    if phase == "submit" then
        headers["Idempotency-Key"] = "submit-" .. n
        return wrk.format("POST", string.format("/v1/attempts/01930000-0000-7000-8000-%012d/submission", n),
            headers, body)
    end
    return wrk.format("POST", "/v1/competitions/" .. quiz .. "/attempts", headers, nil)
end

function response(status, headers, resp_body)
    answered = answered + 1
    statuses[status] = (statuses[status] or 0) + 1
    if status ~= 201 then
        refused = refused + 1
        if refused == 1 then io.stderr:write("status " .. status .. ": " .. resp_body .. "\n") end
    end
    if answered == #members then
        local parts = {}
        for k, v in pairs(statuses) do parts[#parts + 1] = k .. "=" .. v end
        local f = io.open(os.getenv("QUIZ_DONE") .. tid, "w")
        f:write(answered .. " " .. table.concat(parts, ",") .. "\n")
        f:close()
        wrk.thread:stop()
    end
end
