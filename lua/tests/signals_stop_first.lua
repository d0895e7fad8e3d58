-- A stop takes effect ahead of what already waits: events queued before
-- SIGSTOP arrive only after SIGCONT -- also more than the emulator hands
-- over in one batch (256).
local me = syscall.getpid()

if me == 0 then
    check.ok(check.await_remote("stopped"), "computer 1 stopped itself")
    -- At least half a second later (a timer, not a schedule): continue it.
    local later = syscall.timer(0.5)
    check.ok(check.await(function(name, p)
        return name == "timer" and type(p) == "table" and p.id == later
    end, 30), "half a second passed")
    local continued_at = os.epoch("utc")
    syscall.kill(1, 18)
    syscall.sendEvent(1, "continued", { at = continued_at })
    check.done()
    return
end

check.ok(check.wait_up(0), "computer 0 is up")
for i = 1, 300 do syscall.queueEvent("before", { i = i }) end -- wait in the queue...
syscall.kill(me, 19)                  -- ...when this computer stops
syscall.sendEvent(0, "stopped", {})
local name = os.pullEventRaw()
local arrived_at = os.epoch("utc")
check.eq(name, "before", "the events queued before the stop arrive first after it")
local _, continued = check.await(function(n, p) return n == "remote_event" and p.type == "continued" end, 30)
local at = continued and continued.data.at or math.huge
check.ok(arrived_at >= at, "an event queued before SIGSTOP arrives only after SIGCONT",
    ("arrived %d ms before SIGCONT"):format(at - arrived_at))
check.done()
