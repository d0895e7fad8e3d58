-- 0. What the plugin costs a program that never calls syscall: its
-- coroutine wrappers sit on every coroutine.yield/resume, from the
-- program's first instruction (before its first event) and after. ci/bench runs this
-- file with the plugin and with an empty library instead, alternating, and
-- compares. Rows: "OVERHEAD|<workload>|<ns per op>".

local function native_events(n)
    for i = 1, n do
        os.queueEvent("bench", i)
        os.pullEvent("bench")
    end
end

local function coroutine_ping(n)
    local co = coroutine.create(function()
        while true do coroutine.yield(1) end
    end)
    for _ = 1, n do coroutine.resume(co) end
end

local function parallel_events(n)
    local half = math.max(1, math.floor(n / 2))
    parallel.waitForAll(
        function() for _ = 1, half do os.queueEvent("a") os.pullEvent("a") end end,
        function() for _ = 1, half do os.pullEvent("a") end end)
end

bench.run(function()
    -- First, before this program has waited for any event (as a startup
    -- program computes before its first os.pullEvent): the plugin has not
    -- seen the top-level coroutine yet. Nothing here yields to the emulator.
    local early = bench.compare({
        { "coroutine resume + yield, before the first event", coroutine_ping },
    })
    for name, ns in pairs(early) do print(("OVERHEAD|%s|%.1f"):format(name, ns)) end
    local r = bench.compare({
        { "native event, queue + pull", native_events },
        { "coroutine resume + yield", coroutine_ping },
        { "parallel.waitForAll, 2 routines", parallel_events },
    })
    for name, ns in pairs(r) do print(("OVERHEAD|%s|%.1f"):format(name, ns)) end
end)
