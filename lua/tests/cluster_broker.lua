-- The broker killed and restarted under two emulators (nodes 1 and 2, one
-- computer each). Each prints "phase ..." lines for the test runner, which
-- kills nats-server after both are "ready" and restarts it after both saw
-- it "down".
local U = 2 ^ 32
local other = (3 - NODE) * U
local mine_name, their_name = "broker.svc" .. NODE, "broker.svc" .. (3 - NODE)

local function now() return os.epoch("utc") end

local function eventually(fn, seconds)
    local deadline = now() + (seconds or 60) * 1000
    repeat
        local value = fn()
        if value then return value end
        check.sleep(0.05)
    until now() > deadline
    return nil
end

local function reachable()
    return pcall(syscall.kill, other, 0)
end

check.eq(syscall.register(mine_name), true, "register while connected")
check.ok(eventually(reachable), "the other node is there")
check.ok(eventually(function() return syscall.lookup(their_name) == other end),
    "its name is visible")
check.ok(check.meet(other, 60), "an event round trip")
print("phase ready")

-- The runner kills the broker now.
check.ok(eventually(function() return not reachable() end, 120), "the broker's loss is noticed")
local t0 = now()
local sent = syscall.sendEvent(other, "lost", {})
local ok, err = pcall(syscall.kill, other, 15)
local elapsed = now() - t0
check.eq(sent, false, "a remote send returns false while the broker is down")
check.ok(not ok and tostring(err):find("No such process", 1, true), "a remote kill raises No such process")
check.ok(elapsed < 1000, "both answer at once", elapsed .. " ms")
check.eq(syscall.lookup(their_name), nil, "the other node's names are unknown")
check.eq(syscall.lookup(mine_name), syscall.getpid(), "this node's own names stay")
check.eq(syscall.sendEvent(syscall.getpid(), "local", { n = 1 }), true, "local sends keep working")
check.eq(check.await_remote("local", 30).data.n, 1, "and arrive")
local id = syscall.timer(0)
check.ok(check.await(function(name, p) return name == "timer" and type(p) == "table" and p.id == id end, 30),
    "timers keep working")
check.eq(syscall.register("broker.offline" .. NODE), true, "register works locally while cut off")
print("phase down")

-- The runner restarts the broker now.
check.ok(eventually(reachable, 120), "the instance reconnects by itself")
check.ok(eventually(function() return syscall.lookup(their_name) == other end),
    "names held across the outage are claimed again")
check.ok(eventually(function() return syscall.lookup("broker.offline" .. (3 - NODE)) == other end),
    "names registered while cut off are claimed once connected")
check.ok(check.meet(other, 60), "events flow again")
check.done()
check.meet(other, 60)
os.shutdown()
