-- wrk: GET /v1/competitions/{QUIZ_ID}/leaderboard?limit=50 (the top 50) with the
-- token of wrk's -H, while bench/quiz.sh's submissions run. Each connection waits
-- QUIZ_LEADERBOARD_DELAY_MS between its requests: viewers polling a board, not a
-- second saturating load competing with the submissions for the two cores. Any answer
-- but 200 is counted, and the first is printed with its body.
local quiz = os.getenv("QUIZ_ID") or ""
local pause = tonumber(os.getenv("QUIZ_LEADERBOARD_DELAY_MS") or "50")
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    refused = 0
end

function delay()
    return pause
end

function request()
    return wrk.format("GET", "/v1/competitions/" .. quiz .. "/leaderboard?limit=50")
end

function response(status, headers, body)
    if status ~= 200 then
        refused = refused + 1
        if refused == 1 then io.stderr:write("status " .. status .. ": " .. body .. "\n") end
    end
end

function done(summary, latency, requests)
    local total = 0
    for _, t in ipairs(threads) do total = total + t:get("refused") end
    io.write("refused: " .. total .. "\n")
end
