-- system.ipc sockets between two computers, in libsystem's wire format:
-- `libsystem.socket_connect.<name>` with {pid = ...}, then
-- `libsystem.socket_message.<name>` with {data = ...}. Computer 2 sends a
-- message on the same socket name that computer 1 must ignore (sockets
-- only hear their peer).
local me = syscall.getpid()
local ipc = require("system.ipc")

if me == 2 then
    check.ok(check.wait_up(1), "computer 1 is up")
    check.await_remote("intrude", 20)
    check.eq(syscall.sendEvent(1, "libsystem.socket_message.t", { data = "intruder" }), true,
        "a third computer sends on the same socket name")
    syscall.sendEvent(0, "intruded", {})
    check.done()
    while true do os.pullEventRaw() end
end

if me == 1 then
    check.ok(check.meet(0), "both computers are up")
    local sock = ipc.socket("t") -- waits for a connection
    check.eq(sock.pid, 0, "an accepted socket names the connecting pid")
    check.eq(getmetatable(sock).__name, "socket", "sockets are of libsystem's type")
    check.eq(sock:status(), "open", "a new socket is open")
    check.eq(sock:read("l"), "line1",
        "read('l') is the first line of the peer's message (another pid's is skipped)")
    check.eq(sock:read("*L"), "line1\n", "read('*L') keeps the newline")
    check.eq(sock:read("n"), 123, "read('n') is a number")
    check.eq(sock:read(3), "abc", "read(n) is the first n characters")
    local t = sock:read()
    check.ok(type(t) == "table" and t.x == 1 and t.nested.y == 2, "read() returns any data as sent")
    local a, b = sock:read("a", "*a")
    check.ok(a == "x" and b == "y", "several formats read several messages")
    check.raises("invalid format z", "an unknown format is an error", sock.read, sock, "z")
    check.raises("bad argument #1 to 'read' (expected string or number or nil, got table)",
        "read checks its format's type", sock.read, sock, {})
    check.eq(sock:read(), "after errors", "a refused format consumed no message")
    check.eq(sock:read(), "raw", "a message in the raw wire format is read")
    sock:write("pong", "second")
    sock:close()
    check.eq(sock:status(), "closed", "close closes it")
    check.eq(sock:read(), nil, "a closed socket reads nil")
    -- A raw connect message in libsystem's format.
    local raw = ipc.socket("raw")
    check.eq(raw.pid, 0, "a raw socket_connect message is accepted (one without a pid number is not)")
    raw:write("over raw")
    check.done()
    while true do os.pullEventRaw() end
end

check.ok(check.meet(1), "both computers are up")
check.sleep(0.2) -- computer 1 is waiting in ipc.socket("t")
local sock = ipc.socket("t", 1)
check.ok(sock.pid == 1 and sock.name == "t" and sock:status() == "open", "connect returns an open socket")
check.ok(check.wait_up(2), "computer 2 is up")
syscall.sendEvent(2, "intrude", {})
check.ok(check.await_remote("intruded", 20), "computer 2 sent its message first")
sock:write("line1\nline2", "line1\nline2")
sock:write("123")
sock:write("abcdef")
sock:write({ x = 1, nested = { y = 2 } })
sock:write("x", "y")
sock:write("after errors")
syscall.sendEvent(1, "libsystem.socket_message.t", { data = "raw" })
local a, b = sock:read(), sock:read()
check.ok(a == "pong" and b == "second", "the accepting side writes back", tostring(a))
check.sleep(0.2)
syscall.sendEvent(1, "libsystem.socket_connect.raw", { pid = "not a number" })
syscall.sendEvent(1, "libsystem.socket_connect.raw", { pid = me })
local params = check.await_remote("libsystem.socket_message.raw", 10)
check.ok(params and params.sender == 1 and params.data.data == "over raw",
    "writes travel as libsystem.socket_message.<name> with {data = ...}")
sock:close()
sock:write("dropped")
check.eq(sock:status(), "closed", "a closed socket's status is closed")
check.done()
