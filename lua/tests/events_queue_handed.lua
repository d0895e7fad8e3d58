-- queueEvent's `Queue full` counts every event not yet received by the
-- program, including those the emulator was already handed in a batch.
local me = syscall.getpid()

for i = 1, 1000 do syscall.queueEvent("mix", { i = i }) end
for i = 1001, 1024 do syscall.sendEvent(me, "mix", { i = i }) end
check.raises("Queue full", "1024 waiting queueEvent+sendEvent events fill the queue",
    syscall.queueEvent, "mix", {})

-- Receiving one of the 1024 makes room for exactly one more, although the
-- emulator took a batch of them out of the plugin's queue meanwhile.
local e = table.pack(os.pullEventRaw())
check.ok(e[1] == "mix" and e[2].i == 1, "the first of the full queue arrives", check.show_event(e))
check.no_error("after one event is received, one more queueEvent fits",
    syscall.queueEvent, "mix", { i = 1025 })
check.raises("Queue full",
    "Queue full counts events handed to the emulator but not yet received",
    syscall.queueEvent, "mix", { i = 1026 })
check.eq(syscall.sendEvent(me, "mix", { i = 1027 }), false,
    "sendEvent to self returns false while 1024 events wait, handed over or not")

-- Drain up to the last accepted one, then whatever else was accepted.
repeat e = table.pack(os.pullEventRaw()) until e[1] == "mix" and e[2].i == 1025
syscall.queueEvent("end", {})
repeat e = table.pack(os.pullEventRaw()) until e[1] == "end"
check.done()
