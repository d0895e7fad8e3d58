-- Two emulators (nodes 1 and 2) of one cluster: the contract's cross-computer
-- checks between their computers. NODE is set by the test runner.
--   node 1: computer 0 root, computer 1 alice
--   node 2: computer 0 alice, computer 1 bob, computer 2 user (queue limit 512)
local U = 2 ^ 32
local function pid(node, id) return node * U + id end
local id = os.getComputerID()

-- Polls `fn` until it returns a true value (guard: `seconds`, default 30).
local function eventually(fn, seconds)
    local deadline = os.epoch("utc") + (seconds or 30) * 1000
    repeat
        local value = fn()
        if value then return value end
        check.sleep(0.05)
    until os.epoch("utc") > deadline
    return nil
end

local function exists(target)
    local ok, err = pcall(syscall.kill, target, 0)
    return ok or tostring(err):find("Permission denied", 1, true) ~= nil
end

-- Waits for a remote_event of `kind`; returns its params (sender included).
local function await(kind) return check.await_remote(kind, 60) end

if NODE == 1 and id == 0 then ------------------------------------ root
    check.eq(syscall.getpid(), 0, "getpid stays the local computer ID")
    for _, other in ipairs({ pid(2, 0), pid(2, 1), pid(2, 2), 1 }) do
        check.ok(eventually(function() return exists(other) end, 60), "sees " .. other)
    end
    check.eq(syscall.register("pair.svc"), true, "register a name cluster-wide")

    -- Copy rules: shape, integers and floats, bytes, shared tables, cycles.
    local shared = { "x" }
    local data = { n = 7, f = 1.5, big = 2 ^ 40, s = "\0\255 bytes", a = shared, b = shared }
    data.self = data
    check.eq(syscall.sendEvent(pid(2, 0), "data", data), true, "sendEvent to another node is true")
    check.ok(await("data-ok") ~= nil, "the other node saw the data intact")

    -- Per sender→target order. A false means "not now" (a quarter of the
    -- target's queue is on its way, unacknowledged): try again.
    for i = 1, 300 do
        while not syscall.sendEvent(pid(2, 0), "seq", { i = i }) do check.sleep(0.01) end
    end
    local seq = await("seq-ok")
    check.eq(seq and seq.data.ordered, true, "300 events arrive in the order sent")

    -- Missing processes and nodes.
    check.eq(syscall.sendEvent(pid(2, 99), "x", {}), false, "sendEvent to a missing remote computer is false")
    check.eq(syscall.sendEvent(pid(9, 0), "x", {}), false, "sendEvent to a node that is not there is false")
    check.raises("No such process", "kill of a missing remote computer", syscall.kill, pid(2, 99), 0)
    check.raises("No such process", "kill on a node that is not there", syscall.kill, pid(9, 0), 15)

    -- root may signal anyone; bob's handler (installed before he
    -- registered his name) answers.
    check.ok(eventually(function() return syscall.lookup("bob.svc") == pid(2, 1) end),
        "lookup finds a name another node registered")
    syscall.kill(pid(2, 1), 10)
    local answer = await("sig-bob")
    check.ok(answer ~= nil and answer.sender == pid(2, 1), "root's signal ran bob's handler on the other node")

    -- A full queue: stop the target, flood it, continue it.
    syscall.kill(pid(2, 2), 19)
    local accepted, refused = 0, false
    for i = 1, 20000 do
        if syscall.sendEvent(pid(2, 2), "flood", { i = i }) then
            accepted = accepted + 1
        else
            refused = true
            break
        end
        if i % 16 == 0 then check.sleep(0.01) end
    end
    check.ok(refused and accepted >= 16, "a full remote queue refuses events (false)",
        ("accepted %d, refused %s"):format(accepted, tostring(refused)))
    syscall.kill(pid(2, 2), 18)
    check.ok(eventually(function() return syscall.sendEvent(pid(2, 2), "after", {}) end, 60),
        "once the target drained its queue, sends are accepted again")

    -- The registry race: node 2 claims the same name when told to.
    syscall.sendEvent(pid(2, 0), "go-race", {})
    local mine = syscall.register("pair.race")
    local theirs = await("race-result")
    check.ok(theirs ~= nil and mine ~= theirs.data.won, "exactly one owner of a raced name",
        ("mine %s, theirs %s"):format(tostring(mine), tostring(theirs and theirs.data.won)))

    -- SIGKILL across nodes; the dead owner's name is released.
    syscall.kill(pid(2, 1), 9)
    check.ok(eventually(function() return not exists(pid(2, 1)) end),
        "a remote computer killed with SIGKILL is no longer a process")
    check.ok(eventually(function() return syscall.lookup("bob.svc") == nil end),
        "the killed owner's name is released")
    check.ok(eventually(function() return syscall.register("bob.svc") end),
        "and can be registered on this node")

    syscall.sendEvent(1, "finish", {})
    syscall.sendEvent(pid(2, 2), "finish", {})
    syscall.sendEvent(pid(2, 0), "finish", {})
    check.done()
    await("finished")
    os.shutdown()
