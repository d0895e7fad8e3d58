-- system.ipc across emulators: a socket between computer 0 of node 1 (the
-- client) and computer 0 of node 2 (the server), and sendServiceEvent.
local ipc = require "system.ipc"
local U = 2 ^ 32
if NODE == 2 then
    check.eq(ipc.register("sock.server"), true, "the server registers its service")
    local s = ipc.socket("echo")
    check.eq(s.pid, U, "the server's socket points at the client's cluster pid")
    local line = s:read()
    s:write("echo: " .. line)
    local _, data = ipc.receiveEvent(U, "note", 60)
    check.eq(data and data.n, 5, "sendServiceEvent reached the service")
    check.done()
    s:write("bye")
    os.shutdown()
else
    local server
    for _ = 1, 600 do
        server = ipc.lookup("sock.server")
        if server then break end
        check.sleep(0.05)
    end
    check.eq(server, 2 * U, "the client finds the server's service")
    local s = ipc.socket("echo", server)
    s:write("hi")
    check.eq(s:read(), "echo: hi", "a socket carries data both ways across emulators")
    check.eq(ipc.sendServiceEvent("sock.server", "note", { n = 5 }), true, "sendServiceEvent across emulators")
    check.eq(s:read(), "bye", "and the server's last word")
    check.done()
    os.shutdown()
end
