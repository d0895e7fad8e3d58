-- The Lua half of the `syscall` table, run once per boot by the plugin's
-- opener, before the BIOS.
--
-- It does three things:
-- 1. builds the `syscall` table: argument checks with CraftOS wording, and
--    errors raised at the caller's level, around the plugin's natives;
-- 2. builds the dispatcher of Phoenix's calling convention,
--    `coroutine.yield("syscall", name, ...)`, which the native yield calls
--    (crates/binding/src/syscall_yield.rs);
-- 3. installs the plugin's native `coroutine.yield`, `coroutine.create` and
--    `coroutine.wrap` (crates/binding/src/fast.rs): every event the emulator hands
--    to this computer's top-level coroutine passes through them first. That
--    is how `peekEvent` knows which events the program has already received,
--    and how a cancelled timer's event is kept from the program even after
--    it was handed over. `coroutine.resume` stays Lua's own.
--    In the CraftOS-PC Accelerated build (LuaJIT, no continuations) the
--    waits of the top-level coroutine also need a Lua frame: see "Waiting
--    through a Lua frame" below.
local native = ...

local type, select, error, pcall, tostring = type, select, error, pcall, tostring

------------------------------------------------------------------------------
-- Errors

-- `bad argument #1 to 'kill' (number expected, got string)`, raised at the
-- level of whoever called the syscall.
local function expect(name, index, wanted, count, value)
    local got = index > count and "no value" or type(value)
    if got ~= wanted then
        error(("bad argument #%d to '%s' (%s expected, got %s)"):format(index, name, wanted, got), 3)
    end
end

-- Signal numbers are integers from 0 to 2^31 - 1; anything else (negative,
-- fractional, NaN, infinite) is an argument error, raised at the caller's level.
local function expect_signal(name, index, value)
    if not (value >= 0 and value <= 2147483647 and value % 1 == 0) then
        error(("bad argument #%d to '%s' (invalid signal)"):format(index, name), 3)
    end
end

-- Any error value as text; never raises (a __tostring may fail).
local function describe(message)
    local ok, text = pcall(tostring, message)
    if ok and type(text) == "string" then return text end
    return "(" .. type(message) .. " error value that cannot be shown)"
end

-- Shows a message on this computer as printError does. Never raises.
local function show_error(message)
    local text = describe(message)
    local print_error = _G.printError
    if type(print_error) == "function" and pcall(print_error, text) then return end
    local print_line = _G.print
    if type(print_line) == "function" and pcall(print_line, text) then return end
    pcall(native.stderr, text)
end

------------------------------------------------------------------------------
-- Signal handlers

local handler_depth = native.handler_depth
-- The same count, for the Lua wait loop below.
local handlers = 0

-- Runs a handler where the emulator cannot be yielded to (the native yield
-- refuses while the depth is above 0). Its errors are shown on the computer
-- and the program goes on.
local function run_handler(handler, signal)
    handler_depth(1)
    handlers = handlers + 1
    local ok, err = pcall(handler, signal)
    handlers = handlers - 1
    handler_depth(-1)
    -- Even showing the error may fail (at Lua's C-stack limit, say): the
    -- program goes on regardless.
    if not ok then pcall(show_error, err) end
end

------------------------------------------------------------------------------
-- Coroutines

coroutine.yield, coroutine.create, coroutine.wrap = native.yield, native.create, native.wrap

------------------------------------------------------------------------------
-- Waiting through a Lua frame (the Accelerated build only:
-- crates/binding/src/fast/lua_wait.rs)
--
-- LuaJIT has no continuations: when the emulator resumes the top-level
-- coroutine, the event goes straight to the Lua code that yielded. So the
-- ROM's waits get a Lua frame around the yield: the BIOS, which runs after
-- this, defines os.pullEventRaw as `return coroutine.yield(filter)`, and
-- that definition is replaced, as it is made, by `pull_event_raw` below.
-- os.pullEvent, sleep, read, parallel, the shell and multishell all wait
-- through it. Tail calls only: no table per wait.

if native.wait_top then
    local wait_top, wait_next, wait_resumed = native.wait_top, native.wait_next, native.wait_resumed
    local native_yield, running = native.yield, coroutine.running
    local wait

    -- The event of a direct delivery, or the one the emulator resumed the
    -- wait with: the program's, or wait again (cancelled, after shutdown,
    -- filtered out).
    local function resumed(filter, ...)
        if wait_resumed(filter, ...) then return ... end
        return wait(filter)
    end

    function wait(filter)
        return resumed(filter, wait_next(filter))
    end

    -- os.pullEventRaw: the BIOS's own for every coroutine but the
    -- top-level one, and inside signal handlers (where the native yield
    -- raises), and while a program has replaced coroutine.yield (which the
    -- BIOS's would call).
    local top -- the top-level coroutine, once it has waited
    local function pull_event_raw(filter)
        local yield = coroutine.yield -- looked up at call time, as the BIOS does
        if yield == native_yield and handlers == 0 then
            local current = running()
            if current == top or (top == nil and wait_top()) then
                top = current
                return wait(filter)
            end
        end
        return yield(filter)
    end

    -- Only a definition that is exactly the ROM's is replaced: a custom
    -- BIOS's own os.pullEventRaw stays (its waits are then untracked, see
    -- lua_wait.rs). LuaJIT compares the code without debug information.
    local dump = string.dump
    local function plain(sFilter) return coroutine.yield(sFilter) end
    local function is_plain(f)
        if not jit then return true end -- Lua 5.2: the test build of this path
        if type(dump) ~= "function" then return true end
        local ok, code = pcall(dump, f, true)
        return ok and code == dump(plain, true)
    end

    local os_table = os
    if type(os_table) == "table" and getmetatable(os_table) == nil then
        setmetatable(os_table, {
            __newindex = function(t, key, value)
                if key == "pullEventRaw" then
                    setmetatable(t, nil)
                    if type(value) == "function" and is_plain(value) then value = pull_event_raw end
                end
                rawset(t, key, value)
            end,
        })
    end
