-- SIGSTOP / SIGCONT: a stopped computer receives nothing until continued;
-- its timers keep running and their events wait in the queue.
local me = syscall.getpid()

if me == 0 then
    check.ok(check.meet(1), "both computers are up")
    check.ok(check.await_remote("armed"), "computer 1 armed its timer")
    -- Due after computer 1's timer: timers fire in deadline order, so once
    -- this one arrives, computer 1's has fired and its event waits there.
    local after_theirs = syscall.timer(0.3)
    syscall.kill(1, 19)                          -- SIGSTOP
    check.ok(syscall.sendEvent(1, "while_stopped", {}), "events can be queued for a stopped computer")
    check.ok(check.await(function(name, params)
        return name == "timer" and type(params) == "table" and params.id == after_theirs
    end, 30), "computer 1's timer expired while it was stopped")
    local continued_at = os.epoch("utc")
    syscall.kill(1, 18)                          -- SIGCONT
    syscall.sendEvent(1, "bye", { continued_at = continued_at })
    check.done()
    return
end

check.ok(check.meet(0), "both computers are up")
local timer = syscall.timer(0.3)
syscall.sendEvent(0, "armed", {})
local arrivals = {}
while true do
    local name, params = os.pullEventRaw()
    arrivals[#arrivals + 1] = { name = name, params = params, at = os.epoch("utc") }
    if name == "remote_event" and params.type == "bye" then break end
end
local continued_at = arrivals[#arrivals].params.data.continued_at
local order = {}
for _, a in ipairs(arrivals) do
    check.ok(a.at >= continued_at, "nothing arrives before SIGCONT (" .. a.name .. ")",
        ("arrived %d ms before SIGCONT"):format(continued_at - a.at))
    local label = a.name
    if a.name == "remote_event" then label = a.params.type end
    if a.name == "signal" then label = "signal " .. a.params.signal end
    if a.name == "timer" and type(a.params) == "table" then
        label = a.params.id == timer and "my timer" or "other timer"
    end
    order[#order + 1] = label
end
check.eq(table.concat(order, ","), "while_stopped,my timer,signal 18,bye",
    "what waited arrives in order after SIGCONT, which then arrives as a signal event")
check.done()