elseif NODE == 1 and id == 1 then ------------------------------- alice
    syscall.signal(10, function() syscall.sendEvent(pid(2, 0), "sig-alice-ran", {}) end)
    check.eq(syscall.getuser(), "alice", "users come from this node's config")
    for _, other in ipairs({ pid(2, 0), pid(2, 1) }) do
        check.ok(eventually(function() return exists(other) end, 60), "sees " .. other)
    end
    check.ok(check.meet(pid(2, 0), 60), "meets alice of node 2 (both handlers installed)")
    check.raises("Permission denied", "alice may not signal bob on another node", syscall.kill, pid(2, 1), 10)
    syscall.kill(pid(2, 0), 12) -- alice to alice: her handler answers
    local answer = await("sig12-ran")
    check.ok(answer ~= nil and answer.sender == pid(2, 0), "alice signalled alice on another node")
    await("finish")
    check.done()
    os.shutdown()
elseif NODE == 2 and id == 0 then ------------------------------- alice
    syscall.signal(12, function() syscall.sendEvent(pid(1, 1), "sig12-ran", {}) end)
    for _, other in ipairs({ pid(1, 0), pid(1, 1) }) do
        check.ok(eventually(function() return exists(other) end, 60), "sees " .. other)
    end
    check.ok(check.meet(pid(1, 1), 60), "meets alice of node 1 (both handlers installed)")
    check.ok(eventually(function() return syscall.lookup("pair.svc") == pid(1, 0) end),
        "lookup gives the other node's owner as node × 2^32 + ID")
    check.eq(syscall.register("pair.svc"), false, "a name owned on another node cannot be registered")

    local ev = await("data")
    check.eq(ev.sender, pid(1, 0), "the sender is node × 2^32 + ID")
    local d = ev.data
    check.ok(math.type == nil or math.type(d.n) == "integer", "integers stay integers")
    check.eq(d.f, 1.5, "floats stay floats")
    check.eq(d.big, 2 ^ 40, "large numbers are exact")
    check.eq(d.s, "\0\255 bytes", "strings keep their bytes")
    check.ok(d.a == d.b and d.a[1] == "x", "a shared table stays one table")
    check.ok(d.self == d, "a cycle stays a cycle")
    syscall.sendEvent(ev.sender, "data-ok", {})

    local ordered = true
    for i = 1, 300 do
        local e = await("seq")
        if not e or e.data.i ~= i then ordered = false end
    end
    syscall.sendEvent(pid(1, 0), "seq-ok", { ordered = ordered })

    syscall.kill(pid(1, 1), 10) -- alice to alice
    check.ok(await("sig-alice-ran") ~= nil, "a signal ran a handler on the other node")
    check.raises("Permission denied", "alice may not signal root", syscall.kill, pid(1, 0), 10)

    await("go-race")
    syscall.sendEvent(pid(1, 0), "race-result", { won = syscall.register("pair.race") })

    await("finish")
    check.done()
    syscall.sendEvent(pid(1, 0), "finished", {})
    os.shutdown()
elseif NODE == 2 and id == 1 then --------------------------------- bob
    syscall.signal(10, function() syscall.sendEvent(pid(1, 0), "sig-bob", {}) end)
    check.eq(syscall.register("bob.svc"), true, "bob registers a name")
    while true do os.pullEvent() end -- until SIGKILL
elseif NODE == 2 and id == 2 then -------------------------------- user
    while true do
        local _, p = os.pullEvent("remote_event")
        if p.type == "finish" then break end
    end
    check.done()
    os.shutdown()
end
