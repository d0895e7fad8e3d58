-- Signal numbers are integers from 0 to 2^31 - 1. Signal 0 only checks that
-- the target exists and may be signalled; anything else is an argument error.
-- Computer 0 (alice) drives; computer 1 (alice) is a target that records
-- the signal events it gets; computer 2 (bob) may not be signalled by 0.
local me = syscall.getpid()
if me == 2 then
    while true do os.pullEventRaw() end
elseif me == 1 then
    -- Signal events until SIGUSR1 (10), which the driver sends last.
    local got = {}
    repeat
        local name, params = os.pullEventRaw()
        if name == "signal" then got[#got + 1] = params.signal end
    until got[#got] == 10
    check.eq(table.concat(got, ","), "12,10", "signal 0 sent nothing between 12 and 10")
    check.done()
    return
end
check.ok(check.wait_up(1), "computer 1 is up")
check.ok(check.wait_up(2), "computer 2 is up")

local function invalid(n, fname) return ("bad argument #%d to '%s' (invalid signal)"):format(n, fname) end
for _, bad in ipairs({ -1, -0.5, 1.5, 15.25, 0 / 0, math.huge, -math.huge, 2 ^ 31, 2 ^ 53 }) do
    local text = tostring(bad)
    check.raises(invalid(2, "kill"), "kill(pid, " .. text .. ") is an invalid signal", syscall.kill, 1, bad)
    check.raises(invalid(1, "signal"), "signal(" .. text .. ", fn) is an invalid signal",
        syscall.signal, bad, function() end)
    check.raises(invalid(1, "signal"), "signal(" .. text .. ", nil) is an invalid signal", syscall.signal, bad, nil)
end
-- Even for a missing pid the signal number is checked first.
check.raises(invalid(2, "kill"), "kill(missing, -1): the signal is checked", syscall.kill, 42, -1)

-- Raised at the caller's level.
local line = debug.getinfo(1, "l").currentline + 1
local err = check.error_of(function() syscall.kill(1, 2.5) end)
check.ok(err == "startup.lua:" .. line .. ": " .. invalid(2, "kill"),
    "an invalid signal is raised at the caller's position", tostring(err))
line = debug.getinfo(1, "l").currentline + 1
err = check.error_of(function() syscall.signal(-3, nil) end)
check.ok(err == "startup.lua:" .. line .. ": " .. invalid(1, "signal"),
    "signal's invalid signal is raised at the caller's position", tostring(err))

-- The largest signal number is valid: a handler can be installed and run.
local got
check.no_error("signal(2^31 - 1, fn) is accepted", syscall.signal, 2 ^ 31 - 1, function(s) got = s end)
check.no_error("kill(me, 2^31 - 1) is accepted", syscall.kill, me, 2 ^ 31 - 1)
check.eq(got, 2 ^ 31 - 1, "the handler of 2^31 - 1 ran with its number")
check.no_error("a float with an integer value is a signal", syscall.kill, 1, 12.0)

-- Signal 0: the same errors as kill, and nothing sent.
check.raises("No such process", "kill(missing, 0) says No such process", syscall.kill, 42, 0)
check.no_error("kill(me, 0) succeeds", syscall.kill, me, 0)
check.no_error("kill(1, 0) succeeds", syscall.kill, 1, 0)
check.raises("Permission denied", "kill(bob's, 0) says Permission denied", syscall.kill, 2, 0)
check.eq(syscall.peekEvent(), nil, "kill(me, 0) queued nothing")
syscall.kill(1, 10)
check.done()
