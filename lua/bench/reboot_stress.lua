-- Reboot stress for ci/leakcheck: computer 0 reboots itself BOOTS times,
-- each time leaving timers, an alarm, queued and sent events (200-table
-- payloads with cycles), a handler and a pending signal in flight; computer
-- 1 counts the boots, then SIGKILLs computer 0 and shuts down.
BOOTS = BOOTS or 60
local me = syscall.getpid()
if me == 1 then
    local boots = 0
    while boots < BOOTS do
        local _, ev = os.pullEvent("remote_event")
        if ev.type == "booted" then boots = boots + 1 end
    end
    print(("saw %d boots of computer 0"):format(BOOTS))
    syscall.kill(0, 9)
    os.shutdown()
else
    while not syscall.sendEvent(1, "booted", {}) do sleep(0.01) end
    for i = 1, 20 do syscall.timer(5 + i) end
    syscall.alarm((os.time() + 3) % 24)
    local big = {}
    for i = 1, 200 do big[i] = { i, tostring(i), { shared = big } } end
    for i = 1, 10 do syscall.sendEvent(me, "self", big) syscall.queueEvent("local", big) end
    syscall.signal(10, function() end)
    syscall.kill(me, 12)
    os.reboot()
end
