-- peekEvent: the next unreceived event without removing it, nil when there
-- is none, and a copy: changing it does not change what is delivered.
local me = syscall.getpid()

check.eq(syscall.peekEvent(), nil, "peekEvent returns nil when nothing is queued")

syscall.queueEvent("p1", { v = 1, inner = { x = 1 } })
syscall.queueEvent("p2", { v = 2 })
local name, params = syscall.peekEvent()
check.eq(name, "p1", "peekEvent shows the next queued event's name")
check.ok(type(params) == "table" and params.v == 1 and params.inner.x == 1,
    "peekEvent shows the next queued event's parameters")
local again = syscall.peekEvent()
check.eq(again, "p1", "peekEvent does not remove the event")

-- A copy: change every level of it.
params.v = 99
params.added = true
params.inner.x = 42
local _, second = syscall.peekEvent()
check.ok(second ~= params and second.v == 1 and second.added == nil,
    "a second peekEvent returns an unchanged copy")
local e = table.pack(os.pullEventRaw())
check.ok(e[1] == "p1" and e[2].v == 1 and e[2].added == nil and e[2].inner.x == 1,
    "changing peekEvent's table does not change the delivered event", check.show_event(e))

-- p2 is now in the emulator's batch: peek must still show it, as a copy.
name, params = syscall.peekEvent()
check.ok(name == "p2" and params.v == 2, "peekEvent shows an event already handed over",
    check.show_event(table.pack(name, params)))
params.v = -2
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "p2" and e[2].v == 2,
    "changing the peeked copy of a handed-over event does not change it", check.show_event(e))
check.eq(syscall.peekEvent(), nil, "peekEvent returns nil once everything is received")

-- Remote events (sendEvent to self) are peeked the same way, as copies.
syscall.sendEvent(me, "r", { deep = { n = 5 } })
name, params = syscall.peekEvent()
check.ok(name == "remote_event" and params.sender == me and params.type == "r"
    and params.data.deep.n == 5, "peekEvent shows a remote event as remote_event, {sender, type, data}",
    check.show_event(table.pack(name, params)))
params.data.deep.n = 6
params.type = "changed"
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "remote_event" and e[2].type == "r" and e[2].data.deep.n == 5,
    "changing a peeked remote event does not change what is delivered", check.show_event(e))

-- Several events queued and one received: the next one is shown, not a later one.
for i = 1, 3 do syscall.queueEvent("s" .. i, { i = i }) end
os.pullEventRaw()
name, params = syscall.peekEvent()
check.eq(name, "s2", "after receiving one of three queued events, peekEvent shows the second")
os.pullEventRaw()
check.eq((syscall.peekEvent()), "s3", "then the third")
os.pullEventRaw()

-- A signal without a handler is queued as a signal event; peek sees it.
syscall.kill(me, 10)
name, params = syscall.peekEvent()
check.ok(name == "signal" and type(params) == "table" and params.signal == 10,
    "peekEvent shows the signal event of a signal without handler",
    check.show_event(table.pack(name, params)))
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "signal" and e[2].signal == 10, "the peeked signal event is then delivered")

-- An expired timer waiting in the queue is shown...
local function something_waits() return syscall.peekEvent() ~= nil end
local t = syscall.timer(0)
check.busy_until(something_waits)
name, params = syscall.peekEvent()
check.ok(name == "timer" and type(params) == "table" and params.id == t,
    "peekEvent shows an expired timer's event", check.show_event(table.pack(name, params)))
os.pullEventRaw()
-- ...but not once it is cancelled, in the plugin's queue or handed over.
t = syscall.timer(0)
check.busy_until(something_waits)
syscall.cancel(t)
check.eq(syscall.peekEvent(), nil, "peekEvent never shows a cancelled timer's waiting event")
syscall.queueEvent("first", {})
t = syscall.timer(0)
check.until_fired()
os.pullEvent("first") -- the timer event is handed over in the same batch
name = syscall.peekEvent()
check.eq(name, "timer", "the expired timer's event is handed over behind 'first'")
syscall.cancel(t)
check.eq(syscall.peekEvent(), nil, "peekEvent never shows a cancelled timer's handed-over event")
syscall.queueEvent("after", {})
check.eq((syscall.peekEvent()), "after", "peekEvent skips the cancelled timer's event")
os.pullEvent("after")
check.done()
