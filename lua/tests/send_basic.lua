-- sendEvent: any process to any, itself included, with no user check; the
-- target gets "remote_event", {sender = <caller pid>, type = name, data = params};
-- true when queued, false (not an error) for a missing pid.
-- Run with computer 0 as "alice" and computer 1 as "bob".
local me = syscall.getpid()
local other = 1 - me
check.ok(check.meet(other), "both computers are up")
check.ok(syscall.getuser() ~= "root", "this computer does not run as root")

-- Computer 1 only answers, so that nothing from it disturbs 0's own events.
if me == 1 then
    local hi = check.await_remote("hi", 30)
    check.ok(hi ~= nil and hi.sender == 0 and hi.data.from == 0,
        "an event from a computer of another user arrives with its sender pid and data")
    check.eq(syscall.sendEvent(0, "hi", { from = 1, list = { 1, 2, 3 } }), true,
        "sendEvent back to a computer of another user returns true")
    check.ok(check.await_remote("bye", 30) ~= nil, "the other computer finished")
    check.done()
    return
end

-- To the other computer, whose user differs: no user check.
check.eq(syscall.sendEvent(other, "hi", { from = me }), true,
    "sendEvent to a computer of another user returns true")
local got = check.await_remote("hi", 30)
check.ok(got ~= nil and got.sender == other and got.type == "hi" and got.data.from == other
    and got.data.list[3] == 3, "the other computer's answer arrives with its sender pid and data")

-- To itself.
local sent = table.pack(syscall.sendEvent(me, "self", { x = 1 }))
check.ok(sent.n == 1 and sent[1] == true, "sendEvent to itself returns exactly true")
local e = table.pack(os.pullEventRaw())
check.ok(e.n == 2 and e[1] == "remote_event", "a remote event arrives as remote_event, params",
    check.show_event(e))
local p = e[2]
check.ok(p.sender == me and p.type == "self" and type(p.data) == "table" and p.data.x == 1,
    "a remote event to itself carries sender, type and data", check.show_event(e))
local keys = 0
for _ in pairs(p) do keys = keys + 1 end
check.eq(keys, 3, "remote_event params hold exactly sender, type and data")

-- A missing pid is not an error: false.
for _, pid in ipairs({ 77, -1, 65536, 2 ^ 40, 1.5 }) do
    local ok, result = pcall(syscall.sendEvent, pid, "nobody", {})
    check.ok(ok and result == false, "sendEvent to missing pid " .. tostring(pid) .. " returns false",
        tostring(result))
end
-- Names are any string; data may be absent.
check.eq(syscall.sendEvent(me, "", nil), true, "an empty name and nil data are accepted")
e = table.pack(os.pullEventRaw())
check.ok(e[1] == "remote_event" and e[2].type == "" and e[2].data == nil and e[2].sender == me,
    "nil data arrives as a nil data field", check.show_event(e))
check.eq(syscall.sendEvent(me, "noparams"), true, "params may be omitted")
e = table.pack(os.pullEventRaw())
check.ok(e[2].type == "noparams" and e[2].data == nil, "omitted params arrive as nil data")
check.eq(syscall.sendEvent(me, "a\0b", {}), true, "a name with a zero byte is accepted")
e = table.pack(os.pullEventRaw())
check.eq(e[2].type, "a\0b", "the name arrives with its zero byte")

syscall.sendEvent(other, "bye", {})
check.done()
