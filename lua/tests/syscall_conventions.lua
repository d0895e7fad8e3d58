-- The same checks of every syscall through each way of calling it; the
-- runner sets CONVENTION first:
--   "table"      pcall(syscall[name], ...)             (the syscall table)
--   "yield"      coroutine.yield("syscall", name, ...)  (Phoenix's convention)
--   "libsystem"  pcall(util.syscall[name], ...)         (real libsystem's
--                util.lua, which yields; needs its files, see tests/libsystem.rs)
-- Each answers `true, results...` or `false, message`; the messages are the
-- bare ones ("No such process"): pcall and the yield have no position to
-- add. Then, through the same `call`, the convention's promises: any
-- coroutine at any depth, parallel, inside a signal handler, errors that
-- never escape; for "yield" also its own edge cases.
--
-- Users (config): 0 alice, 1 alice, 2 bob. Computer 1 echoes "ping" remote
-- events as "pong"; computer 2 only exists; computer 0 runs the checks.
local me = os.getComputerID()

local call
if CONVENTION == "table" then
    call = function(name, ...) return pcall(syscall[name], ...) end
elseif CONVENTION == "yield" then
    call = function(name, ...) return coroutine.yield("syscall", name, ...) end
elseif CONVENTION == "libsystem" then
    local util = require "util"
    call = function(name, ...) return pcall(util.syscall[name], ...) end
else
    error("set CONVENTION to table, yield or libsystem")
end

if me == 1 then
    check.eq(table.pack(call("register", "conv.peer"))[2], true, "the peer registers")
    check.done()
    while true do
        local _, params = os.pullEvent("remote_event")
        if params.type == "ping" then call("sendEvent", params.sender, "pong", params.data) end
    end
elseif me == 2 then
    check.done()
    while true do os.pullEventRaw() end
end

-- Computer 0 ----------------------------------------------------------------------

local function show(packed)
    local parts = {}
    for i = 1, packed.n do
        local v = packed[i]
        parts[i] = type(v) == "string" and ("%q"):format(v) or tostring(v)
    end
    return "(" .. table.concat(parts, ", ") .. ")"
end

-- The answer is exactly `expected...` (plain values).
local function answers(name, expected, fname, ...)
    local got = table.pack(call(fname, ...))
    local same = got.n == expected.n
    for i = 1, expected.n do same = same and got[i] == expected[i] end
    return check.ok(same, name, ("expected %s, got %s"):format(show(expected), show(got)))
end

local function succeeds(name, fname, ...)
    local got = table.pack(call(fname, ...))
    check.ok(got[1] == true, name, "got " .. show(got))
    return table.unpack(got, 2, got.n)
end

local function fails(message, name, fname, ...)
    return answers(name, table.pack(false, message), fname, ...)
end

-- Polls until `fn` holds (a generous guard, not a schedule).
local function eventually(fn)
    local deadline = os.clock() + 30
    while not fn() do
        if os.clock() > deadline then return false end
        check.sleep(0.05)
    end
    return true
end

check.ok(eventually(function()
    local _, pid = call("lookup", "conv.peer")
    local _, err = call("kill", 2, 0)
    return pid == 1 and err == "Permission denied"
end), "computers 1 and 2 are up")

-- Identity
answers("getpid", table.pack(true, 0), "getpid")
answers("getuser", table.pack(true, "alice"), "getuser")

-- kill
answers("kill of a process of the same user", table.pack(true), "kill", 1, 0)
fails("Permission denied", "kill of another user's process", "kill", 2, 0)
fails("No such process", "kill of a missing process", "kill", 99, 15)
fails("bad argument #1 to 'kill' (number expected, got string)", "kill's argument error", "kill", "1", 15)
fails("bad argument #2 to 'kill' (number expected, got no value)", "kill without a signal", "kill", 1)
fails("bad argument #2 to 'kill' (invalid signal)", "kill of a fractional signal", "kill", 1, 1.5)

-- signal, and a handler that calls a syscall the same way
local seen = {}
answers("signal installs a handler", table.pack(true), "signal", 10, function(sig)
    seen[#seen + 1] = sig
    seen.inside = table.pack(call("getpid"))
end)
answers("kill to itself runs the handler", table.pack(true), "kill", 0, 10)
check.eq(seen[1], 10, "the handler ran before kill returned")
check.eq(seen.inside and show(seen.inside), "(true, 0)", "a syscall inside the handler answers")
answers("signal removes the handler", table.pack(true), "signal", 10, nil)
fails("bad argument #1 to 'signal' (invalid signal)", "signal's argument error", "signal", -1, nil)
fails("bad argument #2 to 'signal' (function expected, got number)", "signal's handler must be a function",
    "signal", 10, 5)
answers("kill to itself without a handler", table.pack(true), "kill", 0, 10)
local _, signal_params = os.pullEvent("signal")
check.eq(signal_params.signal, 10, "the signal arrives as an event")

-- queueEvent, peekEvent
answers("queueEvent", table.pack(true), "queueEvent", "conv.local", { n = 1 })
local peeked = table.pack(call("peekEvent"))
check.ok(peeked[1] == true and peeked[2] == "conv.local" and type(peeked[3]) == "table"
    and peeked[3].n == 1 and peeked.n == 3, "peekEvent answers the next event and a copy", show(peeked))
local _, local_params = os.pullEvent("conv.local")
check.eq(local_params.n, 1, "the queued event arrives")
answers("peekEvent with nothing waiting", table.pack(true, nil), "peekEvent")
fails("bad argument #2 to 'queueEvent' (table expected, got nil)", "queueEvent's argument error",
    "queueEvent", "x", nil)

-- sendEvent
answers("sendEvent to a live process", table.pack(true, true), "sendEvent", 1, "ping", { text = "hi" })
local pong = check.await_remote("pong", 30)
check.eq(pong and pong.data.text, "hi", "the peer answered")
answers("sendEvent to a missing process", table.pack(true, false), "sendEvent", 99, "ping", {})
fails("cannot send a function to another computer (found at params[1]); only nil, booleans, "
    .. "numbers, strings and tables can be sent", "sendEvent of a function", "sendEvent", 1, "x",
    { print })
fails("bad argument #1 to 'sendEvent' (number expected, got string)", "sendEvent's argument error",
    "sendEvent", "1", "x", {})

-- timer, alarm, cancel
local id = succeeds("timer", "timer", 0)
check.ok(type(id) == "number" and id > 0 and id < 2 ^ 31, "a timer id", tostring(id))
local _, timer_params = check.await(function(name, params)
    return name == "timer" and type(params) == "table" and params.id == id
end, 30)
check.eq(timer_params and timer_params.id, id, "the timer fires")
fails("bad argument #1 to 'timer' (finite number expected, got nan)", "timer of NaN", "timer", 0 / 0)
fails("Number out of range", "alarm out of range", "alarm", 24)
local alarm = succeeds("alarm", "alarm", 12)
check.ok(type(alarm) == "number" and alarm >= 2 ^ 31, "an alarm id has bit 31 set", tostring(alarm))
answers("cancel", table.pack(true), "cancel", alarm)
answers("cancel of an unknown id", table.pack(true), "cancel", 12345)

-- register, lookup
answers("register", table.pack(true, true), "register", "conv.zero")
answers("register again", table.pack(true, false), "register", "conv.zero")
answers("lookup", table.pack(true, 0), "lookup", "conv.zero")
answers("lookup of a free name", table.pack(true, nil), "lookup", "conv.nobody")
fails("bad argument #1 to 'register' (string expected, got no value)", "register's argument error",
    "register")

-- getplist, getpinfo
local list = succeeds("getplist", "getplist")
check.eq(type(list) == "table" and table.concat(list, ",") or tostring(list), "0,1,2",
    "getplist lists every process in order")
local info = succeeds("getpinfo of a process of the same user", "getpinfo", 1)
check.ok(type(info) == "table" and info.id == 1 and info.user == "alice" and info.state == "running"
    and type(info.events) == "number" and info.timers == 0 and info.services[1] == "conv.peer",
    "getpinfo describes it", type(info) == "table" and textutils.serialize(info) or tostring(info))
answers("getpinfo of another user's process", table.pack(true, nil, "Permission denied"), "getpinfo", 2)
answers("getpinfo of a missing process", table.pack(true, nil, "No such process"), "getpinfo", 99)
fails("bad argument #1 to 'getpinfo' (number expected, got string)", "getpinfo's argument error",
    "getpinfo", "1")

-- A name that is no syscall: Phoenix's answer (the table has no such field)
if CONVENTION == "table" then
    check.eq(syscall.fork, nil, "an unknown syscall is no field of the table")
else
    fails("No such syscall", "an unknown syscall", "fork")
end

-- Any depth ----------------------------------------------------------------------
local co = coroutine.create(function()
    local inner = coroutine.wrap(function()
        return coroutine.wrap(function() return call("getpid") end)()
    end)
    return inner()
end)
local resumed = table.pack(coroutine.resume(co))
check.eq(show(resumed), "(true, true, 0)", "three coroutines deep, the syscall answers at once")
check.eq(coroutine.status(co), "dead", "and the resumer never saw a yield")

local failing = coroutine.create(function()
    local a = table.pack(call("kill", 99, 15))
    return a[1], a[2], "still running"
end)
check.eq(show(table.pack(coroutine.resume(failing))), '(true, false, "No such process", "still running")',
    "a failing syscall in a coroutine answers and the coroutine goes on")

local from_parallel = {}
parallel.waitForAll(function()
    from_parallel[1] = show(table.pack(call("getpid")))
    os.pullEvent("conv.both")
    from_parallel[2] = show(table.pack(call("lookup", "conv.zero")))
end, function()
    from_parallel[3] = show(table.pack(call("queueEvent", "conv.both", {})))
end)
check.eq(table.concat(from_parallel, " "), "(true, 0) (true, 0) (true)",
    "in parallel's coroutines, before and after waiting for an event")

-- Real libsystem's util.lua beyond util.syscall --------------------------------------
if CONVENTION == "libsystem" then
    local util = require "util"
    local tm = util.timer(0)
    local _, fired = check.await(function(name, params)
        return name == "timer" and type(params) == "table" and params.id == tm
    end, 30)
    check.eq(fired and fired.id, tm, "util.timer")
    local alarm_id = util.alarm(12)
    check.ok(alarm_id >= 2 ^ 31, "util.alarm", tostring(alarm_id))
    check.no_error("util.cancel", util.cancel, alarm_id)
    util.queueEvent("conv.util", { n = 2 })
    check.eq(util.peekEvent(), "conv.util", "util.queueEvent and util.peekEvent")
    local filtered, filtered_params = util.filterEvent("conv.util")
    check.eq(filtered .. " " .. tostring(filtered_params.n), "conv.util 2", "util.filterEvent")
    util.queueEvent("conv.pull", {})
    check.eq(util.pullEvent(), "conv.pull", "util.pullEvent")
    check.no_error("util.sleep while no native timer fires", util.sleep, 0.05)
    os.startTimer(0)
    check.raises_containing({ "attempt to index" }, "util.sleep fails on a native timer event (a number)",
        util.sleep, 0.5)
    check.raises_containing({ "No such syscall" }, "util.startEvents needs newthread", util.startEvents)
    check.eq(table.concat(util.split("a:b:c", ":"), " "), "a b c", "util.split")
    local parsed = util.argparse({ v = false, n = "number" }, "-v", "-n", "3", "rest")
    check.eq(tostring(parsed.v) .. parsed.n .. parsed[1], "true3rest", "util.argparse")
    check.eq(util.type(setmetatable({}, { __name = "thing" })), "thing", "util.type")
    check.eq(util.crc32("123456789"), 0xCBF43926, "util.crc32")
    local original = { 1, { 2 } }
    local copy = util.copy(original)
    check.ok(copy ~= original and copy[2] ~= original[2] and copy[2][1] == 2, "util.copy")
end

-- Phoenix's convention itself ------------------------------------------------------
if CONVENTION == "yield" then
    for _, name in ipairs({ "5", "nil", "{}", "true" }) do
        local value = load("return " .. name)()
        check.eq(show(table.pack(coroutine.yield("syscall", value))), '(false, "No such syscall")',
            "a non-string name (" .. name .. ") is no syscall")
    end
    check.eq(show(table.pack(coroutine.yield("syscall", "getpid", "extra", 1))), "(true, 0)",
        "extra arguments are passed on (and ignored here)")
    check.eq(show(table.pack(coroutine.yield("syscall", "__index"))), '(false, "No such syscall")',
        "a name that is no syscall is not looked up elsewhere")

    os.queueEvent("syscall", "payload")
    check.eq(show(table.pack(coroutine.yield("syscall"))), '("syscall", "payload")',
        "coroutine.yield(\"syscall\") alone still waits for an event named syscall")
    os.queueEvent("syscall", "again")
    check.eq(show(table.pack(os.pullEvent("syscall"))), '("syscall", "again")',
        "and os.pullEvent(\"syscall\") with it")

    local saved = syscall
    syscall = { getpid = function() return 42 end }
    check.eq(show(table.pack(coroutine.yield("syscall", "getpid"))), "(true, 0)",
        "a replaced syscall table changes nothing")
    syscall = nil
    check.eq(show(table.pack(coroutine.yield("syscall", "lookup", "conv.zero"))), "(true, 0)",
        "nor a removed one")
    syscall = saved

    local raised = table.pack(coroutine.yield("syscall", "signal", 12, function()
        error("inside")
    end))
    check.eq(raised[1], true, "a handler that raises is installed")
    check.eq(show(table.pack(coroutine.yield("syscall", "kill", 0, 12))), "(true)",
        "its error is the handler's, not the syscall's")
    coroutine.yield("syscall", "signal", 12, nil)

    -- CraftOS-PC only: this program runs in a multishell tab; another tab's
    -- program (its own coroutine, resumed by multishell) calls too.
    if multishell and not fs.isReadOnly("/") then
        local file = fs.open("/conv_tab.lua", "w")
        file.write('local ok, pid = coroutine.yield("syscall", "getpid")\n'
            .. 'coroutine.yield("syscall", "queueEvent", "conv.tab", { ok = ok, pid = pid })\n')
        file.close()
        multishell.launch({}, "/conv_tab.lua")
        local _, tab = check.await(function(name) return name == "conv.tab" end, 30)
        check.ok(tab and tab.ok == true and tab.pid == 0, "a program in another multishell tab calls too",
            tab and textutils.serialize(tab) or "no event")
        fs.delete("/conv_tab.lua")
    end

    -- Deep recursion of syscalls from a handler: still answers, never escapes.
    local depth = 0
    coroutine.yield("syscall", "signal", 10, function()
        depth = depth + 1
        if depth < 50 then coroutine.yield("syscall", "kill", 0, 10) end
    end)
    local deep = table.pack(coroutine.yield("syscall", "kill", 0, 10))
    check.ok(deep[1] == true or (deep[1] == false and type(deep[2]) == "string"),
        "handlers that signal themselves again and again still get answers", show(deep))
    check.ok(depth > 1, "and ran recursively", tostring(depth))
    coroutine.yield("syscall", "signal", 10, nil)
end

check.done()
