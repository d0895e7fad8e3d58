-- The storm: every computer runs this with `STORM = {n = N, t_end = T}`
-- prepended (T: os.epoch("nano") at which the storm ends). Until T each
-- computer does random sends, kills (SIGSTOP/SIGCONT/SIGKILL/SIGTERM/...),
-- handler changes, timers, cancels, self events and self reboots; the
-- test host also reboots and restarts computers from outside. After T it
-- drains: tells everyone it is finished ("fin", after all its sends),
-- continues everyone (SIGCONT) every 0.2 s, and prints DONE once it has a
-- fin from every computer and no timer pending.
--
-- Lines for the checker (tests/storm.rs), each ending with the time:
--   B <inc> <t>                         this incarnation booted
--   S <inc> <to> <seq> <ok> <t0> <t1>   sent event <seq> to computer <to>
--   R <inc> <from-inc> <seq> <from> <t> received it
--   K <sig> <t>                         signalled someone
--   ERR <inc> <what>                    a rule broken, seen locally
--   DONE <inc> <t>
local N, T_END = STORM.n, STORM.t_end
local me = syscall.getpid()
local function now() return os.epoch("nano") end
local inc = ("%d.%.0f"):format(me, now())
math.randomseed((now() % 2147483647) + me)

local function log(fmt, ...) print(fmt:format(...)) end
local function fail(fmt, ...) log("ERR %s " .. fmt, inc, ...) end
log("B %s %.0f", inc, now())

local next_seq = {}      -- [pid] = last sequence number used towards pid
local pending = {}       -- [timer id] = true while it may still fire
local pending_count = 0
local cancelled = {}     -- [timer id] = true: cancelled, not reissued
local self_sent, self_received = 0, 0
local fins, fin_count = {}, 0
local draining = false

local function on_event(name, p)
    if name == "remote_event" and type(p) == "table" then
        local d = p.data
        if p.type == "e" then
            log("R %s %s %d %d %.0f", inc, d.inc, d.seq, p.sender, now())
        elseif p.type == "fin" then
            if not fins[p.sender] then fins[p.sender], fin_count = true, fin_count + 1 end
        elseif p.type == "hello" and draining then
            syscall.sendEvent(p.sender, "fin", {})
        end
    elseif name == "timer" and type(p) == "table" then
        if not pending[p.id] then
            fail("timer %d fired but is not pending (cancelled: %s)", p.id, tostring(cancelled[p.id]))
        else
            pending[p.id], pending_count = nil, pending_count - 1
        end
    elseif name == "self" then
        self_received = self_received + 1
        if p.n ~= self_received then fail("self event %s arrived as number %d", tostring(p.n), self_received) end
    end
end

-- Handles every event until the native timer `id` fires.
local function pump_until(timer)
    while true do
        local name, p = os.pullEventRaw()
        if name == "timer" and p == timer then return end
        on_event(name, p)
    end
end

local function random_payload(seq)
    local shape = math.random(4)
    if shape == 1 then return { inc = inc, seq = seq } end
    if shape == 2 then return { inc = inc, seq = seq, pad = string.rep("x", math.random(0, 2000)) } end
    local t = { inc = inc, seq = seq, list = {} }
    t.list.self = t
    for i = 1, math.random(0, 30) do t.list[i] = { i, t } end
    return t
end

local function send_some()
    local to = math.random(0, N - 1)
    for _ = 1, math.random(1, 4) do
        local seq = (next_seq[to] or 0) + 1
        next_seq[to] = seq
        local t0 = now()
        local ok = syscall.sendEvent(to, "e", random_payload(seq))
        log("S %s %d %d %d %.0f %.0f", inc, to, seq, ok and 1 or 0, t0, now())
    end
end

local SIGNALS = { 0, 2, 9, 10, 10, 12, 15, 18, 18, 18, 19, 19, 1 }
local function kill_someone()
    local sig = SIGNALS[math.random(#SIGNALS)]
    local pid = math.random(0, N - 1)
    if pid == me and (sig == 19 or sig == 9) then return end -- do not stop or kill oneself
    if pcall(syscall.kill, pid, sig) then log("K %d %.0f", sig, now()) end
end

local function start_timer(seconds)
    local ok, id = pcall(syscall.timer, seconds)
    if ok then
        if pending[id] then fail("timer id %d issued twice", id) end
        pending[id], pending_count = true, pending_count + 1
        cancelled[id] = nil
        return id
    end
end

local function cancel(id)
    if id and pending[id] then
        syscall.cancel(id)
        pending[id], pending_count = nil, pending_count - 1
        cancelled[id] = true
    end
end

local handled = 0
local function toggle_handler()
    local sig = ({ 10, 12, 15 })[math.random(3)]
    if math.random(2) == 1 then
        syscall.signal(sig, function() handled = handled + 1 end)
    else
        syscall.signal(sig, nil)
    end
end

local function storm_step()
    local r = math.random(1000)
    if r <= 500 then send_some()
    elseif r <= 600 then kill_someone()
    elseif r <= 700 then start_timer(math.random() * 0.3)
    elseif r <= 770 then cancel(next(pending))
    elseif r <= 800 then toggle_handler()
    elseif r <= 803 then os.reboot()
    elseif r <= 810 then
        -- Busy: events pile up and are handed over in a batch; a timer
        -- expires meanwhile and is usually cancelled while its event waits.
        local id = start_timer(0)
        local stop = os.clock() + 0.005
        while os.clock() < stop do end
        if math.random(4) > 1 then cancel(id) end
    elseif r <= 850 then
        if pcall(syscall.queueEvent, "self", { n = self_sent + 1 }) then self_sent = self_sent + 1 end
    end
end

local function drain()
    draining = true
    for pid = 0, N - 1 do syscall.sendEvent(pid, "fin", {}) end
    for pid = 0, N - 1 do syscall.sendEvent(pid, "hello", {}) end
    local done = false
    while true do
        if not done and fin_count == N and pending_count == 0 then
            done = true
            log("DONE %s %.0f", inc, now())
        end
        local tick = os.startTimer(0.2)
        pump_until(tick)
        -- A stop signal sent just before the end may still arrive: keep
        -- everyone running until the test ends.
        for pid = 0, N - 1 do pcall(syscall.kill, pid, 18) end
    end
end

local ok, err = pcall(function()
    while now() < T_END do
        storm_step()
        if math.random(4) == 1 then
            pump_until(os.startTimer(0.01))
        else
            os.queueEvent("storm_tick")
            repeat
                local name, p = os.pullEventRaw()
                if name ~= "storm_tick" then on_event(name, p) end
            until name == "storm_tick"
        end
    end
    drain()
end)
fail("the program ended: %s", tostring(err))
