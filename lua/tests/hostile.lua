-- Hostile programs: none of this may crash the emulator or disturb another
-- computer. Computer 1 misbehaves; computer 0 checks it is still served.
local me = syscall.getpid()

if me == 0 then
    check.ok(check.meet(1), "both computers are up")
    check.ok(check.await_remote("survived", 20), "the hostile computer got through its program")
    syscall.sendEvent(0, "still here", {})
    local _, own = os.pullEvent("remote_event")
    check.eq(own.type, "still here", "this computer is still served")
    check.done()
    return
end

check.ok(check.meet(0), "both computers are up")

-- A handler that signals itself, without end: the 33rd nested handler is
-- refused with an error at the caller, and the program goes on.
local depth, refused = 0, nil
syscall.signal(10, function(n)
    depth = depth + 1
    local ok, err = pcall(syscall.kill, syscall.getpid(), n)
    if not ok then refused = err end
end)
syscall.kill(me, 10)
check.eq(depth, 32, "endless self-signalling in a handler stops at 32 nested handlers, and the program goes on")
check.ok(type(refused) == "string" and refused:find("signal handlers nested more than 32 deep", 1, true),
    "the 33rd is refused with an error", tostring(refused))
-- Again without catching it: the error ends the innermost handler, shown
-- on the computer, and the program goes on.
depth = 0
syscall.signal(10, function(n) depth = depth + 1 syscall.kill(syscall.getpid(), n) end)
syscall.kill(me, 10)
check.eq(depth, 32, "uncaught, it stops there too")

-- Handler errors that are not strings, or whose __tostring fails.
syscall.signal(10, function() error({ code = 42 }) end)
syscall.kill(me, 10)
syscall.signal(10, function() error(setmetatable({}, { __tostring = function() error("worse") end })) end)
syscall.kill(me, 10)
print("after the odd handler errors")

-- Data with hostile metatables: metatables do not travel, nothing is called.
local trap = setmetatable({ a = 1 }, {
    __index = function() error("__index called") end,
    __pairs = function() error("__pairs called") end,
    __len = function() error("__len called") end,
    __eq = function() error("__eq called") end,
})
check.ok(syscall.sendEvent(me, "trap", { trap, trap }), "a table with hostile metatables is sent")
local _, got = os.pullEvent("remote_event")
check.ok(got.data[1] == got.data[2] and getmetatable(got.data[1]) == nil and got.data[1].a == 1,
    "it arrives as plain shared data")
syscall.queueEvent("trap", trap)
local name = syscall.peekEvent()
check.eq(name, "trap", "peekEvent copies a table with hostile metatables")
os.pullEvent("trap")

-- Very deep nesting, to another computer and back.
local deep = {}
local cursor = deep
for _ = 1, 100000 do cursor.next = {}; cursor = cursor.next end
check.eq(syscall.sendEvent(me, "deep", deep), false, "100000-deep data is over the size limit")
-- 9000 tables in a flat list: too many for LuaJIT (false), fine for Lua 5.2.
local many = {}
for i = 1, 9000 do many[i] = {} end
local sent = syscall.sendEvent(me, "many", many)
check.eq(sent, not jit, "9000 tables are sent by Lua 5.2 and refused by LuaJIT, never an error")
if sent then
    local _, got9000 = os.pullEvent("remote_event")
    check.eq(#got9000.data, 9000, "and arrive whole")
end
local ok, err = pcall(syscall.sendEvent, me, "deep", { f = print })
check.ok(not ok and tostring(err):find("params.f", 1, true), "unsendable values are reported, not crashed on")

-- Floods: timers, signals and events beyond every limit.
local refused = 0
for _ = 1, 5000 do
    if not pcall(syscall.timer, 3600) then refused = refused + 1 end
end
check.eq(refused, 5000 - 4096, "timers beyond the limit are refused")
for _ = 1, 5000 do syscall.kill(me, 28) end
local queued = 0
for _ = 1, 2000 do
    if pcall(syscall.queueEvent, "flood", {}) then queued = queued + 1 end
end
check.ok(queued < 2000, "a flood of events is refused once the queue is full")
syscall.sendEvent(0, "survived", {})
check.done()
