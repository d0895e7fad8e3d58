-- 2. Round trips. Run on computers 0 and 1 (both run this file).
-- Computer 1 echoes every "ping" remote event back to its sender as "pong".
-- Computer 0 measures, interleaved:
--   cross   syscall.sendEvent ping-pong between computers 0 and 1 (two
--           threads, every hop wakes the other computer);
--   local   the same loop on computer 0 alone with os.queueEvent (the
--           baseline: the event path without crossing threads);
--   self    the same loop on computer 0 alone with syscall.sendEvent to
--           itself (the plugin's path without crossing threads).
-- With BENCH_PINNED set (ci/bench runs the host under `taskset -c 0`), only
-- the cross-computer row is reported, tagged as pinned to one CPU.
-- With BENCH_MODE == "rss" (the memory run of ci/bench), computer 0 only
-- plays BENCH_RSS_TRIPS cross-computer round trips and prints VmRSS along
-- the way.

local send, pull, native_queue = syscall.sendEvent, os.pullEvent, os.queueEvent
local me = os.getComputerID()

local function pong()
    while true do
        local _, e = pull("remote_event")
        if e.type == "pong" then return e end
    end
end

local function cross(n)
    for i = 1, n do
        send(1, "ping", { n = i })
        pong()
    end
end

local function via_self(n)
    for i = 1, n do
        send(me, "ping", { n = i })
        pull("remote_event")
        send(me, "pong", { n = i })
        pull("remote_event")
    end
end

local function native(n)
    for i = 1, n do
        native_queue("ping", { n = i })
        pull("ping")
        native_queue("pong", { n = i })
        pull("pong")
    end
end

local function echo()
    -- Computer 0 may not be a process yet: say hello until it is.
    while not send(0, "hello", {}) do sleep(0.01) end
    while true do
        local _, e = pull("remote_event")
        if e.type == "ping" then
            send(e.sender, "pong", e.data)
        elseif e.type == "stop" then
            return
        end
    end
end

local function wait_for_hello()
    while true do
        local _, e = pull("remote_event")
        if e.type == "hello" then return end
    end
end

bench.run(function()
    if me == 1 then return echo() end
    bench.cleanup = function() send(1, "stop", {}) end
    wait_for_hello()
    if BENCH_MODE == "rss" then
        local trips = BENCH_RSS_TRIPS or 40000
        local rss0 = bench.rss()
        local t0 = bench.now()
        local step = math.floor(trips / 4)
        for k = 1, 4 do
            cross(step)
            collectgarbage("collect")
            local rss, hwm = bench.rss()
            print(("  after %6d round trips: VmRSS %s kB, VmHWM %s kB"):format(
                k * step, tostring(rss), tostring(hwm)))
        end
        local ns = bench.since(t0)
        print(("  %d round trips in %.2f s (%.1f us each); VmRSS at start %s kB"):format(
            4 * step, ns / 1e9, ns / (4 * step) / 1e3, tostring(rss0)))
    else
        print("round trips (ping + pong = 2 events)")
        local r = bench.compare({
            { "cross: sendEvent 0 <-> 1", cross },
            { "local: os.queueEvent on one computer", native },
            { "self: sendEvent to itself on one computer", via_self },
        })
        local c, l, s = r["cross: sendEvent 0 <-> 1"], r["local: os.queueEvent on one computer"],
            r["self: sendEvent to itself on one computer"]
        if BENCH_PINNED then
            -- ci/bench's second run, with the whole host on one CPU.
            bench.report("cross-computer round trip, host pinned to 1 CPU", "us", c / 1e3,
                l / 1e3, "os.queueEvent, one computer")
        else
            bench.report("cross-computer round trips", "round trips/s", 1e9 / c, 1e9 / l,
                "os.queueEvent, one computer")
            bench.report("cross-computer round trip", "us", c / 1e3, l / 1e3,
                "os.queueEvent, one computer")
            bench.report("sendEvent-to-self round trip", "us", s / 1e3, l / 1e3,
                "os.queueEvent, one computer")
        end
    end
    send(1, "stop", {})
end)
