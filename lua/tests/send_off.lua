-- sendEvent to a computer that is off returns false. Computer 2 is switched
-- off by the test (Rust side) while this computer waits for `terminate`.
local target = 2
local deadline = os.clock() + 10
local up = false
while os.clock() < deadline do
    if syscall.sendEvent(target, "ping", {}) then up = true break end
    sleep(0.02)
end
check.ok(up, "sendEvent to a running computer returns true")
print("saw target")
os.pullEventRaw("terminate")
local ok, result = pcall(syscall.sendEvent, target, "ping", {})
check.ok(ok and result == false, "sendEvent to a computer that is off returns false, not an error",
    tostring(result))
check.done()
