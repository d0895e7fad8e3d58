-- 4. Timer lateness: syscall.timer(0.01) against os.startTimer(0.01), one
-- timer at a time, alternating, BENCH_TIMERS (100) of each. Lateness is the
-- time from setting the timer to receiving its event, minus the 10 ms asked.

local timer, start_timer, pull = syscall.timer, os.startTimer, os.pullEvent
local N = BENCH_TIMERS or 100
local DELAY = 0.01

local function wait_syscall()
    local t0 = bench.now()
    local id = timer(DELAY)
    repeat
        local _, p = pull("timer")
    until type(p) == "table" and p.id == id
    return bench.since(t0) / 1e6 - DELAY * 1e3
end

local function wait_native()
    local t0 = bench.now()
    local id = start_timer(DELAY)
    repeat
        local _, p = pull("timer")
    until p == id
    return bench.since(t0) / 1e6 - DELAY * 1e3
end

bench.run(function()
    local late = { syscall = {}, native = {} }
    wait_syscall(); wait_native() -- warm-up
    for _ = 1, N do
        table.insert(late.syscall, wait_syscall())
        table.insert(late.native, wait_native())
    end
    print(("timer lateness over %d timers of %d ms each"):format(N, DELAY * 1e3))
    local s, n = {}, {}
    for _, k in ipairs({ "syscall", "native" }) do
        local l = late[k]
        local lo, hi = math.huge, -math.huge
        for _, x in ipairs(l) do lo, hi = math.min(lo, x), math.max(hi, x) end
        local r = { median = bench.median(l), p95 = bench.percentile(l, 95), p99 = bench.percentile(l, 99),
            lo = lo, hi = hi }
        if k == "syscall" then s = r else n = r end
        print(("  %-22s median %.3f ms, p95 %.3f ms, p99 %.3f ms, min %.3f ms, max %.3f ms"):format(
            k == "syscall" and "syscall.timer(0.01)" or "os.startTimer(0.01)",
            r.median, r.p95, r.p99, r.lo, r.hi))
    end
    bench.report("timer(0.01) lateness, median", "ms", s.median, n.median, "os.startTimer")
    bench.report("timer(0.01) lateness, p95", "ms", s.p95, n.p95, "os.startTimer")
    bench.report("timer(0.01) lateness, p99", "ms", s.p99, n.p99, "os.startTimer")
end)
