-- sendEvent: events from one sender to one target arrive in the order sent,
-- both ways at once.
local me = syscall.getpid()
local other = 1 - me
check.ok(check.meet(other), "both computers are up")
for i = 1, 200 do syscall.sendEvent(other, "n", { i = i }) end
local expected, bad = 1, nil
while expected <= 200 do
    local p = check.await_remote("n", 30)
    if p == nil then bad = "timed out waiting for " .. expected break end
    if p.data.i ~= expected then bad = ("expected %d, got %s"):format(expected, tostring(p.data.i)) break end
    expected = expected + 1
end
check.ok(bad == nil, "200 numbered events arrive in the order sent", bad)
-- And while the receiver is busy (all handed over in batches).
syscall.sendEvent(other, "ready", {})
check.await_remote("ready", 30)
-- 600 events: more than the emulator takes in one batch (256).
for i = 1, 600 do syscall.sendEvent(other, "m", { i = i }) end
check.busy(0.2)
expected, bad = 1, nil
while expected <= 600 do
    local p = check.await_remote("m", 30)
    if p == nil then bad = "timed out waiting for " .. expected break end
    if p.data.i ~= expected then bad = ("expected %d, got %s"):format(expected, tostring(p.data.i)) break end
    expected = expected + 1
end
check.ok(bad == nil, "600 events sent to a busy computer arrive in order, across batches", bad)
syscall.sendEvent(other, "bye", {})
check.await_remote("bye", 30)
check.done()
