-- 5b. All-to-all: BENCH_COMPUTERS (32) computers each send small events to
-- every other one, round-robin, for BENCH_SECONDS (2) s; after each round of
-- sends a computer receives as many events as it sent (fewer if fewer are
-- queued: a native marker event shows where its queue ends), so one that
-- falls behind keeps sending at its own pace instead of only draining. A
-- refused send (full queue) is counted and not retried. Each starts when
-- computer 0 says "go" (all within a few ms). Computer 0 gathers
-- what each computer sent and received and prints events/s and the spread.

local me = os.getComputerID()
local COMPUTERS = BENCH_COMPUTERS or 32
local SECONDS = BENCH_SECONDS or 2
local send, pull, queue = syscall.sendEvent, os.pullEvent, os.queueEvent

-- Remote events other than "x" received while draining, kept for gather:
-- a computer that ends its flood early may report before computer 0 ends.
local kept = {}

-- Receives up to `limit` "x" events, at most those queued before this call;
-- returns how many. A marker left behind by an earlier, limited call is
-- skipped when it comes up.
local marks = 0
local function receive(limit)
    marks = marks + 1
    queue("bench_mark", marks)
    local n = 0
    while n < limit do
        local name, p = pull()
        if name == "bench_mark" then
            if p == marks then return n end
        elseif name == "remote_event" and type(p) == "table" then
            if p.type == "x" then n = n + 1 else kept[#kept + 1] = p end
        end
    end
    return n
end

local function drain() return receive(math.huge) end

local function flood()
    local start = bench.now()
    local sent, refused, received = 0, 0, 0
    while bench.since(start) < SECONDS * 1e9 do
        for k = 1, COMPUTERS - 1 do
            if send((me + k) % COMPUTERS, "x", me) then sent = sent + 1 else refused = refused + 1 end
        end
        received = received + receive(COMPUTERS - 1)
    end
    local late = drain() -- what was still queued at the end
    return { sent = sent, refused = refused, received = received, late = late }
end

-- Sends until accepted, receiving meanwhile (the target may be full).
local function deliver(target, kind, data)
    while not send(target, kind, data) do drain() end
end

-- Waits for `n` remote events of type `kind` (kept ones first); returns
-- their data.
local function gather(kind, n)
    local got, count = {}, 0
    local function take(p)
        if type(p) == "table" and p.type == kind then
            count = count + 1
            got[count] = p.data
        end
    end
    for _, p in ipairs(kept) do take(p) end
    kept = {}
    while count < n do
        local _, p = pull("remote_event")
        take(p)
    end
    return got
end

local function summary(results, seconds)
    local total, lo, hi, lo_sent, hi_sent, refused = 0, math.huge, 0, math.huge, 0, 0
    for _, r in ipairs(results) do
        total = total + r.received
        lo, hi = math.min(lo, r.received), math.max(hi, r.received)
        lo_sent, hi_sent = math.min(lo_sent, r.sent), math.max(hi_sent, r.sent)
        refused = refused + r.refused
    end
    print(("all-to-all on %d computers for %.2f s: %d events received in the window (%.0f/s), %d refused (full)"):format(
        COMPUTERS, seconds, total, total / seconds, refused))
    print(("  received per computer: min %d, max %d; sent per computer: min %d, max %d%s"):format(
        lo, hi, lo_sent, hi_sent, lo == 0 and "  -- a computer was starved" or ""))
    return total / seconds, lo, hi, lo_sent, hi_sent
end

bench.run(function()
    if me ~= 0 then
        while not send(0, "up") do sleep(0.05) end
        gather("go", 1)
        local r = flood()
        deliver(0, "result", r)
        gather("stop", 1)
        return
    end
    gather("up", COMPUTERS - 1)
    for id = 1, COMPUTERS - 1 do deliver(id, "go") end
    local results = { flood() }
    for _, r in ipairs(gather("result", COMPUTERS - 1)) do results[#results + 1] = r end
    local rate, lo, hi, sent_lo, sent_hi = summary(results, SECONDS)
    local what = ("all-to-all sendEvent, %d computers"):format(COMPUTERS)
    print(("SCALE|alltoall|%.0f"):format(rate))
    bench.report(what .. ", min / max received per computer", "events", lo, hi, "the busiest computer")
    bench.report(what .. ", min / max sent per computer", "events", sent_lo, sent_hi, "the busiest computer")
    for id = 1, COMPUTERS - 1 do deliver(id, "stop") end
end)
