-- sendEvent returns false (never an error) when the payload exceeds 1 MiB.
local me = syscall.getpid()
local other = 1 - me
check.ok(check.meet(other), "both computers are up")
if me == 1 then
    check.await_remote("bye", 30)
    check.done()
    return
end
-- Payload size: up to 1 MiB fits, more is refused with false.
local big = string.rep("x", 1000 * 1000)
check.eq(syscall.sendEvent(me, "big", big), true, "a payload of one million bytes is accepted")
local e = table.pack(os.pullEventRaw())
check.ok(e[2] and e[2].data == big, "the large payload arrives intact")
local ok, result = pcall(syscall.sendEvent, me, "huge", string.rep("y", 1024 * 1024 + 1))
check.ok(ok and result == false, "a string over 1 MiB is refused with false", tostring(result))
local parts = {}
for i = 1, 3 do parts[i] = string.rep(tostring(i), 400 * 1024) end
ok, result = pcall(syscall.sendEvent, me, "huge", parts)
check.ok(ok and result == false, "a table of strings totalling over 1 MiB is refused with false",
    tostring(result))
local many = {}
for i = 1, 200000 do many[i] = i end
ok, result = pcall(syscall.sendEvent, me, "huge", many)
check.ok(ok and result == false, "a table of 200000 numbers (over 1 MiB of values) is refused",
    tostring(result))
ok, result = pcall(syscall.sendEvent, other, "huge", string.rep("z", 2 * 1024 * 1024))
check.ok(ok and result == false, "an oversized payload to another computer is refused with false",
    tostring(result))
check.eq(syscall.peekEvent(), nil, "no refused payload was queued")
syscall.sendEvent(other, "bye", {})
check.done()
