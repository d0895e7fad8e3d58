-- sendEvent's errors in a loop hot enough for LuaJIT to compile: each
-- refused call raises into the caller's pcall, and the compiled code around
-- it goes on. In CraftOS-PC Accelerated, an error raised after the plugin
-- ran Lua on another thread once left LuaJIT's current thread pointing
-- there, and the next trace exit crashed the emulator (7 runs in 10 of this
-- program). Lua 5.2 has no JIT: there it checks the messages only.
local me = syscall.getpid()
local bad = { list = { 1, 2, { f = print } } }
local raised = 0
for _ = 1, 3000 do
    local ok, err = pcall(syscall.sendEvent, me, "x", bad)
    if not ok then
        local found = 0
        for _, needle in ipairs({ "params.list[3].f", "function" }) do
            if err:find(needle, 1, true) then found = found + 1 end
        end
        if found == 2 then raised = raised + 1 end
    end
end
check.eq(raised, 3000, "3000 refused sendEvents in a hot loop each raised, naming the value")
check.eq(syscall.peekEvent(), nil, "and queued nothing")
check.done()
