-- sleep and parallel keep working beside the syscall events.
local me = syscall.getpid()

-- sleep returns after its time although syscall events (a timer named
-- "timer" with a table, remote events, own events) arrive meanwhile.
local start = os.clock()
syscall.timer(0.02)
syscall.queueEvent("during", {})
syscall.sendEvent(me, "during", {})
sleep(0.15)
local slept = os.clock() - start
check.ok(slept >= 0.14, "sleep(0.15) returns after 0.15 s or more beside syscall events", slept)
-- sleep discards the events that arrive while it waits (as in CraftOS), so
-- the syscall timer is long enough to outlast sleep(0.05) on a busy machine.
local t = syscall.timer(1)
start = os.clock()
sleep(0.05)
slept = os.clock() - start
check.ok(slept >= 0.04, "a pending syscall timer does not end sleep early", slept)
local e = check.next_event(10)
check.ok(e and e[1] == "timer" and type(e[2]) == "table" and e[2].id == t,
    "the syscall timer still fires after sleep", check.show_event(e))

-- parallel.waitForAll: one routine waits for a remote event, one for a
-- syscall timer, one sleeps.
local got = {}
parallel.waitForAll(function()
    local name, p = os.pullEvent("remote_event")
    got.remote = name == "remote_event" and p.type == "ping"
end, function()
    local id = syscall.timer(0.05)
    while true do
        local name, p = os.pullEvent("timer")
        if type(p) == "table" and p.id == id then got.timer = true break end
    end
end, function()
    sleep(0.1)
    got.sleep = true
    syscall.sendEvent(me, "ping", {})
end, function()
    local name, p = os.pullEvent("own")
    got.own = p.v == 7
end, function()
    syscall.queueEvent("own", { v = 7 })
end)
check.ok(got.remote, "parallel.waitForAll: a routine receives a remote event")
check.ok(got.timer, "parallel.waitForAll: a routine receives its syscall timer")
check.ok(got.sleep, "parallel.waitForAll: a routine sleeps")
check.ok(got.own, "parallel.waitForAll: a routine receives a queued event")

-- parallel.waitForAny returns when the routine with its event finishes.
local which = parallel.waitForAny(function()
    os.pullEvent("never")
end, function()
    syscall.timer(0.05)
    os.pullEvent("timer")
end)
check.eq(which, 2, "parallel.waitForAny returns the routine whose syscall timer fired")
which = parallel.waitForAny(function()
    sleep(5)
end, function()
    syscall.sendEvent(me, "wake", {})
    os.pullEvent("remote_event")
end)
check.eq(which, 2, "parallel.waitForAny returns the routine whose remote event arrived")
check.done()
