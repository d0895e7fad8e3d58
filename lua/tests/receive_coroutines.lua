-- The plugin's native coroutine.yield/create/wrap behave as Lua's own for
-- coroutines of the program, and its direct delivery of syscall events
-- leaves native events their turn.

-- create/wrap check their argument as the emulator's Lua does (stock Lua
-- says "function expected, got number", CraftOS-PC's "expected function,
-- got number": both name the argument, the type wanted and the type given).
check.raises_containing({ "bad argument #1", "function", "got no value" },
    "coroutine.create checks its argument", function() local co = coroutine.create() return co end)
check.raises_containing({ "bad argument #1", "function", "got number" },
    "coroutine.wrap checks its argument", function() local f = coroutine.wrap(1) return f end)

-- A generator made with wrap yields its values to the caller, not the emulator.
local numbers = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i, -i) end end)
local a, b = numbers()
check.ok(a == 1 and b == -1 and numbers() == 2 and numbers() == 3, "wrap passes yielded values through")

-- Errors inside wrap propagate with their message.
local ok, err = pcall(coroutine.wrap(function() error("boom") end))
check.ok(not ok and tostring(err):find("boom", 1, true) ~= nil, "an error inside wrap propagates", err)

-- Nested coroutines: values go to the one that resumed, and a yield of a
-- program's coroutine takes no event from the queue.
syscall.queueEvent("kept", { n = 1 })
local outer = coroutine.create(function(x)
    local inner = coroutine.create(function(y) local z = coroutine.yield(y + 1) return z * 2 end)
    local _, v = coroutine.resume(inner, x)
    local w = coroutine.yield(v)
    local _, r = coroutine.resume(inner, w)
    return r, coroutine.status(inner)
end)
local _, first = coroutine.resume(outer, 10)
local _, result, status = coroutine.resume(outer, 5)
check.ok(first == 11 and result == 10 and status == "dead", "nested coroutines pass values as in Lua",
    ("%s %s %s"):format(tostring(first), tostring(result), tostring(status)))
check.eq((syscall.peekEvent()), "kept", "a coroutine's yield takes no event from the program")
local _, kept = os.pullEvent("kept")
check.eq(kept.n, 1, "the event is then received by the program")

-- 300 syscall events queued, then one native event: the native event does
-- not wait behind all of them (direct delivery yields to the emulator now
-- and then), and the syscall events still arrive in order.
for i = 1, 300 do syscall.queueEvent("s", { i = i }) end
os.queueEvent("native")
local order, native_at = {}, nil
while #order < 300 or not native_at do
    local name, p = os.pullEvent()
    if name == "s" then order[#order + 1] = p.i elseif name == "native" then native_at = #order end
end
local in_order = true
for i = 1, 300 do if order[i] ~= i then in_order = false end end
check.ok(in_order, "a flood of syscall events arrives in order")
check.ok(native_at < 300, "a native event is not starved by a flood of syscall events",
    "it arrived after " .. tostring(native_at))
check.done()
