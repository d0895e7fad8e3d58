-- Cluster figures: round trips and a one-way flood between two computers,
-- either of two emulators joined by a local nats-server (ci/bench-cluster
-- sets PEER = 2 × 2^32, computer 0 of node 2, and runs this file on node 1's
-- computer 0 and node 2's computer 0), or of one emulator (PEER = 1, the
-- same file on computers 0 and 1 of one host), for comparison.
--   MEASURER: the computer that measures (the other one echoes)
-- Prints "CLUSTER|<metric>|<value>" rows for ci/bench-cluster.
local send, pull = syscall.sendEvent, os.pullEvent
local FLOOD = BENCH_FLOOD or 20000

local function wait_type(kind)
    while true do
        local _, e = pull("remote_event")
        if e.type == kind then return e end
    end
end

local function measure()
    while not send(PEER, "hello", {}) do sleep(0.01) end
    wait_type("ready")
    -- Round trips: ping, the echo answers pong; median of bench.rounds runs.
    local function trips(n)
        for i = 1, n do
            send(PEER, "ping", { n = i })
            wait_type("pong")
        end
    end
    local result = bench.compare({ { "round trip", trips } }, { hint = 64 })
    print(("CLUSTER|round trip us|%.3f"):format(result["round trip"] / 1e3))
    -- One-way flood: FLOOD events as fast as sendEvent takes them (a false
    -- means the target is full: yield and retry), then an end marker; the
    -- echo answers with how many it received. Across emulators an event
    -- that finds the target's queue full on arrival is dropped (see the
    -- book's "Several emulators"), so the marker is repeated until answered.
    local floods = {}
    local lost = 0
    for round = 1, bench.rounds do
        local t0 = bench.now()
        local i = 1
        while i <= FLOOD do
            if send(PEER, "flood", { n = i }) then
                i = i + 1
            else
                sleep(0)
            end
        end
        local got
        while not got do
            send(PEER, "flood-end", { round = round })
            local timer = os.startTimer(0.2)
            while true do
                local name, e = os.pullEvent()
                if name == "timer" and e == timer then break end
                if name == "remote_event" and e.type == "flood-count" and e.data.round == round then
                    got = e.data.n
                    break
                end
            end
        end
        local ns = bench.since(t0)
        floods[#floods + 1] = got / (ns / 1e9)
        lost = lost + (FLOOD - got)
    end
    print(("CLUSTER|flood events/s|%.0f"):format(bench.median(floods)))
    print(("CLUSTER|flood lost|%d"):format(lost))
    send(PEER, "stop", {})
end

local function echo()
    local e = wait_type("hello")
    local measurer = e.sender
    send(measurer, "ready", {})
    local count, answered = 0, {}
    while true do
        local _, ev = pull("remote_event")
        if ev.type == "ping" then
            send(measurer, "pong", ev.data)
        elseif ev.type == "flood" then
            count = count + 1
        elseif ev.type == "flood-end" then
            local round = ev.data.round
            answered[round] = answered[round] or count
            if answered[round] == count then count = 0 end
            while not send(measurer, "flood-count", { n = answered[round], round = round }) do sleep(0) end
        elseif ev.type == "stop" then
            return
        end
    end
end

bench.run(function()
    if MEASURER then measure() else echo() end
end)
