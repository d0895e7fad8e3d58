-- Every call of the syscall table checks its argument types with the
-- CraftOS wording: bad argument #N to 'name' (T expected, got U).
local me = syscall.getpid()
local function bad(n, fname, expected, got)
    return ("bad argument #%d to '%s' (%s expected, got %s)"):format(n, fname, expected, got)
end
local function fn() end
local cases = {
    -- kill(pid, signal)
    { "kill", 1, "number", "string", { "1", 15 } },
    { "kill", 1, "number", "no value", {} },
    { "kill", 1, "number", "nil", { nil, 15 }, 2 },
    { "kill", 1, "number", "table", { {}, 15 } },
    { "kill", 2, "number", "no value", { me } },
    { "kill", 2, "number", "nil", { me, nil }, 2 },
    { "kill", 2, "number", "string", { me, "15" } },
    { "kill", 2, "number", "boolean", { me, true } },
    -- signal(signal, handler)
    { "signal", 1, "number", "string", { "x", fn } },
    { "signal", 1, "number", "no value", {} },
    { "signal", 1, "number", "function", { fn, fn } },
    { "signal", 2, "function", "number", { 10, 5 } },
    { "signal", 2, "function", "string", { 10, "handler" } },
    { "signal", 2, "function", "table", { 10, {} } },
    { "signal", 2, "function", "boolean", { 10, false } },
    -- queueEvent(name, params)
    { "queueEvent", 1, "string", "number", { 1, {} } },
    { "queueEvent", 1, "string", "no value", {} },
    { "queueEvent", 1, "string", "nil", { nil, {} }, 2 },
    { "queueEvent", 1, "string", "table", { {}, {} } },
    { "queueEvent", 2, "table", "no value", { "x" } },
    { "queueEvent", 2, "table", "nil", { "x", nil }, 2 },
    { "queueEvent", 2, "table", "string", { "x", "params" } },
    { "queueEvent", 2, "table", "number", { "x", 5 } },
    -- sendEvent(pid, name, params)
    { "sendEvent", 1, "number", "string", { "1", "x", {} } },
    { "sendEvent", 1, "number", "no value", {} },
    { "sendEvent", 1, "number", "nil", { nil, "x", {} }, 3 },
    { "sendEvent", 2, "string", "no value", { me } },
    { "sendEvent", 2, "string", "nil", { me, nil, {} }, 3 },
    { "sendEvent", 2, "string", "number", { me, 2, {} } },
    { "sendEvent", 2, "string", "table", { me, {}, {} } },
    -- timer(timeout)
    { "timer", 1, "number", "string", { "1" } },
    { "timer", 1, "number", "no value", {} },
    { "timer", 1, "number", "nil", { nil }, 1 },
    { "timer", 1, "number", "table", { {} } },
    -- alarm(time)
    { "alarm", 1, "number", "string", { "6" } },
    { "alarm", 1, "number", "no value", {} },
    { "alarm", 1, "number", "nil", { nil }, 1 },
    { "alarm", 1, "number", "boolean", { false } },
    -- cancel(id)
    { "cancel", 1, "number", "string", { "1" } },
    { "cancel", 1, "number", "no value", {} },
    { "cancel", 1, "number", "nil", { nil }, 1 },
    { "cancel", 1, "number", "table", { {} } },
}
for _, c in ipairs(cases) do
    local fname, n, expected, got, args, count = c[1], c[2], c[3], c[4], c[5], c[6]
    local message = bad(n, fname, expected, got)
    check.raises(message, message, syscall[fname], table.unpack(args, 1, count or #args))
end

-- The error points at the caller's line, as CraftOS's expect does.
local line = debug.getinfo(1, "l").currentline + 1
local err = check.error_of(function() syscall.kill("x", 1) end)
check.ok(err == "startup.lua:" .. line .. ": " .. bad(1, "kill", "number", "string"),
    "an argument error is raised at the caller's position", tostring(err))
line = debug.getinfo(1, "l").currentline + 1
err = check.error_of(function() syscall.timer() end)
check.ok(err == "startup.lua:" .. line .. ": " .. bad(1, "timer", "number", "no value"),
    "timer's argument error is raised at the caller's position", tostring(err))
line = debug.getinfo(1, "l").currentline + 1
err = check.error_of(function() syscall.sendEvent(me, 5) end)
check.ok(err == "startup.lua:" .. line .. ": " .. bad(2, "sendEvent", "string", "number"),
    "sendEvent (a C function) raises its argument errors at the caller's position", tostring(err))
line = debug.getinfo(1, "l").currentline + 1
err = check.error_of(function() syscall.sendEvent(me, "x", { f = print }) end)
check.ok(type(err) == "string" and err:find("startup.lua:" .. line .. ": cannot send a function", 1, true) == 1,
    "sendEvent raises a payload error at the caller's position", tostring(err))

-- A refused call has no effect.
check.eq(syscall.peekEvent(), nil, "calls refused for their arguments queued nothing")

-- The calls without arguments ignore extra ones.
check.no_error("getpid takes no arguments and ignores extra ones", syscall.getpid, "x")
check.no_error("getuser takes no arguments and ignores extra ones", syscall.getuser, {})
check.no_error("peekEvent takes no arguments and ignores extra ones", syscall.peekEvent, 1)
-- sendEvent's params may be of any plain type, nil included.
check.no_error("sendEvent accepts a missing params argument", syscall.sendEvent, 77, "x")
check.done()
