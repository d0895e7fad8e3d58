-- sendEvent: functions, coroutines and userdata cannot cross computers; a
-- clear error names the offending value's kind and place, and nothing is sent.
local me = syscall.getpid()

check.raises_containing({ "params.a.b[2]", "function" },
    "a function deep inside params is refused, naming params.a.b[2] and function",
    syscall.sendEvent, me, "x", { a = { b = { 1, print } } })
check.raises_containing({ "params", "function" }, "a function as the whole payload is refused",
    syscall.sendEvent, me, "x", print)
check.raises_containing({ "params.co", "coroutine" },
    "a coroutine is refused, naming params.co and coroutine",
    syscall.sendEvent, me, "x", { co = coroutine.create(function() end) })
local userdata = debug.getregistry()[1] -- the emulator's Computer pointer
check.ok(type(userdata) == "userdata", "a userdata value is at hand for the test")
check.raises_containing({ "params.list[3].u", "userdata" },
    "a userdata is refused, naming params.list[3].u and userdata",
    syscall.sendEvent, me, "x", { list = { 1, 2, { u = userdata } } })
check.raises_containing({ "params", "key", "function" },
    "a function used as a table key is refused, saying it is a key",
    syscall.sendEvent, me, "x", { [print] = true })
check.raises_containing({ 'params["not an identifier"]', "function" },
    "a string key that is not an identifier is named in brackets",
    syscall.sendEvent, me, "x", { ["not an identifier"] = print })
-- The error is raised at the caller's line, like a CraftOS error.
local line = debug.getinfo(1, "l").currentline + 1
local err = check.error_of(function() syscall.sendEvent(me, "x", { f = print }) end)
check.ok(err ~= nil and err:find("startup.lua:" .. line .. ":", 1, true) == 1,
    "the error names the caller's position", tostring(err))
-- Nothing was queued by any refused call.
check.eq(syscall.peekEvent(), nil, "a refused sendEvent queues nothing")
-- The same kinds to another computer id that does not exist: still an error.
check.raises_containing({ "params.f", "function" },
    "a function is refused even when the target does not exist",
    syscall.sendEvent, 77, "x", { f = print })
check.done()
