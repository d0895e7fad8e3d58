-- 1. Self events: syscall.queueEvent + os.pullEvent against the native
-- os.queueEvent + os.pullEvent, one at a time (queue one, pull one) and in
-- bursts of 100 (queue 100, pull 100).

local queue, native_queue, pull = syscall.queueEvent, os.queueEvent, os.pullEvent

local function one_by_one(q)
    return function(n)
        for i = 1, n do
            q("bench", { n = i })
            pull("bench")
        end
    end
end

local BURST = 100 -- below the host's internal queue limit (256)
local function bursts(q)
    return function(n)
        local done = 0
        while done < n do
            local k = math.min(BURST, n - done)
            for i = 1, k do q("bench", { n = i }) end
            for _ = 1, k do pull("bench") end
            done = done + k
        end
    end
end

bench.run(function()
    print("self events: queue one, pull one")
    local r = bench.compare({
        { "syscall.queueEvent + os.pullEvent", one_by_one(queue) },
        { "os.queueEvent + os.pullEvent", one_by_one(native_queue) },
    })
    bench.report("self events, queue 1 / pull 1", "events/s",
        1e9 / r["syscall.queueEvent + os.pullEvent"], 1e9 / r["os.queueEvent + os.pullEvent"],
        "os.queueEvent")

    print("self events: bursts of " .. BURST)
    r = bench.compare({
        { "syscall.queueEvent x100, os.pullEvent x100", bursts(queue) },
        { "os.queueEvent x100, os.pullEvent x100", bursts(native_queue) },
    }, { hint = BURST })
    bench.report("self events, bursts of 100", "events/s",
        1e9 / r["syscall.queueEvent x100, os.pullEvent x100"],
        1e9 / r["os.queueEvent x100, os.pullEvent x100"], "os.queueEvent")
end)
