-- Node 2 (computers 0 and 1) is killed by the test runner (SIGKILL of its
-- emulator); node 1 notices, and node 2's pids and names go.
local U = 2 ^ 32

local function eventually(fn, seconds)
    local deadline = os.epoch("utc") + (seconds or 60) * 1000
    repeat
        local value = fn()
        if value then return value end
        check.sleep(0.02)
    until os.epoch("utc") > deadline
    return nil
end

local function exists(target) return (pcall(syscall.kill, target, 0)) end

if NODE == 2 then
    if os.getComputerID() == 0 then
        check.eq(syscall.register("death.svc"), true, "register on the node that will die")
    end
    check.ok(eventually(function() return exists(U) end), "sees node 1")
    print("phase ready")
    while true do os.pullEvent() end
else
    check.ok(eventually(function() return exists(2 * U) and exists(2 * U + 1) end), "sees node 2")
    check.ok(eventually(function() return syscall.lookup("death.svc") == 2 * U end), "sees its name")
    check.eq(syscall.register("death.svc"), false, "the name is taken")
    print("phase ready")
    check.ok(eventually(function() return not exists(2 * U) and not exists(2 * U + 1) end, 120),
        "the dead node's pids become No such process")
    print("phase gone")
    check.raises("No such process", "kill says so", syscall.kill, 2 * U + 1, 15)
    check.eq(syscall.sendEvent(2 * U, "x", {}), false, "sendEvent is false")
    check.eq(syscall.lookup("death.svc"), nil, "its names are released")
    check.ok(eventually(function() return syscall.register("death.svc") end, 60),
        "and can be registered again")
    check.done()
    os.shutdown()
end
