-- Event names are Lua strings: any bytes, kept byte for byte by queueEvent
-- (the event's name) and sendEvent (the remote event's `type`), as CraftOS
-- keeps the names of its own os.queueEvent events.
local me = syscall.getpid()
local names = { "plain", "a\0b", "\255\254x", "caf\233", "\128" }
for _, name in ipairs(names) do
    syscall.queueEvent(name, { name = name })
    local e = table.pack(os.pullEventRaw())
    check.ok(e[1] == name and e[2].name == name,
        "queueEvent keeps the name " .. check.escape(name) .. " byte for byte",
        "got " .. check.escape(e[1]))
    syscall.sendEvent(me, name, name)
    e = table.pack(os.pullEventRaw())
    check.ok(e[1] == "remote_event" and e[2].type == name and e[2].data == name,
        "sendEvent keeps the type " .. check.escape(name) .. " byte for byte",
        "got type " .. check.escape(e[2] and e[2].type))
    syscall.queueEvent(name, {})
    check.ok(syscall.peekEvent() == name, "peekEvent shows the name " .. check.escape(name) .. " byte for byte",
        "got " .. check.escape((syscall.peekEvent())))
    os.pullEventRaw()
end
check.done()
