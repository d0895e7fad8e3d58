-- A cluster configured but never connected: local calls work, remote ones
-- fail at once.
local t0 = os.epoch("utc")
check.eq(syscall.sendEvent(2 * 2 ^ 32, "x", {}), false, "a remote send is false")
check.raises("No such process", "a remote kill raises No such process", syscall.kill, 2 * 2 ^ 32 + 5, 15)
check.ok(os.epoch("utc") - t0 < 1000, "at once")
check.eq(syscall.sendEvent(0, "self", { n = 1 }), true, "a local send works")
check.eq(check.await_remote("self", 30).data.n, 1, "and arrives")
check.eq(syscall.register("alone.svc"), true, "register works locally")
check.eq(syscall.lookup("alone.svc"), 0, "lookup finds it")
check.done()
-- Stays on: the runner reads the emulator's stderr, then ends it.
while true do os.pullEvent() end
