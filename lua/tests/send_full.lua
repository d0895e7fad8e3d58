-- sendEvent returns false (never an error) when the target's queue is full
-- (1024 events waiting); nothing is dropped.
local me = syscall.getpid()
local other = 1 - me
check.ok(check.meet(other), "both computers are up")

if me == 1 then
    -- Stopped (receiving nothing) while computer 0 fills this computer's
    -- queue; computer 0 continues it afterwards.
    check.await_remote("hold", 30)
    syscall.signal(18, function() end) -- SIGCONT brings no event
    syscall.kill(me, 19)
    syscall.sendEvent(0, "holding", {})
    -- Exactly the 1024 accepted events, in order, then the marker.
    local bad
    for i = 1, 1024 do
        local e = table.pack(os.pullEventRaw())
        if not (e[1] == "remote_event" and e[2].type == "flood" and e[2].data == i) then
            bad = ("event %d: %s"):format(i, check.show_event(e))
            break
        end
    end
    check.ok(bad == nil, "a full target keeps its 1024 events, in order", bad)
    syscall.sendEvent(0, "drained", {})
    check.ok(check.await_remote("later", 30) ~= nil, "an event sent after the drain arrives")
    check.done()
    return
end

-- Full queue, on itself: 1024 accepted, the 1025th refused with false.
local refused
for i = 1, 1024 do
    if syscall.sendEvent(me, "self", i) ~= true then refused = i break end
end
check.ok(refused == nil, "1024 events to itself are accepted", refused)
local ok, result = pcall(syscall.sendEvent, me, "self", 1025)
check.ok(ok and result == false, "sendEvent returns false when the target's queue is full",
    tostring(result))
local bad
for i = 1, 1024 do
    local e = table.pack(os.pullEventRaw())
    if not (e[1] == "remote_event" and e[2].data == i) then bad = i break end
end
check.ok(bad == nil, "the 1024 accepted events arrive in order", bad)
check.eq(syscall.peekEvent(), nil, "the refused event never arrives")

-- Full queue on another computer that is stopped.
syscall.sendEvent(other, "hold", {})
check.ok(check.await_remote("holding", 30) ~= nil, "the other computer is holding")
local accepted = 0
for i = 1, 1024 do
    if syscall.sendEvent(other, "flood", i) then accepted = accepted + 1 end
end
check.eq(accepted, 1024, "1024 events to a stopped computer are accepted")
check.eq(syscall.sendEvent(other, "flood", 1025), false,
    "sendEvent to another computer with a full queue returns false")
syscall.kill(other, 18) -- a signal still fits: continue it
check.ok(check.await_remote("drained", 30) ~= nil, "the other computer drained its queue")
check.eq(syscall.sendEvent(other, "later", {}), true, "once drained, the target accepts events again")

check.done()
