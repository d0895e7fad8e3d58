-- Users and the permission rule of kill. Config (see tests/signals.rs):
-- default_user "guest"; 0 root, 1 and 2 alice, 3 bob; 4 is unlisted.
local me = syscall.getpid()
local users = { [0] = "root", [1] = "alice", [2] = "alice", [3] = "bob", [4] = "guest" }

check.eq(syscall.getpid(), os.getComputerID(), "the pid is the computer ID")
check.eq(syscall.getuser(), users[me], "each computer runs as its configured user")

if me == 1 then
    for pid = 0, 4 do check.ok(check.wait_up(pid), "computer " .. pid .. " is up") end
    check.raises("No such process", "kill of a pid no computer has", syscall.kill, 99, 10)
    check.raises("No such process", "kill checks existence before permission", syscall.kill, 98, 10)
    check.raises("Permission denied", "kill of another user's process is denied", syscall.kill, 3, 10)
    check.raises("Permission denied", "a user cannot signal root", syscall.kill, 0, 10)
    check.raises("Permission denied", "the default user is another user", syscall.kill, 4, 10)
    check.ok(pcall(syscall.kill, 2, 10), "kill of a same-user process is allowed")
    check.ok(syscall.sendEvent(3, "hi", {}), "sendEvent has no user check")
elseif me == 0 then
    for pid = 1, 4 do check.ok(check.wait_up(pid), "computer " .. pid .. " is up") end
    check.ok(pcall(syscall.kill, 3, 10), "root may signal another user's process")
    check.ok(pcall(syscall.kill, 4, 10), "root may signal the default user's process")
end
check.done()
