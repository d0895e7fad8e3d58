-- Three emulators (nodes 1, 2, 3; computer 0 each): everyone sends to
-- everyone, and all three race for one name.
local U = 2 ^ 32
local others = {}
for n = 1, 3 do if n ~= NODE then others[#others + 1] = n * U end end

local function eventually(fn, seconds)
    local deadline = os.epoch("utc") + (seconds or 60) * 1000
    repeat
        local value = fn()
        if value then return value end
        check.sleep(0.05)
    until os.epoch("utc") > deadline
    return nil
end

for _, p in ipairs(others) do
    check.ok(check.meet(p, 60), "meets " .. p)
end
local won = syscall.register("three.race")
for _, p in ipairs(others) do syscall.sendEvent(p, "race", { won = won }) end
local winners = won and 1 or 0
for _ = 1, #others do
    local ev = check.await_remote("race", 60)
    if ev and ev.data.won then winners = winners + 1 end
end
check.eq(winners, 1, "exactly one of three racing nodes owns the name")
local owner = won and syscall.getpid() or nil
if not won then
    owner = eventually(function() return syscall.lookup("three.race") end)
    local on_other = false
    for _, p in ipairs(others) do if owner == p then on_other = true end end
    check.ok(on_other, "the others see the winner's pid", tostring(owner))
end
for _, p in ipairs(others) do syscall.sendEvent(p, "bye", {}) end
for _ = 1, #others do check.await_remote("bye", 60) end
check.done()
os.shutdown()
