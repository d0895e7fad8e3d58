-- cancel(id): a cancelled pending timer or alarm never arrives; once cancel
-- returns, no event for that ID is received, even if it had already expired
-- and was waiting -- in the plugin's queue or already handed over.
local function timer_ids(events, name)
    local ids = {}
    for _, e in ipairs(events) do
        if e[1] == (name or "timer") and type(e[2]) == "table" then ids[e[2].id] = true end
    end
    return ids
end

-- Pending timer and alarm.
local t = syscall.timer(0.1)
local keep = syscall.timer(0.15)
local a = syscall.alarm((os.time() + 0.002) % 24)
check.eq(select("#", syscall.cancel(t)), 0, "cancel returns nothing")
syscall.cancel(a)
-- Everything until `keep` fires: t and a, due before it, would have come first.
local events = {}
repeat
    local e = check.next_event(10)
    events[#events + 1] = e
until e == nil or (e[1] == "timer" and type(e[2]) == "table" and e[2].id == keep)
check.ok(timer_ids(events)[keep], "a timer that was not cancelled fires (control)")
check.ok(not timer_ids(events)[t], "a cancelled pending timer never arrives")
check.ok(not timer_ids(events, "alarm")[a], "a cancelled pending alarm never arrives")

-- Expired, still in the plugin's queue. Control first: without cancel the
-- event is there when the program next waits.
t = syscall.timer(0)
check.until_expired(t)
syscall.queueEvent("after", {})
local e = table.pack(os.pullEventRaw())
check.ok(e[1] == "timer" and type(e[2]) == "table" and e[2].id == t,
    "an expired timer's event waits ahead of a later event (control)", check.show_event(e))
os.pullEvent("after")
t = syscall.timer(0)
check.until_expired(t)
syscall.cancel(t)
syscall.queueEvent("after", {})
e = table.pack(os.pullEventRaw())
check.eq(e[1], "after", "cancel removes an expired timer's event still in the plugin's queue")

-- Expired and already handed to the emulator in a batch. Control first.
syscall.queueEvent("first", {})
t = syscall.timer(0)
check.until_fired()
os.pullEvent("first")
syscall.queueEvent("after", {})
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "timer" and type(e[2]) == "table" and e[2].id == t,
    "a handed-over timer event arrives next when not cancelled (control)", check.show_event(e))
os.pullEvent("after")

syscall.queueEvent("first", {})
t = syscall.timer(0)
check.until_fired()
os.pullEvent("first") -- the timer's event is handed over in the same batch
syscall.cancel(t)
syscall.queueEvent("after", {})
e = table.pack(os.pullEventRaw())
check.eq(e[1], "after", "cancel stops a timer event already handed over (pullEventRaw)")

-- The same through a plain coroutine.yield() and a filtered os.pullEvent.
syscall.queueEvent("first", {})
t = syscall.timer(0)
check.until_fired()
coroutine.yield("first")
syscall.cancel(t)
syscall.queueEvent("after", {})
e = table.pack(coroutine.yield())
check.eq(e[1], "after", "cancel stops a handed-over timer event (coroutine.yield)")

syscall.queueEvent("first", {})
t = syscall.timer(0)
check.until_fired()
os.pullEvent("first")
syscall.cancel(t)
local native = os.startTimer(0.05)
e = table.pack(os.pullEvent("timer"))
check.ok(e[2] == native, "os.pullEvent(\"timer\") skips a cancelled handed-over timer event",
    check.show_event(e))

-- An alarm that fired and was handed over.
syscall.queueEvent("first", {})
local a2 = syscall.alarm((os.time() + 0.002) % 24)
check.until_fired()
os.pullEvent("first")
check.eq((syscall.peekEvent()), "alarm", "the fired alarm's event is handed over behind 'first'")
syscall.cancel(a2)
syscall.queueEvent("after", {})
e = table.pack(os.pullEventRaw())
check.eq(e[1], "after", "cancel stops an alarm event already handed over")

-- Several handed over: only the cancelled one disappears.
local t1, t2, t3 = syscall.timer(0), syscall.timer(0), syscall.timer(0)
check.until_expired(t1)
syscall.queueEvent("first", {})
syscall.queueEvent("last", {})
coroutine.yield() -- receives t1; what else expired is handed over
syscall.cancel(t2)
-- Until t3 (due after t2, so t2 would have come first) and "last".
local rest, seen_last = {}, false
repeat
    e = check.next_event(10)
    rest[#rest + 1] = e
    seen_last = seen_last or (e ~= nil and e[1] == "last")
until e == nil or (seen_last and timer_ids(rest)[t3])
local ids = timer_ids(rest)
check.ok(not ids[t2], "the cancelled timer among several handed-over events never arrives")
check.ok(ids[t3], "the other handed-over timer events still arrive")
check.done()
