-- 7. Between computers, against a modem. Run on computers 0 and 1 (both run
-- this file). The baseline is what a CraftOS-PC modem does for one receiver:
-- queue an event provider with the target that pushes a `modem_message`
-- (the host's `benchmodem.transmit(id, channel, message)`, a stand-in: the
-- host has no peripherals). Computer 0 measures, interleaved:
--   ping-pong  one event to 1 and one back, sendEvent vs transmit;
--   flood      n events one way as fast as the path takes them, then an end
--              marker answered by 1 with the count received: sendEvent
--              honours back-pressure (on `false` the sender yields once and
--              retries), transmit has none (the modem's queue is unbounded).
--   ceiling    what no sender can exceed: computer 1 queues 1000 sendEvents
--              to itself, then receives them back to back (through whatever
--              the ROM runs between a program and its events: in CraftOS-PC
--              the BIOS's parallel, rednet.run, multishell); reported
--              against the modem's flood, so its ratio is the largest flood
--              ratio this setup allows.
-- Payloads are numbers, so both paths copy the same data.
-- BENCH_NO_MODEM (ci/bench-real in CraftOS-PC Accelerated, whose modem
-- crashes the emulator, with or without the plugin: 5 of 6 runs of this
-- file, never in 3 runs without the modem): no modem at all. The ping-pong
-- is measured against two native events on one computer (the emulator's
-- own cost of the two events of a round trip), the flood against the
-- ceiling.

local send, pull, transmit = syscall.sendEvent, os.pullEventRaw, benchmodem.transmit
-- The baseline's name in the summary (ci/bench-real: a real modem).
local MODEM = BENCH_MODEM_NAME or "modem stand-in (host provider)"
local PP_MODEM = (BENCH_MODEM_NAME and "modem" or "modem stand-in") .. " ping-pong"
local FLOOD_MODEM = (BENCH_MODEM_NAME and "modem" or "modem stand-in") .. " flood"
local me = os.getComputerID()
local PING, PONG, FLOOD, COUNT = 1, 2, 3, 4

local function remote(kind)
    while true do
        local name, e = pull("remote_event")
        if name == "remote_event" and e.type == kind then return e.data end
    end
end

local function modem(channel)
    while true do
        local name, _, ch, _, message = pull("modem_message")
        if name == "modem_message" and ch == channel then return message end
    end
end

local refused = 0 -- sendEvent returned false (queue full) and was retried
local function send_retrying(pid, kind, data)
    while not send(pid, kind, data) do
        refused = refused + 1
        os.queueEvent("backoff")
        pull("backoff")
    end
end

local function syscall_pingpong(n)
    for i = 1, n do
        send(1, "ping", i)
        remote("pong")
    end
end

local function modem_pingpong(n)
    for i = 1, n do
        transmit(1, PING, i)
        modem(PONG)
    end
end

local function syscall_flood(n)
    for i = 1, n do send_retrying(1, "flood", i) end
    send_retrying(1, "flood", -1)
    local got = remote("count")
    if got ~= n then error(("sendEvent flood: %d sent, %d received"):format(n, got)) end
end

-- The ping-pong's two events, queued and pulled on one computer.
local function native_two(n)
    for i = 1, n do
        os.queueEvent("bench_ping", i)
        pull("bench_ping")
        os.queueEvent("bench_pong", i)
        pull("bench_pong")
    end
end
local NATIVE_TWO = "two os.queueEvent round trips on one computer"

local function modem_flood(n)
    for i = 1, n do transmit(1, FLOOD, i) end
    transmit(1, FLOOD, -1)
    local got = modem(COUNT)
    if got ~= n then error(("modem flood: %d sent, %d received"):format(n, got)) end
end

local DRAINED = 1000 -- below the default queue limit of 1024

-- Computer 1: queues DRAINED events to itself, then times receiving them.
local function drain()
    for i = 1, DRAINED do
        if not send(me, "drained", i) then error("drain: queue full at " .. i) end
    end
    local t0 = bench.now()
    local got = 0
    while got < DRAINED do
        local name, e = pull()
        if name == "remote_event" and e.type == "drained" then got = got + 1 end
    end
    return bench.since(t0) / DRAINED
end

-- Computer 0: ns per event received back to back, median of bench.rounds.
local function ceiling()
    local per = {}
    for _ = 1, bench.rounds do
        send_retrying(1, "drain", 0)
        per[#per + 1] = remote("drain_ns")
    end
    return bench.median(per)
end

local function echo()
    while not send(0, "hello", 0) do sleep(0.01) end
    local flood_syscall, flood_modem = 0, 0
    while true do
        local name, a, b, _, d = pull()
        if name == "remote_event" then
            if a.type == "ping" then
                send(0, "pong", a.data)
            elseif a.type == "flood" then
                if a.data == -1 then
                    send_retrying(0, "count", flood_syscall)
                    flood_syscall = 0
                else
                    flood_syscall = flood_syscall + 1
                end
            elseif a.type == "drain" then
                send_retrying(0, "drain_ns", drain())
            elseif a.type == "stop" then
                return
            end
        elseif name == "modem_message" then
            if b == PING then
                transmit(0, PONG, d)
            elseif b == FLOOD then
                if d == -1 then
                    transmit(0, COUNT, flood_modem)
                    flood_modem = 0
                else
                    flood_modem = flood_modem + 1
                end
            end
        end
    end
end

bench.run(function()
    if me == 1 then return echo() end
    bench.cleanup = function() send(1, "stop", 0) end
    remote("hello")
    print("ping-pong between computers 0 and 1 (2 events per round trip)")
    local baseline = BENCH_NO_MODEM and NATIVE_TWO or PP_MODEM
    local r = bench.compare({
        { "sendEvent ping-pong", syscall_pingpong },
        { baseline, BENCH_NO_MODEM and native_two or modem_pingpong },
    })
    bench.report("ping-pong round trip between computers", "us",
        r["sendEvent ping-pong"] / 1e3, r[baseline] / 1e3,
        BENCH_NO_MODEM and NATIVE_TWO .. " (no modem)" or MODEM)
    print("one-way flood from 0 to 1")
    refused = 0
    local floods = { { "sendEvent flood (retry on false)", syscall_flood } }
    if not BENCH_NO_MODEM then floods[2] = { FLOOD_MODEM, modem_flood } end
    r = bench.compare(floods, { hint = 256 })
    print(("  sendEvent refused (queue full) %d times; each retried after one yield"):format(refused))
    local drain_ns = ceiling()
    print(("  receiving %d sendEvents already queued: %.3f us/event"):format(DRAINED, drain_ns / 1e3))
    if BENCH_NO_MODEM then
        bench.report("one-way flood between computers", "events/s",
            1e9 / r["sendEvent flood (retry on false)"], 1e9 / drain_ns,
            "flood ceiling, same run (no modem flood)")
        return send(1, "stop", 0)
    end
    bench.report("one-way flood between computers", "events/s",
        1e9 / r["sendEvent flood (retry on false)"], 1e9 / r[FLOOD_MODEM],
        MODEM)
    bench.report("flood ceiling: queued events received back to back by computer 1", "events/s",
        1e9 / drain_ns, 1e9 / r[FLOOD_MODEM], FLOOD_MODEM:gsub(" flood$", "") .. "'s flood")
    send(1, "stop", 0)
end)
