-- Default actions seen from another computer: after SIGTERM, SIGHUP,
-- SIGPIPE, SIGQUIT, SIGABRT or SIGKILL (also on a stopped computer) the
-- target is no process any more; after SIGUSR1 it still is.
local me = syscall.getpid()
local PROBE = 28 -- a signal with no default action

local function gone(pid, seconds)
    local deadline = os.clock() + (seconds or 5)
    while os.clock() < deadline do
        local ok, err = pcall(syscall.kill, pid, PROBE)
        if not ok then return tostring(err):sub(-#"No such process") == "No such process" end
        check.sleep(0.05)
    end
    return false
end

if me == 0 then
    for pid = 1, 8 do check.ok(check.wait_up(pid), "computer " .. pid .. " is up") end
    check.ok(check.await_remote("stopped", 30), "computer 7 stopped itself")
    local sent = { [1] = 15, [2] = 1, [3] = 13, [4] = 3, [5] = 6, [6] = 9, [7] = 9, [8] = 10 }
    for pid = 1, 8 do syscall.kill(pid, sent[pid]) end
    check.ok(gone(1), "SIGTERM ends the process")
    check.ok(gone(2), "SIGHUP ends the process")
    check.ok(gone(3), "SIGPIPE ends the process")
    check.ok(gone(4), "SIGQUIT ends the process")
    check.ok(gone(5), "SIGABRT ends the process")
    check.ok(gone(6), "SIGKILL ends the process")
    check.ok(gone(7), "SIGKILL ends a stopped process")
    check.ok(not gone(8, 0.5), "SIGUSR1 has no default action")
    check.done()
elseif me == 7 then
    check.wait_up(0)
    syscall.kill(me, 19)
    syscall.sendEvent(0, "stopped", {})
    while true do os.pullEventRaw() end
else
    while true do os.pullEventRaw() end
end
