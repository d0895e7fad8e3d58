-- 5. syscall.peekEvent cost (us per call) with 100 events waiting, against
-- peekEvent on an empty queue (the bare call):
--   (and, for the record, with 1 and with 1000 events queued)
--   queued  100 syscall.queueEvent events still in the plugin's queue (the
--           program has not yielded since queueing them);
--   handed  100 events already handed to the emulator in one batch (queue
--           101, pull one: the host drains the rest into its own queue);
--   remote  100 sendEvent-to-self events still in the plugin's queue (peek
--           has to build the remote_event table from the payload).

local queue, send, peek, pull = syscall.queueEvent, syscall.sendEvent, syscall.peekEvent, os.pullEvent
local me = os.getComputerID()
local WAITING = 100

local function drain(k)
    for _ = 1, k do pull() end
end

local function peeks(n, check)
    for _ = 1, n do
        local name = peek()
        if name ~= check then error(("peekEvent returned %s, expected %s"):format(
            tostring(name), tostring(check)), 0) end
    end
end

bench.run(function()
    print(("peekEvent with %d events waiting"):format(WAITING))
    local setup = {
        empty = function() end,
        ["1 queued"] = function() queue("bench", { n = 1 }) end,
        queued = function()
            for i = 1, WAITING do queue("bench", { n = i }) end
        end,
        ["1000 queued"] = function()
            for i = 1, 1000 do queue("bench", { n = i }) end
        end,
        handed = function()
            for i = 0, WAITING do queue("bench", { n = i }) end
            pull("bench")
        end,
        remote = function()
            for i = 1, WAITING do send(me, "bench", { n = i }) end
        end,
    }
    local expect = { queued = "bench", handed = "bench", remote = "remote_event",
        ["1 queued"] = "bench", ["1000 queued"] = "bench" }
    local waiting = { empty = 0, ["1 queued"] = 1, ["1000 queued"] = 1000 }
    local variants = {}
    for _, k in ipairs({ "empty", "1 queued", "queued", "1000 queued", "handed", "remote" }) do
        -- Each timed run sets up its queue, peeks n times, then drains.
        table.insert(variants, { k, function(n)
            setup[k]()
            local t0 = bench.now()
            peeks(n, expect[k])
            local ns = bench.since(t0)
            drain(waiting[k] or WAITING)
            return ns
        end })
    end
    -- bench.compare times setup and drain too; time the peeks alone here.
    local n = 20000
    local samples = {}
    for _, v in ipairs(variants) do samples[v[1]] = {} end
    for _ = 1, bench.rounds do
        for _, v in ipairs(variants) do
            collectgarbage("collect")
            table.insert(samples[v[1]], v[2](n) / n)
        end
    end
    local r = {}
    for _, v in ipairs(variants) do
        r[v[1]] = bench.median(samples[v[1]]) / 1e3
        print(("  %-12s %8.3f us/call (median of %d runs of %d calls)"):format(
            v[1], r[v[1]], bench.rounds, n))
    end
    bench.report("peekEvent, 100 queued", "us/call", r.queued, r.empty, "empty queue")
    bench.report("peekEvent, 100 handed in a batch", "us/call", r.handed, r.empty, "empty queue")
    bench.report("peekEvent, 100 remote events queued", "us/call", r.remote, r.empty, "empty queue")
end)
