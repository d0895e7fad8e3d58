-- The service registry: syscall.register / syscall.lookup between two
-- computers. First live owner wins; a name is released when its owner's
-- incarnation ends (reboot, SIGKILL); argument errors in CraftOS wording.
-- Computer 1 boots twice (its label marks the second boot).
local me = syscall.getpid()

local function bad(n, fname, got)
    return ("bad argument #%d to '%s' (string expected, got %s)"):format(n, fname, got)
end

-- Polls `fn` until it is true or `seconds` pass.
local function eventually(fn, seconds)
    local deadline = os.clock() + seconds
    while not fn() do
        if os.clock() > deadline then return false end
        check.sleep(0.02)
    end
    return true
end

if me == 1 and os.getComputerLabel() == "second boot" then
    check.eq(syscall.lookup("svc.first"), nil, "a reboot released the old incarnation's name")
    check.eq(syscall.register("svc.second"), true, "the new incarnation registers")
    local ipc = require("system.ipc")
    check.eq(type(ipc.register), "function", "system.ipc is still mounted after the reboot")
    check.eq(#fs.list("/rom/modules/main/system"), 1, "and mounted once")
    -- Done before telling computer 0, which then ends this computer with
    -- SIGKILL: afterwards, this computer may never run again.
    check.done()
    syscall.sendEvent(0, "second boot up", {})
    while true do os.pullEventRaw() end
end

-- Argument errors (both computers, first boot).
check.raises(bad(1, "register", "number"), "register(1)", syscall.register, 1)
check.raises(bad(1, "register", "no value"), "register()", syscall.register)
check.raises(bad(1, "lookup", "table"), "lookup({})", syscall.lookup, {})
check.raises(bad(1, "lookup", "nil"), "lookup(nil)", syscall.lookup, nil)

if me == 1 then
    os.setComputerLabel("second boot")
    check.ok(check.meet(0), "both computers are up")
    check.eq(syscall.register("svc.first"), true, "a free name is registered")
    check.eq(syscall.register("svc.first"), false, "registering a name one owns again is false")
    check.await_remote("zero registered", 10)
    check.eq(syscall.register("svc.zero"), false, "a name another live process owns is refused")
    check.eq(syscall.lookup("svc.zero"), 0, "lookup names the owner on another computer")
    syscall.sendEvent(0, "one registered", {})
    check.await_remote("reboot", 10)
    check.done()
    os.reboot()
end

-- Computer 0 drives.
check.ok(check.meet(1), "both computers are up")
check.eq(syscall.lookup("nobody.owns.this"), nil, "lookup of a free name is nil")
check.eq(syscall.register("svc.zero"), true, "computer 0 registers its name")
check.eq(syscall.register("\0\255 bytes"), true, "names are byte strings")
check.eq(syscall.lookup("\0\255 bytes"), 0, "and are found byte for byte")
syscall.sendEvent(1, "zero registered", {})
check.await_remote("one registered", 10)
check.eq(syscall.lookup("svc.first"), 1, "lookup finds computer 1's name")
check.eq(syscall.register("svc.first"), false, "computer 0 cannot take it while 1 lives")

syscall.sendEvent(1, "reboot", {})
check.ok(check.await_remote("second boot up", 20), "computer 1 came back")
check.eq(syscall.lookup("svc.first"), nil, "the name of the old incarnation stays released")
check.eq(syscall.lookup("svc.second"), 1, "the new incarnation's name is found")

syscall.kill(1, 9)
check.ok(eventually(function() return syscall.lookup("svc.second") == nil end, 10),
    "SIGKILL releases the killed computer's names")
check.eq(syscall.register("svc.second"), true, "a released name can be taken by another computer")
check.eq(syscall.lookup("svc.second"), 0, "which now owns it")
check.done()
