-- Programs written the way Phoenix's programs are: `require "system.ipc"`,
-- syscalls by `coroutine.yield("syscall", ...)` (as libsystem's util.syscall
-- and Phoenix's kernel wrapper do), plain `coroutine.yield()` to wait for
-- the next event, no `syscall` table and no `os.*`. The runner sets
-- EXPECT_IPC to the source of the system.ipc module the programs must get:
-- the plugin's mount, or a copy of real libsystem (tests/libsystem.rs).
--
--   computer 0  a service, "calc" (startmgr's init pattern: register, then a
--               loop of plain yields answering "calc.request" remote events
--               to their sender); then one end of a socket; then it signals
--               computer 1 and collects what computer 2 reports
--   computer 1  a client (startmgr.lua's pattern: lookup, sendEvent,
--               receiveEvent with a timeout); the other end of the socket;
--               then forwards every signal to computer 2, as su and sudo
--               forward to their child (handlers that call ipc.kill)
--   computer 2  a child whose handlers report each signal to computer 0
local ipc = require "system.ipc"

-- The kernel's do_syscall / libsystem's util.syscall.
local function sys(name, ...)
    local answer = table.pack(coroutine.yield("syscall", name, ...))
    if answer[1] then return table.unpack(answer, 2, answer.n) end
    error(answer[2], 2)
end

-- libsystem's util.sleep, minus its crash on CraftOS's native timer events
-- (whose parameter is a number).
local function sleep(seconds)
    local tm = sys("timer", seconds)
    repeat
        local event, param = coroutine.yield()
    until event == "timer" and type(param) == "table" and param.id == tm
end

local function until_registered(name)
    local pid = ipc.lookup(name)
    while pid == nil do
        sleep(0.05)
        pid = ipc.lookup(name)
    end
    return pid
end

local me = sys("getpid")
check.eq(debug.getinfo(ipc.kill, "S").source, EXPECT_IPC, "system.ipc is the expected module")

if me == 0 then
    -- The service --------------------------------------------------------------
    check.eq(ipc.register("calc"), true, "the service registers its name")
    check.eq(ipc.register("calc"), false, "a second register of its own name is false")
    local served = 0
    while true do
        local event, param = coroutine.yield()
        if event == "remote_event" and param.type == "calc.request" and type(param.data) == "table" then
            local request = param.data
            served = served + 1
            if request.func == "add" then
                ipc.sendEvent(param.sender, "calc.response",
                    { func = request.func, ok = true, result = { request.param[1] + request.param[2] } })
            elseif request.func ~= "slow" then -- "slow" is never answered
                ipc.sendEvent(param.sender, "calc.response",
                    { func = request.func, ok = false, error = "Unknown function" })
            end
        elseif event == "remote_event" and param.type == "calc.stop" then
            break
        end
    end
    check.eq(served, 3, "the service answered its requests until told to stop")

    -- A socket --------------------------------------------------------------
    local socket = ipc.socket("notes")
    check.eq(socket.pid, 1, "a socket connection from computer 1")
    check.eq(socket:read("l"), "first line", "socket:read(\"l\") reads the first line of a message")
    check.eq(socket:read(), 42, "socket:read() reads the next message as sent")
    socket:write("bye")
    socket:close()
    check.eq(socket:status(), "closed", "the socket is closed")

    -- Signals forwarded by computer 1 to computer 2 --------------------------
    until_registered("forwarder")
    until_registered("child")
    local sent = { ipc.signal.SIGINT, ipc.signal.SIGHUP, ipc.signal.SIGTERM, ipc.signal.SIGQUIT,
        ipc.signal.SIGSTOP, ipc.signal.SIGTTOU }
    for _, signal in ipairs(sent) do ipc.kill(1, signal) end
    local reported = {}
    for i = 1, #sent do
        local _, data = ipc.receiveEvent(2, "forwarded", 30)
        reported[i] = data and data.signal or "none"
    end
    check.eq(table.concat(reported, ","), table.concat(sent, ","),
        "every signal reached the child, through its parent's handlers, in order")

    local ok, err = pcall(ipc.kill, 99, ipc.signal.SIGTERM)
    check.ok(not ok and tostring(err):find("No such process", 1, true),
        "ipc.kill of a missing process raises No such process", tostring(err))
    check.done()
elseif me == 1 then
    -- The client --------------------------------------------------------------
    local pid = until_registered("calc")
    check.eq(pid, 0, "the client finds the service")
    local function request(func, param, timeout)
        ipc.sendEvent(pid, "calc.request", { func = func, param = param })
        while true do
            local kind, data = ipc.receiveEvent(pid, "calc.response", timeout)
            if kind == nil then return nil, "timed out" end
            if data.func == func then
                if data.ok then return table.unpack(data.result) end
                error(data.error, 2)
            end
        end
    end
    check.eq(request("add", { 2, 3 }, 5), 5, "a request is answered")
    check.eq(select(2, pcall(request, "pow", { 2, 3 }, 5)), "Unknown function",
        "an error answer reaches the client")
    check.eq(select(2, request("slow", {}, 0.2)), "timed out", "receiveEvent times out")
    ipc.sendEvent(pid, "calc.stop", {})

    local socket = ipc.socket("notes", 0)
    socket:write("first line\nsecond line", 42)
    check.eq(socket:read(), "bye", "the socket carries messages both ways")

    -- su/sudo: every signal goes to the child.
    for _, signal in pairs(ipc.signal) do
        ipc.sigaction(signal, function() ipc.kill(2, signal) end)
    end
    check.eq(ipc.register("forwarder"), true, "the forwarder is ready")
    check.done()
    while true do coroutine.yield() end
elseif me == 2 then
    for _, signal in ipairs({ 1, 2, 3, 15, 19, 22 }) do
        ipc.sigaction(signal, function(n) ipc.sendEvent(0, "forwarded", { signal = n }) end)
    end
    check.eq(ipc.register("child"), true, "the child is ready")
    check.done()
    while true do coroutine.yield() end
end
