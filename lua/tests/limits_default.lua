-- Run with limits that are all malformed: the defaults apply (queue 1024,
-- payload 1 MiB, timers 4096); the users part of the file still loads.
local me = syscall.getpid()
print("user=" .. syscall.getuser())
check.eq(syscall.sendEvent(me, "p", string.rep("x", 1000)), true, "a 1016-byte payload is sent")
check.eq(syscall.sendEvent(me, "p", string.rep("x", 2 ^ 20)), false, "a payload over 1 MiB is refused")
os.pullEvent("remote_event")
for i = 1, 1024 do syscall.queueEvent("q", {}) end
check.raises("Queue full", "the 1025th event is refused", syscall.queueEvent, "q", {})
for i = 1, 1024 do os.pullEvent("q") end
for i = 1, 4096 do syscall.timer(3600) end
check.raises("Too many timers", "the 4097th timer is refused", syscall.timer, 3600)
check.done()
os.shutdown()
