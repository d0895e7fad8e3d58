-- A supervisor (computer 0) that starts workers on other computers (1, 2),
-- hands them jobs, restarts a worker that dies, and finally stops them
-- with SIGTERM, then SIGKILL for one that ignores SIGTERM. system.ipc only.
-- Run the same file on three computers:
--   craftos-host --plugin ... --computers 0,1,2 --script lua/examples/ipc-supervisor.lua
--
-- Every computer registers "node.<id>" when it boots: the name lives as long
-- as the computer's process, so the supervisor sees a computer come and go.
-- A worker computer waits idle until the supervisor tells it to "start";
-- it then registers "worker.<id>" and serves jobs. A worker that crashes
-- reboots its computer (as a startup file would): its names are released,
-- the supervisor notices and starts it again when it is back. (To show
-- this, the supervisor asks worker 1 to crash on its first job: that job
-- always goes to worker 1, so the crash happens whatever the timing.)
local ipc = require("system.ipc")
local me = os.getComputerID()
local WORKERS = { 1, 2 }
local JOBS = 6

local function say(fmt, ...) print(("[%s %d] " .. fmt):format(me == 0 and "supervisor" or "worker", me, ...)) end

-- Polls until `fn()` is true; false after `seconds`.
local function wait_until(fn, seconds)
    for _ = 1, seconds * 20 do
        if fn() then return true end
        sleep(0.05)
    end
    return false
end

------------------------------------------------------------------------------
-- Worker side

local function work(options)
    ipc.register("worker." .. me)
    if me == 2 then -- this one shrugs SIGTERM off: the supervisor must SIGKILL it
        ipc.sigaction(ipc.signal.SIGTERM, function() say("ignoring SIGTERM") end)
    end
    say("started")
    local done = 0
    while true do
        local _, job = ipc.receiveEvent(nil, "job")
        if done == options.crash_after then
            error(("worker %d crashed on job %d"):format(me, job.n), 0)
        end
        ipc.sendEvent(job.reply, "result", { n = job.n, value = job.n * job.n, worker = me })
        done = done + 1
    end
end

local function idle()
    ipc.register("node." .. me)
    local _, options = ipc.receiveEvent(0, "start")
    local _, err = pcall(work, options)
    say("died: %s; rebooting", tostring(err))
    os.reboot()
end

------------------------------------------------------------------------------
-- Supervisor side

local function alive(id) return ipc.lookup("worker." .. id) == id end

local function start(id, options)
    assert(wait_until(function() return ipc.lookup("node." .. id) == id end, 20),
        "computer " .. id .. " is not up")
    ipc.sendEvent(id, "start", options or {})
    assert(wait_until(function() return alive(id) end, 10), "worker " .. id .. " did not start")
end

-- Hands out jobs one per worker until every result is in; restarts a
-- worker that died and gives its job to the next free worker.
local function run_jobs()
    local results, queue, busy, restarts = {}, {}, {}, 0
    for n = 1, JOBS do queue[#queue + 1] = n end
    local received = 0
    while received < JOBS do
        for _, id in ipairs(WORKERS) do
            if not busy[id] and #queue > 0 and alive(id) then
                busy[id] = table.remove(queue, 1)
                ipc.sendServiceEvent("worker." .. id, "job", { n = busy[id], reply = me })
            end
        end
        local _, result = ipc.receiveEvent(nil, "result", 0.2)
        if result then
            results[result.n], busy[result.worker] = result.value, nil
            received = received + 1
        end
        for _, id in ipairs(WORKERS) do
            if not alive(id) then
                say("worker %d died; restarting it", id)
                if busy[id] then table.insert(queue, 1, busy[id]) busy[id] = nil end
                start(id)
                restarts = restarts + 1
                say("restarted worker %d", id)
            end
        end
    end
    return results, restarts
end

local function stop(id)
    ipc.kill(id, ipc.signal.SIGTERM)
    if wait_until(function() return ipc.lookup("node." .. id) == nil end, 2) then
        say("worker %d stopped by SIGTERM", id)
        return
    end
    say("worker %d ignored SIGTERM; sending SIGKILL", id)
    ipc.kill(id, ipc.signal.SIGKILL)
    assert(wait_until(function() return ipc.lookup("node." .. id) == nil end, 10), "SIGKILL failed")
    say("worker %d stopped by SIGKILL", id)
end

local function supervise()
    for _, id in ipairs(WORKERS) do start(id, { crash_after = id == 1 and 0 or nil }) end
    say("workers started")
    local results, restarts = run_jobs()
    say("results: %s (%d restart%s)", table.concat(results, " "), restarts, restarts == 1 and "" or "s")
    for _, id in ipairs(WORKERS) do stop(id) end
    say("all workers stopped")
end

if me == 0 then supervise() else idle() end
