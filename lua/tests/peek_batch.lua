-- peekEvent after a batch hand-over: computer 1 sends three events while
-- computer 0 is stopped, then continues it; 0 then receives one (all three
-- are handed over in one batch), and peekEvent must show the second, not
-- the third.
local me = syscall.getpid()
local other = 1 - me
check.ok(check.meet(other), "both computers are up")

if me == 1 then
    check.await_remote("go", 30)
    for i = 1, 3 do syscall.sendEvent(0, "b", { i = i }) end
    syscall.kill(0, 18) -- SIGCONT, once all three wait
    -- A signal for which 0 has no handler, then one that 0 handles.
    check.await_remote("signal_now", 30)
    syscall.kill(0, 10)
    syscall.sendEvent(0, "after_signal", {})
    check.await_remote("handled_now", 30)
    syscall.kill(0, 12)
    syscall.sendEvent(0, "after_handled", {})
    check.await_remote("finished", 30)
    check.done()
    return
end

syscall.signal(18, function() end) -- SIGCONT brings no event
syscall.kill(me, 19)                -- stopped from the next wait on
syscall.sendEvent(other, "go", {})
local e = table.pack(os.pullEventRaw())
check.ok(e[1] == "remote_event" and e[2].type == "b" and e[2].data.i == 1,
    "the first of three events sent during a busy loop arrives first", check.show_event(e))
local name, params = syscall.peekEvent()
check.ok(name == "remote_event" and params.type == "b" and params.data.i == 2,
    "after a batch, peekEvent shows the second event, not the third",
    check.show_event(table.pack(name, params)))
params.data.i = 20
e = table.pack(os.pullEventRaw())
check.ok(e[2].data.i == 2, "the second event arrives unchanged by the peeked copy", check.show_event(e))
name, params = syscall.peekEvent()
check.ok(name == "remote_event" and params.data.i == 3, "then peekEvent shows the third",
    check.show_event(table.pack(name, params)))
e = table.pack(os.pullEventRaw())
check.ok(e[2].data.i == 3, "the third event arrives third", check.show_event(e))
check.eq(syscall.peekEvent(), nil, "after the batch, peekEvent returns nil")

-- A signal without handler from another computer, seen while busy.
local function something_waits() return syscall.peekEvent() ~= nil end
syscall.sendEvent(other, "signal_now", {})
check.busy_until(something_waits)
name, params = syscall.peekEvent()
check.ok(name == "signal" and params.signal == 10,
    "peekEvent shows a signal event sent by another computer",
    check.show_event(table.pack(name, params)))
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "signal" and e[2].signal == 10, "the signal event is delivered", check.show_event(e))
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "remote_event" and e[2].type == "after_signal", "then the event behind it")

-- A signal that a handler takes is not an event: peek shows what follows.
local handled = 0
syscall.signal(12, function() handled = handled + 1 end)
syscall.sendEvent(other, "handled_now", {})
check.busy_until(something_waits)
name, params = syscall.peekEvent()
check.ok(name == "remote_event" and params.type == "after_handled",
    "peekEvent skips a signal that a handler will take", check.show_event(table.pack(name, params)))
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "remote_event" and e[2].type == "after_handled" and handled == 1,
    "the handler ran and the next event arrives", check.show_event(e))
syscall.sendEvent(other, "finished", {})
check.done()
