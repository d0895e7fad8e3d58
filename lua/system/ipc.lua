-- system.ipc: the IPC module of Phoenix's libsystem, for CraftOS-PC
-- computers running the phoenix-events plugin (which mounts this file at
-- /rom/modules/main/system/ipc.lua, so `require "system.ipc"` finds it).
--
-- Written for phoenix-events to the interface of libsystem's module: the
-- same functions, arguments, return values, signal numbers and socket wire
-- format, so that programs using it need no change. Where it differs
-- (see docs/src/reference/system-ipc.md): receiveEvent ignores native `timer` events (a number
-- parameter), always cancels its timeout timer, and raises `Terminated` on
-- a `terminate` event, as os.pullEvent does; a closed socket reads nil and
-- writes nothing.

local syscall = syscall
if type(syscall) ~= "table" then
    error("system.ipc needs the phoenix-events plugin (there is no syscall table)", 0)
end

local type, select, error, pcall, tostring, tonumber, setmetatable =
    type, select, error, pcall, tostring, tonumber, setmetatable

local ipc = {}

-- `bad argument #1 to 'kill' (expected number, got string)`, at the level of
-- whoever called the library function (CraftOS's and libsystem's wording).
local function expect(index, value, fname, ...)
    local got = type(value)
    for i = 1, select("#", ...) do
        if got == select(i, ...) then return value end
    end
    local wanted = table.concat({ ... }, " or ")
    error(("bad argument #%d to '%s' (expected %s, got %s)"):format(index, fname, wanted, got), 3)
end

--- Signal numbers, as in Phoenix.
ipc.signal = {
    SIGHUP = 1,
    SIGINT = 2,
    SIGQUIT = 3,
    SIGTRAP = 5,
    SIGABRT = 6,
    SIGKILL = 9,
    SIGPIPE = 13,
    SIGTERM = 15,
    SIGCONT = 18,
    SIGSTOP = 19,
    SIGTTIN = 21,
    SIGTTOU = 22,
}

-- (Calls into `syscall` are tail calls: its errors then point at the
-- program that called this library, not at the library.)

function ipc.kill(pid, signal)
    expect(1, pid, "kill", "number")
    expect(2, signal, "kill", "number")
    return syscall.kill(pid, signal)
end

function ipc.sigaction(signal, fn)
    expect(1, signal, "sigaction", "number")
    expect(2, fn, "sigaction", "function", "nil")
    return syscall.signal(signal, fn)
end

function ipc.sendEvent(pid, event, param)
    expect(1, pid, "sendEvent", "number")
    expect(2, event, "sendEvent", "string")
    expect(3, param, "sendEvent", "table")
    return syscall.sendEvent(pid, event, param)
end

function ipc.register(name)
    expect(1, name, "register", "string")
    return syscall.register(name)
end

function ipc.lookup(name)
    expect(1, name, "lookup", "string")
    return syscall.lookup(name)
end

function ipc.sendServiceEvent(name, event, param)
    expect(1, name, "sendServiceEvent", "string")
    expect(2, event, "sendServiceEvent", "string")
    expect(3, param, "sendServiceEvent", "table")
    local pid = syscall.lookup(name)
    if not pid then return false end
    return syscall.sendEvent(pid, event, param)
end

-- Waits for the first matching remote event: its type, data and sender;
-- nil when timer `tm` fires.
local function wait_for(pid, event, tm)
    while true do
        local name, param = coroutine.yield()
        if type(param) == "table" then
            if name == "timer" and tm and param.id == tm then
                return nil
            elseif name == "remote_event" and (pid == nil or param.sender == pid)
                and (event == nil or param.type == event) then
                return param.type, param.data, param.sender
            end
        elseif name == "terminate" then
            error("Terminated", 0)
        end
    end
end

local function finish(tm, ok, ...)
    if tm then syscall.cancel(tm) end
    if not ok then error((...), 0) end
    return ...
end

function ipc.receiveEvent(pid, event, timeout)
    expect(1, pid, "receiveEvent", "number", "nil")
    expect(2, event, "receiveEvent", "string", "nil")
    expect(3, timeout, "receiveEvent", "number", "nil")
    if timeout ~= nil and timeout ~= timeout then
        error("bad argument #3 to 'receiveEvent' (expected a number, got nan)", 2)
    end
    local tm
    if timeout == -math.huge then timeout = 0 end -- (in the past: fires at once)
    if timeout ~= nil and timeout ~= math.huge then tm = syscall.timer(timeout) end
    -- Whatever ends the wait (an event, the timeout, an error), the timer
    -- goes with it. As libsystem's: type and data, or one nil.
    local kind, data = finish(tm, pcall(wait_for, pid, event, tm))
    if kind == nil then return nil end
    return kind, data
end

------------------------------------------------------------------------------
-- Sockets: named, per-peer channels on top of remote events.
-- Wire format (libsystem's): `libsystem.socket_connect.<name>` with
-- `{pid = <connecting pid>}`, then `libsystem.socket_message.<name>` with
-- `{data = <value>}` in both directions.

local socket = {}
local socket_mt = { __index = socket, __name = "socket" }

function socket:status()
    if self.closed then return "closed" end
    return "open"
end

function socket:close()
    self.closed = true
end

local formats = { a = true, l = true, L = true, n = true }

-- Raises (at the reader's caller) for a format libsystem does not know,
-- before any message is taken.
local function check_format(fmt)
    if type(fmt) == "string" and not formats[(fmt:gsub("^%*", ""))] then
        error("invalid format " .. fmt:gsub("^%*", ""), 3)
    end
end

-- One message's data, read in format `fmt` (io-style: a/*a, l, L, n, or a
-- byte count).
local function as_format(data, fmt)
    if fmt == nil then return data end
    if type(fmt) == "number" then return tostring(data):sub(1, fmt) end
    fmt = fmt:gsub("^%*", "")
    if fmt == "a" then return data end
    if fmt == "n" then return tonumber(data) end
    local text = tostring(data)
    if fmt == "l" then return (text:match("^[^\n]*")) end
    return (text:match("^[^\n]*\n?"))
end

local function read_one(self, fmt)
    if self.closed then return nil end
    local kind = "libsystem.socket_message." .. self.name
    while true do
        local _, param = ipc.receiveEvent(self.pid, kind)
        if type(param) == "table" then return as_format(param.data, fmt) end
    end
end

function socket:read(fmt, ...)
    expect(1, fmt, "read", "string", "number", "nil")
    check_format(fmt)
    local value = read_one(self, fmt)
    if select("#", ...) > 0 then return value, self:read(...) end
    return value
end

function socket:write(obj, ...)
    if not self.closed then
        syscall.sendEvent(self.pid, "libsystem.socket_message." .. self.name, { data = obj })
    end
    if select("#", ...) > 0 then return self:write(...) end
end

function ipc.socket(name, pid)
    expect(1, name, "socket", "string")
    expect(2, pid, "socket", "number", "nil")
    if pid ~= nil then
        syscall.sendEvent(pid, "libsystem.socket_connect." .. name, { pid = syscall.getpid() })
        return setmetatable({ pid = pid, name = name }, socket_mt)
    end
    while true do
        local _, param, sender = wait_for(nil, "libsystem.socket_connect." .. name)
        if type(param) == "table" and type(param.pid) == "number" then
            -- A client on another emulator (cluster mode) sends its local
            -- pid: its address here is the event's sender.
            local peer = param.pid
            if sender >= 2 ^ 32 and peer < 2 ^ 32 then peer = sender end
            return setmetatable({ pid = peer, name = name }, socket_mt)
        end
    end
end

return ipc
