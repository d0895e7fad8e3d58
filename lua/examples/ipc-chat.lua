-- A two-computer chat over system.ipc sockets (libsystem's API and wire
-- format). Run the same file on two computers:
--   craftos-host --plugin ... --computers 0,1 --script lua/examples/ipc-chat.lua
-- Computer 0 registers "chat" and waits for a connection; computer 1 finds
-- it by name and connects. Each side then reads and writes at the same time
-- (parallel): the lines here are scripted; a real chat would read them from
-- the keyboard with read().
local ipc = require("system.ipc")
local me = os.getComputerID()

local script = {
    [0] = { "hello from 0", "how are you?", "/quit" },
    [1] = { "hi 0, this is 1", "fine, thanks", "/quit" },
}

local function say(fmt, ...) print(("[chat %d] " .. fmt):format(me, ...)) end

local sock
if me == 0 then
    assert(ipc.register("chat"), "chat is taken")
    say("waiting for a connection")
    sock = ipc.socket("chat")
else
    local server
    repeat
        server = ipc.lookup("chat")
        if not server then sleep(0.1) end
    until server
    sock = ipc.socket("chat", server)
end
say("connected to computer %d", sock.pid)

parallel.waitForAll(
    function() -- receive until the other side quits
        while true do
            local line = sock:read("l")
            if line == "/quit" then break end
            say("<%d> %s", sock.pid, line)
        end
    end,
    function() -- send
        for _, line in ipairs(script[me]) do
            sock:write(line)
            sleep(0.1)
        end
    end)
sock:close()
say("closed (%s)", sock:status())
