-- Native CraftOS events (os.queueEvent, os.startTimer) keep flowing,
-- interleaved with the syscall events, each kind in its own order.
local me = syscall.getpid()
os.queueEvent("native", 1, "two", { 3 })
syscall.queueEvent("mine", { n = 1 })
os.queueEvent("native", 2)
syscall.queueEvent("mine", { n = 2 })
local native_timer = os.startTimer(0.05)
local own_timer = syscall.timer(0.05)
local natives, mine, timers, first_native = {}, {}, {}, nil
local deadline = os.clock() + 10 -- a guard: the loop ends when all arrived
while (#natives < 2 or #mine < 2 or not timers.native or not timers.own) and os.clock() < deadline do
    local e = table.pack(os.pullEventRaw())
    if e[1] == "native" then
        natives[#natives + 1] = e[2]
        if e[2] == 1 then first_native = e end
    elseif e[1] == "mine" then
        mine[#mine + 1] = e[2].n
    elseif e[1] == "timer" and e[2] == native_timer then
        timers.native = e.n == 2
    elseif e[1] == "timer" and type(e[2]) == "table" and e[2].id == own_timer then
        timers.own = e.n == 2
    end
end
check.ok(natives[1] == 1 and natives[2] == 2, "native os.queueEvent events arrive, in order")
check.ok(first_native and first_native.n == 4 and first_native[3] == "two" and first_native[4][1] == 3,
    "a native event keeps all its values", check.show_event(first_native))
check.ok(mine[1] == 1 and mine[2] == 2, "syscall events arrive beside native ones, in order")
check.ok(timers.native, "a native os.startTimer event arrives as \"timer\", number")
check.ok(timers.own, "a syscall timer arrives beside it as \"timer\", {id = ID}")
-- A native timer cancelled with os.cancelTimer still does not arrive.
local cancelled = os.startTimer(0.02)
os.cancelTimer(cancelled)
local events = check.collect(0.2)
local seen = false
for _, e in ipairs(events) do if e[1] == "timer" and e[2] == cancelled then seen = true end end
check.ok(not seen, "os.cancelTimer still works beside the plugin")
check.done()
