-- Signal handlers: when and where they run, their argument, errors, yields,
-- signals to oneself, replacing and removing handlers (defaults included).
local me = syscall.getpid()

if me == 0 then
    check.ok(check.meet(1), "both computers are up")
    check.ok(check.await_remote("stopped"), "computer 1 is stopped")
    syscall.sendEvent(1, "e1", {})
    syscall.kill(1, 10)                                 -- SIGUSR1: handled on 1
    syscall.kill(1, 18)                                 -- SIGCONT: both wait now
    check.ok(check.await_remote("phase2"), "computer 1 reached phase 2")
    syscall.kill(1, 12)                                 -- SIGUSR2: no handler on 1
    check.done()
    return
end

-- Computer 1, the target.
local calls = {}
syscall.signal(10, function(...)
    calls[#calls + 1] = {
        count = select("#", ...), signal = (...),
        pid = syscall.getpid(), id = os.getComputerID(),
    }
end)
check.ok(check.meet(0), "both computers are up")

-- While this computer is stopped, computer 0 sends "e1" and then SIGUSR1,
-- then continues it.
syscall.signal(18, function() end) -- SIGCONT brings no event
syscall.kill(me, 19)               -- stopped from the next wait on
syscall.sendEvent(0, "stopped", {})
local _, first = check.await(function(name) return name == "remote_event" or name == "signal" end)
check.eq(first and first.type, "e1", "the event sent before the signal arrives first")
check.eq(#calls, 1, "the handler ran before the program received its next event")
check.eq(calls[1] and calls[1].count, 1, "a handler gets exactly one argument")
check.eq(calls[1] and calls[1].signal, 10, "a handler gets the signal number")
check.eq(calls[1] and calls[1].id, 1, "a handler runs on the target computer")
syscall.queueEvent("marker", {})
local next_name = check.await(function(name) return name == "signal" or name == "marker" end)
check.eq(next_name, "marker", "a handled signal queues no signal event")

-- Computer 0 sends SIGUSR2, which has no handler here.
syscall.sendEvent(0, "phase2", {})
local got = table.pack(os.pullEvent("signal"))
check.eq(got.n, 2, "a signal event is exactly two values")
check.eq(got[2].signal, 12, "a signal without handler arrives as signal, {signal = n}")

-- Signals to oneself.
local ran = false
syscall.signal(12, function() ran = true end)
syscall.kill(me, 12)
check.ok(ran, "a signal to oneself runs its handler before kill returns")
syscall.signal(12, nil)
syscall.kill(me, 12)
local _, own = os.pullEvent("signal")
check.eq(own.signal, 12, "with its handler removed, a signal to oneself is an event")

-- Defaults are handlers too: replaced, then removed.
local term = nil
syscall.signal(15, function(n) term = n end)
syscall.kill(me, 15)
check.eq(term, 15, "a handler replaces the default SIGTERM action")
syscall.signal(15, nil)
syscall.kill(me, 15)
local _, removed = os.pullEvent("signal")
check.eq(removed.signal, 15, "with SIGTERM's handler removed, SIGTERM arrives as an event")
syscall.signal(2, nil)
syscall.kill(me, 2)
local _, int = os.pullEventRaw()
check.eq(int and int.signal, 2, "with SIGINT's handler removed, SIGINT arrives as an event")

-- A failing handler is reported and the program goes on.
syscall.signal(10, function() error("handler failed on purpose") end)
syscall.kill(me, 10)
print("after the failing handler")

-- A handler that tries to yield gets a clear error.
syscall.signal(10, function() os.pullEvent("never") end)
syscall.kill(me, 10)
print("after the yielding handler")

-- Inside a handler, coroutines of its own may still yield to it.
local sum = nil
syscall.signal(10, function()
    local numbers = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
    sum = numbers() + numbers() + numbers()
end)
syscall.kill(me, 10)
check.eq(sum, 6, "a handler may run coroutines of its own")

check.ok(pcall(syscall.signal, 9, function() end), "a handler for SIGKILL is accepted")
check.done()
