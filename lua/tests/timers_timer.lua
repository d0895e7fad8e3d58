-- timer(t): an integer ID 0 < id < 2^31, unique among the caller's pending
-- timers and alarms; "timer", {id = ID} queued at expiry; 0 or negative
-- fires as soon as possible; NaN and infinities are errors.
local function is_timer_id(id)
    return type(id) == "number" and id == math.floor(id) and id > 0 and id < 2 ^ 31
end

local start = os.clock()
local t = syscall.timer(0.2)
check.ok(is_timer_id(t), "timer returns an integer ID with 0 < id < 2^31", tostring(t))
local e = check.next_event(10)
local elapsed = os.clock() - start
check.ok(e ~= nil and e.n == 2 and e[1] == "timer" and type(e[2]) == "table" and e[2].id == t,
    "at expiry the event \"timer\", {id = ID} arrives", check.show_event(e))
check.ok(elapsed >= 0.19, "the timer does not fire before its timeout", elapsed)
local keys = 0
for _ in pairs(e and e[2] or {}) do keys = keys + 1 end
check.eq(keys, 1, "the timer event's table holds only id")

-- Fractions of a second: 0.05 fires before 0.15, both in time.
local slow, fast = syscall.timer(0.15), syscall.timer(0.05)
local first = check.next_event(10)
local second = check.next_event(10)
check.ok(first and first[2].id == fast and second and second[2].id == slow,
    "a shorter timeout fires before a longer one set earlier",
    check.show_event(first) .. " " .. check.show_event(second))

-- 0 and negative: as soon as possible, so before a 1 s timer set first
-- (deadline order, whatever the machine's load).
local one_second = syscall.timer(1)
local zero, negative = syscall.timer(0), syscall.timer(-5)
check.ok(is_timer_id(zero) and is_timer_id(negative), "timer(0) and timer(-5) return IDs")
local order = {}
for _ = 1, 3 do
    local ev = check.next_event(10)
    if ev and ev[1] == "timer" and type(ev[2]) == "table" then order[#order + 1] = ev[2].id end
end
check.ok(order[3] == one_second and (order[1] == zero or order[1] == negative)
    and (order[2] == zero or order[2] == negative),
    "timer(0) and timer(-5) fire at once, before a 1 s timer set earlier", table.concat(order, ","))

-- Unique among pending timers and alarms.
local seen, ids, duplicate, bad_id = {}, {}, nil, nil
for i = 1, 300 do
    local id = syscall.timer(100 + i)
    if seen[id] then duplicate = id end
    if not is_timer_id(id) then bad_id = id end
    seen[id] = true
    ids[#ids + 1] = id
end
for _ = 1, 20 do
    local id = syscall.alarm((os.time() + 12) % 24)
    if seen[id] then duplicate = id end
    seen[id] = true
    ids[#ids + 1] = id
end
check.ok(duplicate == nil, "IDs are unique among 300 pending timers and 20 alarms", duplicate)
check.ok(bad_id == nil, "every timer ID is an integer below 2^31", bad_id)
-- Cancel half and create more: still unique among those pending.
for i = 1, #ids, 2 do syscall.cancel(ids[i]) end
local pending = {}
for i = 2, #ids, 2 do pending[ids[i]] = true end
duplicate = nil
for _ = 1, 300 do
    local id = syscall.timer(100)
    if pending[id] then duplicate = id end
    pending[id] = true
    ids[#ids + 1] = id
end
check.ok(duplicate == nil, "new IDs never equal a pending timer's or alarm's ID", duplicate)
for _, id in ipairs(ids) do syscall.cancel(id) end

-- Non-finite timeouts.
check.raises("bad argument #1 to 'timer' (finite number expected, got nan)",
    "timer(NaN) raises the finite-number error naming nan", syscall.timer, 0 / 0)
check.raises("bad argument #1 to 'timer' (finite number expected, got inf)",
    "timer(inf) raises the finite-number error naming inf", syscall.timer, math.huge)
check.raises("bad argument #1 to 'timer' (finite number expected, got -inf)",
    "timer(-inf) raises the finite-number error naming -inf", syscall.timer, -math.huge)
check.eq(syscall.peekEvent(), nil, "no timer event is left over")
check.done()
