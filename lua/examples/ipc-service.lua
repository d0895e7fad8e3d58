-- A request/response service found by name, with system.ipc (Phoenix's
-- libsystem API). Run the same file on three computers:
--   craftos-host --plugin ... --computers 0,1,2 --script lua/examples/ipc-service.lua
-- Computer 0 registers the service "calc"; computers 1 and 2 find it with
-- lookup, send requests with sendServiceEvent and wait for each answer with
-- receiveEvent and a timeout. A request the server does not answer shows
-- the timeout. When every client said goodbye the server stops.
local ipc = require("system.ipc")
local me = os.getComputerID()
local CLIENTS = 2

local function say(fmt, ...) print(("[calc %d] " .. fmt):format(me, ...)) end

local operations = {
    add = function(a, b) return a + b end,
    mul = function(a, b) return a * b end,
}

local function serve()
    assert(ipc.register("calc"), "someone else runs calc")
    say("serving calc")
    local served, left = 0, CLIENTS
    while left > 0 do
        -- receiveEvent gives the type and data, not the sender: requests
        -- carry their reply pid, as in Phoenix.
        local kind, req = ipc.receiveEvent(nil, nil)
        if kind == "request" and operations[req.op] then
            served = served + 1
            ipc.sendEvent(req.from, "response",
                { id = req.id, value = operations[req.op](req.a, req.b) })
        elseif kind == "bye" then
            left = left - 1
        end -- anything else (e.g. an unknown operation) gets no answer
    end
    say("served %d requests; stopping", served)
end

local function find(name)
    for _ = 1, 100 do
        local pid = ipc.lookup(name)
        if pid then return pid end
        sleep(0.1)
    end
    error("no " .. name .. " service")
end

local next_id = 0
local function call(server, op, a, b, timeout)
    next_id = next_id + 1
    ipc.sendServiceEvent("calc", "request", { id = next_id, from = me, op = op, a = a, b = b })
    while true do
        local _, resp = ipc.receiveEvent(server, "response", timeout)
        if resp == nil then return nil end
        if resp.id == next_id then return resp.value end -- (a late answer to an earlier call is skipped)
    end
end

local function client()
    local server = find("calc")
    say("found calc on computer %d", server)
    say("%d + %d = %s", me, 10, tostring(call(server, "add", me, 10, 5)))
    say("%d * %d = %s", me, 7, tostring(call(server, "mul", me, 7, 5)))
    local answer = call(server, "pow", 2, 8, 0.5)
    say("pow: %s", answer == nil and "no answer within 0.5 s" or tostring(answer))
    ipc.sendServiceEvent("calc", "bye", {})
    say("done")
end

if me == 0 then serve() else client() end
