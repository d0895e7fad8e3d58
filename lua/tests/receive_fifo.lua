-- One FIFO per process across all kinds: queueEvent, sendEvent (to self and
-- from another computer), expired timers, and signals without handler arrive
-- in the order they were queued.
local me = syscall.getpid()
local other = 1 - me
check.ok(check.meet(other), "both computers are up")

if me == 1 then
    check.await_remote("send_now", 30)
    syscall.sendEvent(0, "from_other", {})
    check.await_remote("bye", 30)
    check.done()
    return
end

local function expect_order(expected, name)
    local got = {}
    for i = 1, #expected do
        local e = table.pack(os.pullEventRaw())
        local label = e[1]
        if e[1] == "remote_event" then label = "remote:" .. tostring(e[2].type)
        elseif e[1] == "timer" and type(e[2]) == "table" then label = "timer:" .. tostring(e[2].id)
        elseif e[1] == "alarm" then label = "alarm:" .. tostring(e[2].id)
        elseif e[1] == "signal" then label = "signal:" .. tostring(e[2].signal) end
        got[i] = label
    end
    local a, b = table.concat(expected, ","), table.concat(got, ",")
    return check.ok(a == b, name, "expected " .. a .. ", got " .. b)
end

local t = syscall.timer(0)
check.until_expired(t)
syscall.queueEvent("a", {})
syscall.sendEvent(me, "b", {})
syscall.kill(me, 10) -- no handler: a signal event
syscall.queueEvent("e", {})
syscall.sendEvent(me, "f", {})
expect_order({ "timer:" .. t, "a", "remote:b", "signal:10", "e", "remote:f" },
    "an expired timer, queueEvent, sendEvent to self and a signal arrive in the order queued")

-- The same when some are handed over before others are queued.
syscall.queueEvent("g", {})
local t2 = syscall.timer(0)
check.until_fired() -- t2 waits behind g
syscall.kill(me, 12)
os.pullEvent("g") -- the timer and the signal event are handed over now
syscall.sendEvent(me, "h", {})
syscall.kill(me, 10)
syscall.queueEvent("i", {})
expect_order({ "timer:" .. t2, "signal:12", "remote:h", "signal:10", "i" },
    "events queued after a hand-over come behind the handed-over ones")

-- With another computer's event in between.
syscall.queueEvent("before", {})
syscall.sendEvent(other, "send_now", {})
check.eq((os.pullEventRaw()), "before", "the event queued first arrives first")
check.until_next("remote_event", "from_other") -- queued behind "before"
syscall.queueEvent("after", {})
expect_order({ "remote:from_other", "after" },
    "another computer's event takes its place in the one queue")
syscall.sendEvent(other, "bye", {})
check.done()
