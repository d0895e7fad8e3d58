-- cluster.trust: node 2 accepts from node 1 only signals claiming "user".
-- Node 1: computer 0 root, computer 1 user. Node 2: computer 0 user.
local U = 2 ^ 32
local id = os.getComputerID()
if NODE == 2 then
    syscall.signal(10, function() syscall.sendEvent(U, "ran", { signal = 10 }) end)
    syscall.signal(12, function() syscall.sendEvent(U, "ran", { signal = 12 }) end)
    check.ok(check.meet(U, 60), "meets node 1")
    local ev = check.await_remote("finish", 60)
    check.ok(ev ~= nil, "node 1 finished")
    check.done()
    os.shutdown()
elseif id == 0 then
    check.ok(check.meet(2 * U, 60), "meets node 2 (its handlers are installed)")
    -- This node lets root signal anyone; node 2 does not trust node 1's root.
    syscall.kill(2 * U, 10)
    syscall.sendEvent(1, "go", {})
    local ev = check.await_remote("ran", 60)
    check.eq(ev and ev.data.signal, 12, "the untrusted claim was refused, the trusted one ran")
    syscall.sendEvent(2 * U, "finish", {})
    syscall.sendEvent(1, "finish", {})
    check.done()
    os.shutdown()
else
    check.await_remote("go", 60)
    syscall.kill(2 * U, 12) -- user to user, a claim node 2 accepts
    check.await_remote("finish", 60)
    check.done()
    os.shutdown()
end
