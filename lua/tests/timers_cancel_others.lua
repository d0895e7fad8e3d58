-- cancel: unknown, finished and other processes' IDs -- nothing happens,
-- no error.
local me = syscall.getpid()
local other = 1 - me
check.ok(check.meet(other), "both computers are up")

if me == 1 then
    -- A timer and an alarm that computer 0 will try to cancel.
    local t = syscall.timer(0.4)
    local a = syscall.alarm((os.time() + 0.008) % 24)
    syscall.sendEvent(0, "ids", { timer = t, alarm = a })
    local got_t, got_a = false, false
    repeat -- until both arrived (or nothing more comes within 10 s)
        local e = check.next_event(10)
        if e and e[1] == "timer" and type(e[2]) == "table" and e[2].id == t then got_t = true end
        if e and e[1] == "alarm" and type(e[2]) == "table" and e[2].id == a then got_a = true end
    until e == nil or (got_t and got_a)
    check.ok(got_t, "a timer still fires after another computer cancelled its ID")
    check.ok(got_a, "an alarm still fires after another computer cancelled its ID")
    syscall.sendEvent(0, "bye", {})
    check.done()
    return
end

local ids = check.await_remote("ids", 30)
check.ok(ids ~= nil, "the other computer's IDs arrived")
check.no_error("cancelling another process's timer ID does not throw", syscall.cancel, ids.data.timer)
check.no_error("cancelling another process's alarm ID does not throw", syscall.cancel, ids.data.alarm)

-- Unknown IDs of every shape.
for _, id in ipairs({ 0, -1, 123456, 2 ^ 31 + 5, 2 ^ 31 - 1, 2 ^ 32, 2 ^ 40, 1.5, 0 / 0, math.huge, -math.huge }) do
    check.no_error("cancel(" .. tostring(id) .. ") of an unknown ID does not throw", syscall.cancel, id)
end
-- A finished timer, twice; and a pending one cancelled twice.
local t = syscall.timer(0)
local e = check.next_event(10)
check.ok(e and e[1] == "timer" and e[2].id == t, "a timer fires")
check.no_error("cancelling a finished timer does not throw", syscall.cancel, t)
check.no_error("cancelling it again does not throw", syscall.cancel, t)
local keep = syscall.timer(0.05)
check.no_error("cancelling a finished timer leaves other timers alone", syscall.cancel, t)
e = check.next_event(10)
check.ok(e and e[1] == "timer" and e[2].id == keep, "the other timer still fires", check.show_event(e))
check.ok(check.await_remote("bye", 30) ~= nil, "the other computer got its events")
check.done()
