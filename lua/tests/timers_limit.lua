-- At most 4096 timers and alarms pending per process: then `Too many timers`.
local ids, failed = {}, nil
for i = 1, 4096 do
    local ok, id = pcall(syscall.timer, 1000)
    if not ok then failed = ("timer %d: %s"):format(i, tostring(id)) break end
    ids[i] = id
end
check.ok(failed == nil, "4096 timers can be pending at once", failed)
check.raises("Too many timers", "the 4097th pending timer raises 'Too many timers'",
    syscall.timer, 1000)
check.raises("Too many timers", "an alarm beyond 4096 pending timers raises 'Too many timers'",
    syscall.alarm, (os.time() + 12) % 24)
syscall.cancel(ids[1])
local ok, id = pcall(syscall.timer, 1000)
check.ok(ok, "after one is cancelled, a timer can be set again", tostring(id))
check.raises("Too many timers", "and the limit holds again", syscall.timer, 0)
-- Expired timers no longer count: make room for one that expires at once
-- and wait for it.
syscall.cancel(id)
ok, id = pcall(syscall.timer, 0)
check.ok(ok, "a timer can be set in the room another cancel made", tostring(id))
local e = check.next_event(10)
check.ok(e and e[1] == "timer" and e[2].id == id, "the new timer fires", check.show_event(e))
check.no_error("a timer can be set once an expired one was received", syscall.timer, 1000)
for _, t in ipairs(ids) do syscall.cancel(t) end
check.done()
