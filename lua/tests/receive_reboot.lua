-- Reboot isolation. The Rust test reboots computer 0 from the host while it
-- is busy with events, timers, an alarm and handlers set; the new
-- incarnation must receive nothing addressed to the old one and start with
-- the default handlers. Computer 1 sends events to 0's old incarnation.
local me = syscall.getpid()

if me == 1 then
    check.ok(check.meet(0), "both computers are up")
    check.await_remote("go", 30)
    local sent = 0
    for i = 1, 50 do
        if syscall.sendEvent(0, "stale_remote", { i = i }) then sent = sent + 1 end
    end
    syscall.kill(0, 10)
    syscall.kill(0, 12)
    check.eq(sent, 50, "events sent to the old incarnation were accepted")
    print("sent to old")
    check.done()
    return
end

if os.getComputerLabel() == nil then
    -- The old incarnation.
    os.setComputerLabel("rebooted")
    check.ok(check.meet(1), "both computers are up")
    syscall.signal(10, function() print("OLD HANDLER 10") end)
    syscall.signal(2, nil) -- SIGINT would now arrive as an event
    syscall.signal(12, nil)
    for i = 1, 50 do syscall.queueEvent("stale_local", { i = i }) end
    for i = 1, 50 do syscall.sendEvent(me, "stale_self", { i = i }) end
    for _ = 1, 3 do syscall.timer(0) end -- expire while busy: waiting at reboot
    syscall.timer(0.3)                       -- expires while busy
    syscall.timer(1.5)                       -- still pending at reboot
    syscall.timer(2.0)
    syscall.alarm((os.time() + 0.03) % 24)   -- about 1.5 s ahead
    syscall.kill(me, 12)
    syscall.sendEvent(1, "go", {})
    print("old ready")
    -- Busy (no yield) until the host reboots this computer (signal 0 to
    -- itself fails once it is no longer running); the reboot takes effect
    -- at the next yield.
    while pcall(syscall.kill, me, 0) do end
    os.pullEventRaw()
    print("OLD INCARNATION STILL RECEIVING")
    return
end

-- The new incarnation.
print("new incarnation")
local stale = {}
for _, e in ipairs(check.collect(2.5)) do
    stale[#stale + 1] = check.show_event(e)
end
check.ok(#stale == 0, "nothing addressed to the old incarnation reaches the new one",
    table.concat(stale, " "))
check.eq(syscall.peekEvent(), nil, "the new incarnation's queue starts empty")
syscall.queueEvent("probe", {})
local first = check.next_event(10)
check.ok(first and first[1] == "probe",
    "the first event the new incarnation receives is its own", check.show_event(first))
-- Timer IDs restart; a new timer is not confused with an old one.
local t = syscall.timer(0.05)
local e = check.next_event(10)
check.ok(e and e[1] == "timer" and type(e[2]) == "table" and e[2].id == t,
    "a new timer fires normally after the reboot", check.show_event(e))
e = check.next_event(0.3)
check.eq(e, nil, "no second timer event follows the new one")

-- Handlers are back to the defaults.
syscall.kill(me, 10)
e = check.next_event(10)
check.ok(e and e[1] == "signal" and e[2].signal == 10,
    "SIGUSR1 has no handler again: it arrives as a signal event", check.show_event(e))
syscall.kill(me, 2)
e = check.next_event(10)
check.ok(e and e[1] == "terminate" and e.n == 1,
    "SIGINT's default action is back: a terminate event is delivered", check.show_event(e))
check.done()
