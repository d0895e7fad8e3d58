-- The event pipe: sendEvent from one computer to another, then
-- queueEvent/peekEvent on one computer, all through the emulator's event
-- providers.
local me = syscall.getpid()
local other = 1 - me

check.ok(check.meet(other), "both computers are up")
check.ok(syscall.sendEvent(other, "hello", { from = me }), "sendEvent returns true")
local remote = check.await_remote("hello")
check.ok(remote and remote.sender == other and remote.data.from == other,
    "the other computer's event arrives as remote_event")

-- Nothing more comes from the other computer: this computer's queue is ours.
syscall.queueEvent("note", { text = "to myself" })
local name, params = syscall.peekEvent()
check.eq(name, "note", "peekEvent sees the queued event")
check.eq(params and params.text, "to myself", "peekEvent returns its parameters")
local _, event = os.pullEvent("note")
check.eq(event.text, "to myself", "queueEvent reaches os.pullEvent as name, params")
check.done()
