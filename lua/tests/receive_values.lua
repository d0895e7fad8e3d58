-- Every event arrives as exactly two values, the name and the parameter
-- table, through os.pullEvent, os.pullEventRaw and a plain coroutine.yield.
local me = syscall.getpid()
local receivers = {
    { "os.pullEvent", function() return table.pack(os.pullEvent()) end },
    { "os.pullEventRaw", function() return table.pack(os.pullEventRaw()) end },
    { "coroutine.yield", function() return table.pack(coroutine.yield()) end },
}
local producers = {
    { "queueEvent", function() syscall.queueEvent("own", { x = 1 }) end, "own" },
    { "sendEvent", function() syscall.sendEvent(me, "r", { x = 1 }) end, "remote_event" },
    { "timer", function() syscall.timer(0) end, "timer" },
    { "signal", function() syscall.kill(me, 10) end, "signal" },
    { "alarm", function() syscall.alarm((os.time() + 0.002) % 24) end, "alarm" },
}
for _, r in ipairs(receivers) do
    for _, p in ipairs(producers) do
        p[2]()
        local e = r[2]()
        check.ok(e.n == 2 and e[1] == p[3] and type(e[2]) == "table",
            ("a %s event arrives through %s as exactly two values"):format(p[1], r[1]),
            check.show_event(e) .. " n=" .. tostring(e.n))
    end
end
-- Also the first value count of a filtered pull.
syscall.queueEvent("skip", {})
syscall.queueEvent("want", { 1, 2, 3 })
local e = table.pack(os.pullEvent("want"))
check.ok(e.n == 2 and e[1] == "want" and e[2][3] == 3,
    "a filtered os.pullEvent returns exactly two values", check.show_event(e))
-- And inside a coroutine driven by parallel.
parallel.waitForAll(function()
    syscall.queueEvent("inside", {})
    local p = table.pack(os.pullEvent("inside"))
    check.ok(p.n == 2 and type(p[2]) == "table",
        "inside parallel, an event arrives as exactly two values", check.show_event(p))
end)
check.done()
