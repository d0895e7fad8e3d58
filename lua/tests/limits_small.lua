-- Run with "limits": {"queue": 4, "payload": 100, "timers": 3}.
local me = syscall.getpid()

-- payload: a string of n bytes alone costs 16 + n accounted bytes.
check.eq(syscall.sendEvent(me, "p", string.rep("x", 84)), true, "a 100-byte payload is sent")
check.eq(syscall.sendEvent(me, "p", string.rep("x", 85)), false, "a 101-byte payload is refused")
check.eq(syscall.sendEvent(me, "p", { string.rep("x", 60) }), false, "a table over 100 bytes is refused")
local _, got = os.pullEvent("remote_event")
check.eq(#got.data, 84, "the 100-byte payload arrived")
check.eq(syscall.peekEvent(), nil, "the refused payloads queued nothing")

-- queue: 4 events may wait, whoever queued them.
for i = 1, 3 do syscall.queueEvent("q", { n = i }) end
check.eq(syscall.sendEvent(me, "s", 4), true, "the 4th event is sent")
check.raises("Queue full", "queueEvent refuses a 5th event", syscall.queueEvent, "q", { n = 5 })
check.eq(syscall.sendEvent(me, "s", 5), false, "sendEvent refuses a 5th event")
for i = 1, 3 do
    local _, params = os.pullEvent("q")
    check.eq(params.n, i, "queued event " .. i .. " arrives")
end
local _, last = os.pullEvent("remote_event")
check.eq(last.data, 4, "the 4th event arrives")
check.no_error("once received, events may be queued again", syscall.queueEvent, "q", { n = 6 })
os.pullEvent("q")

-- timers: 3 timers and alarms may be pending.
local a = syscall.timer(3600)
syscall.alarm(12)
syscall.timer(3600)
check.raises("Too many timers", "a 4th timer is refused", syscall.timer, 3600)
check.raises("Too many timers", "a 4th alarm is refused", syscall.alarm, 6)
syscall.cancel(a)
check.no_error("a cancelled timer makes room", syscall.timer, 3600)
check.done()
os.shutdown()
