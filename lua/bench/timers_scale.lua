-- 5a. Scale: BENCH_COMPUTERS (100) computers each set BENCH_TIMERS_PER (1000)
-- long timers: syscall.timer (BENCH_TIMERS = "syscall"), os.startTimer
-- ("native") or none ("none", the same loop without the call). Once every
-- computer is done, computer 0 prints the host's RSS (ci/bench-scale
-- compares the runs) and, when BENCH_LATE_N > 0, measures the lateness
-- of syscall.timer(0.01) against os.startTimer(0.01) with all of those
-- timers pending, alternating, BENCH_LATE_N of each.

local me = os.getComputerID()
local COMPUTERS = BENCH_COMPUTERS or 100
local PER = BENCH_TIMERS_PER or 1000
local KIND = BENCH_TIMERS or "syscall"
local LATE_N = BENCH_LATE_N or 0
local DELAY = 0.01
local LONG = 3600

local function set_timers()
    local timer = ({ syscall = syscall.timer, native = os.startTimer })[KIND]
    if timer then
        for _ = 1, PER do timer(LONG) end
    else
        for _ = 1, PER do local _ = LONG end -- the same loop, no timer
    end
end

-- Waits for `n` remote events of type `kind`.
local function await(kind, n)
    local got = 0
    while got < n do
        local _, p = os.pullEvent("remote_event")
        if type(p) == "table" and p.type == kind then got = got + 1 end
    end
end

local function late_syscall()
    local t0 = bench.now()
    local id = syscall.timer(DELAY)
    repeat local _, p = os.pullEvent("timer") until type(p) == "table" and p.id == id
    return bench.since(t0) / 1e6 - DELAY * 1e3
end

local function late_native()
    local t0 = bench.now()
    local id = os.startTimer(DELAY)
    repeat local _, p = os.pullEvent("timer") until p == id
    return bench.since(t0) / 1e6 - DELAY * 1e3
end

local function lateness()
    local s, n = {}, {}
    late_syscall(); late_native() -- warm-up
    for i = 1, LATE_N do
        s[i] = late_syscall()
        n[i] = late_native()
    end
    local function show(label, l)
        print(("  %-22s p50 %.3f ms, p99 %.3f ms, max %.3f ms"):format(label,
            bench.percentile(l, 50), bench.percentile(l, 99), bench.percentile(l, 100)))
    end
    print(("timer lateness, %d timers of %d ms each, with %d x %d %s timers pending"):format(
        LATE_N, DELAY * 1e3, COMPUTERS, PER, KIND))
    show("syscall.timer(0.01)", s)
    show("os.startTimer(0.01)", n)
    local what = ("timer(0.01) lateness with %dx%d timers pending"):format(COMPUTERS, PER)
    bench.report(what .. ", p50", "ms", bench.percentile(s, 50), bench.percentile(n, 50), "os.startTimer")
    bench.report(what .. ", p99", "ms", bench.percentile(s, 99), bench.percentile(n, 99), "os.startTimer")
end

bench.run(function()
    set_timers()
    if me ~= 0 then
        -- Computer 0 may not be up yet: retry until it is.
        while not syscall.sendEvent(0, "ready") do sleep(0.05) end
        await("stop", 1)
        return
    end
    await("ready", COMPUTERS - 1)
    collectgarbage("collect")
    local rss = bench.rss()
    print(("SCALE|rss|%s"):format(rss or "n/a"))
    if LATE_N > 0 then lateness() end
    for id = 1, COMPUTERS - 1 do
        while not syscall.sendEvent(id, "stop") do sleep(0.01) end
    end
end)
