-- alarm(h): 0 <= h < 24 on the computer's os.time() clock, else `Number out
-- of range`; ID >= 2^31; "alarm", {id = ID} at the next moment the clock
-- reaches h (one in-game hour = 50 real seconds).
check.raises("Number out of range", "alarm(24) raises 'Number out of range'", syscall.alarm, 24)
check.raises("Number out of range", "alarm(-1) raises 'Number out of range'", syscall.alarm, -1)
check.raises("Number out of range", "alarm(NaN) raises 'Number out of range'", syscall.alarm, 0 / 0)
check.raises("Number out of range", "alarm(inf) raises 'Number out of range'", syscall.alarm, math.huge)
check.raises("Number out of range", "alarm(24.5) raises 'Number out of range'", syscall.alarm, 24.5)
local low, high = syscall.alarm(0), syscall.alarm(23.999)
check.ok(low ~= nil and high ~= nil, "alarm(0) and alarm(23.999) are in range")
check.ok(type(low) == "number" and low >= 2 ^ 31 and low < 2 ^ 32 and low == math.floor(low)
    and high >= 2 ^ 31 and high ~= low, "alarm IDs are distinct integers with bit 31 set",
    tostring(low) .. " " .. tostring(high))
syscall.cancel(low)
syscall.cancel(high)

-- Just ahead on the os.time() clock: fires within a fraction of a second.
local soon = syscall.alarm((os.time() + 0.002) % 24)
local e = check.next_event(10)
check.ok(e ~= nil and e.n == 2 and e[1] == "alarm" and type(e[2]) == "table" and e[2].id == soon,
    "an alarm 0.002 in-game hours ahead arrives as \"alarm\", {id = ID}", check.show_event(e))

-- An hour ahead (50 s) does not fire within a second; neither does a time
-- just passed (the next moment the clock reaches it is a day later).
local later = syscall.alarm((os.time() + 1) % 24)
local passed = syscall.alarm((os.time() - 0.02 + 24) % 24)
local events = check.collect(1)
check.eq(#events, 0, "alarms one hour ahead and just passed do not fire within a second")
syscall.cancel(later)
syscall.cancel(passed)
check.done()