end

------------------------------------------------------------------------------
-- The syscall table

local syscall = {}

function syscall.getpid()
    return native.getpid()
end

function syscall.getuser()
    return native.getuser()
end

function syscall.kill(...)
    local count, pid, signal = select("#", ...), ...
    expect("kill", 1, "number", count, pid)
    expect("kill", 2, "number", count, signal)
    expect_signal("kill", 2, signal)
    local err = native.kill(pid, signal)
    if err then error(err, 2) end
end

function syscall.signal(...)
    local count, signal, handler = select("#", ...), ...
    expect("signal", 1, "number", count, signal)
    expect_signal("signal", 1, signal)
    if handler ~= nil then expect("signal", 2, "function", count, handler) end
    local err = native.signal(signal, handler)
    if err then error(err, 2) end
end

function syscall.queueEvent(...)
    local count, name, params = select("#", ...), ...
    expect("queueEvent", 1, "string", count, name)
    expect("queueEvent", 2, "table", count, params)
    local err = native.queue_event(name, params)
    if err then error(err, 2) end
end

function syscall.peekEvent()
    return native.peek_event()
end

-- A C function (crates/binding/src/send.rs): its own argument checks, same wording.
syscall.sendEvent = native.send_event

function syscall.timer(...)
    local count, timeout = select("#", ...), ...
    expect("timer", 1, "number", count, timeout)
    local id, err = native.timer(timeout)
    if err then error(err, 2) end
    return id
end

function syscall.alarm(...)
    local count, time = select("#", ...), ...
    expect("alarm", 1, "number", count, time)
    local id, err = native.alarm(time)
    if err then error(err, 2) end
    return id
end

function syscall.cancel(...)
    local count, id = select("#", ...), ...
    expect("cancel", 1, "number", count, id)
    native.cancel(id)
end

-- The service registry (Phoenix's register/lookup).

function syscall.register(...)
    local count, name = select("#", ...), ...
    expect("register", 1, "string", count, name)
    return native.register(name)
end

function syscall.lookup(...)
    local count, name = select("#", ...), ...
    expect("lookup", 1, "string", count, name)
    return native.lookup(name)
end

-- The process view (Phoenix's getplist/getpinfo).

function syscall.getplist()
    return native.getplist()
end

-- A table, or `nil, "No such process"` / `nil, "Permission denied"` (as
-- values, as Phoenix's getpinfo answers).
function syscall.getpinfo(...)
    local count, pid = select("#", ...), ...
    expect("getpinfo", 1, "number", count, pid)
    return native.getpinfo(pid)
end

------------------------------------------------------------------------------
-- Phoenix's calling convention: coroutine.yield("syscall", name, ...)
--
-- The native yield calls `dispatch` in a protected call, with the name and
-- the arguments, and returns its answer from the yield: `true, results...`,
-- or `false, message` where the syscall table raises `message`. The
-- functions are this computer's own, captured here: replacing or removing
-- the global `syscall` table changes nothing. They are called from `pcall`
-- (a C function), so the errors they raise at their caller's level carry
-- no position: the message is the bare one ("No such process").

local calls = {}
for name, fn in pairs(syscall) do calls[name] = fn end

local function answer(ok, ...)
    if ok then return true, ... end
    return false, describe((...))
end

-- Any name that is not one of these syscalls (a non-string included) gets
-- Phoenix's answer.
local function dispatch(name, ...)
    local call = calls[name]
    if call == nil then return false, "No such syscall" end
    return answer(pcall(call, ...))
end

return syscall, run_handler, show_error, dispatch
