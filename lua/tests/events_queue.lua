-- queueEvent: queued for the caller itself, behind what is queued, returns
-- nothing, delivered as exactly `name, params`; refused with `Queue full`
-- when 1024 queueEvent/sendEvent events are waiting.
local me = syscall.getpid()

-- Returns nothing.
check.eq(select("#", syscall.queueEvent("q1", { k = 1, nested = { s = "x" } })), 0,
    "queueEvent returns no value")
syscall.queueEvent("q2", { k = 2 })
syscall.queueEvent("q3", { k = 3 })

-- Delivered as name, params (exactly two values), in order.
local e = table.pack(os.pullEventRaw())
check.eq(e.n, 2, "a queued event arrives as exactly two values")
check.eq(e[1], "q1", "the first queued event arrives first")
check.ok(type(e[2]) == "table" and e[2].k == 1 and e[2].nested.s == "x",
    "the parameter table arrives with its contents", check.show_event(e))
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "q2" and e[2].k == 2, "the second queued event arrives second", check.show_event(e))
-- q3 now waits in the batch the emulator was handed; q4 must come behind it.
syscall.queueEvent("q4", { k = 4 })
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "q3" and e[2].k == 3, "an event already handed over still comes first",
    check.show_event(e))
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "q4" and e[2].k == 4, "a newly queued event comes behind the handed-over one",
    check.show_event(e))

-- Behind what is already queued, of another kind (a remote event to self).
check.ok(syscall.sendEvent(me, "before", {}), "sendEvent to self is accepted")
syscall.queueEvent("behind", {})
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "remote_event" and e[2].type == "before",
    "queueEvent comes behind an earlier remote event", check.show_event(e))
e = table.pack(os.pullEventRaw())
check.eq(e[1], "behind", "the queued event follows the remote event")

-- Queue full: 1024 waiting queueEvent events.
local refused_early
for i = 1, 1024 do
    local err = check.error_of(syscall.queueEvent, "fill", { i = i })
    if err then refused_early = ("event %d refused: %s"):format(i, err) break end
end
check.ok(refused_early == nil, "1024 queueEvent events fit in the queue", refused_early)
check.raises("Queue full", "queueEvent is refused with 'Queue full' when 1024 events wait",
    syscall.queueEvent, "fill", { i = 1025 })
check.ok(syscall.sendEvent(me, "extra", {}) == false,
    "sendEvent to self returns false when 1024 queueEvent events wait")

-- Nothing was dropped: all 1024 arrive in order, then nothing of the refused.
local first_bad
for i = 1, 1024 do
    e = table.pack(os.pullEventRaw())
    if not (e[1] == "fill" and e[2].i == i) then
        first_bad = ("event %d: %s"):format(i, check.show_event(e))
        break
    end
end
check.ok(first_bad == nil, "all 1024 accepted events arrive in order", first_bad)
syscall.queueEvent("marker", {})
e = table.pack(os.pullEventRaw())
check.eq(e[1], "marker", "the refused events never arrive")

-- Mixed: queueEvent and sendEvent events count together.
for i = 1, 1000 do syscall.queueEvent("mix", { i = i }) end
local all_sent = true
for i = 1, 24 do all_sent = syscall.sendEvent(me, "mix", { i = 1000 + i }) and all_sent end
check.ok(all_sent, "sendEvent to self fills the queue up to 1024 events")
check.raises("Queue full", "queueEvent is refused when queueEvent+sendEvent events make 1024",
    syscall.queueEvent, "mix", {})

-- All 1024 arrive in the order queued (local and remote alike), and nothing
-- of the refused one.
local mixed_bad
for i = 1, 1024 do
    e = table.pack(os.pullEventRaw())
    local ok = i <= 1000 and (e[1] == "mix" and e[2].i == i)
        or (e[1] == "remote_event" and e[2].type == "mix" and e[2].data.i == i)
    if not ok then mixed_bad = ("event %d: %s"):format(i, check.show_event(e)) break end
end
check.ok(mixed_bad == nil, "the 1024 accepted mixed events arrive in the order queued", mixed_bad)
syscall.queueEvent("end", {})
e = table.pack(os.pullEventRaw())
check.eq(e[1], "end", "the refused mixed event never arrives")
check.done()
