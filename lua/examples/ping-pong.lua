-- Two computers talk through the Phoenix event syscalls.
--
-- Computer 1 answers "ping" remote events with "pong" and counts SIGUSR1
-- with a handler; computer 0 plays three rounds, sets a timer, signals
-- computer 1 and finally terminates it with SIGTERM (its default action).
-- Run it with `ci/demo` (both computers run this same file).

local me = syscall.getpid()

local function say(fmt, ...)
    print(("[pid %d, %s] " .. fmt):format(me, syscall.getuser(), ...))
end

local function wait_for(kind)
    while true do
        local _, event = os.pullEvent("remote_event")
        if event.type == kind then return event end
    end
end

if me == 1 then
    local usr1 = 0
    syscall.signal(10, function(signal)
        usr1 = usr1 + 1
        say("handler ran for signal %d (%d so far)", signal, usr1)
    end)
    say("ready")
    while not syscall.sendEvent(0, "ready", {}) do sleep(0.05) end -- until pid 0 exists
    while true do
        local ping = wait_for("ping")
        say("ping %d from pid %d: %q", ping.data.n, ping.sender, ping.data.text)
        syscall.sendEvent(ping.sender, "pong", { n = ping.data.n, seen = ping.data })
    end
else
    wait_for("ready")
    for n = 1, 3 do
        local data = { n = n, text = ("round %d"):format(n) }
        data.self = data -- cycles travel too
        syscall.sendEvent(1, "ping", data)
        local pong = wait_for("pong")
        say("pong %d back from pid %d (cycle kept: %s)", pong.data.n, pong.sender,
            tostring(pong.data.seen.self == pong.data.seen))
    end

    local id = syscall.timer(0.25)
    local _, timer = os.pullEvent("timer")
    say("timer %d fired (asked for %d)", timer.id, id)

    syscall.kill(1, 10)
    sleep(0.1)
    syscall.kill(1, 15)
    repeat
        sleep(0.05)
    until not pcall(syscall.kill, 1, 18)
    say("pid 1 is gone: %s", select(2, pcall(syscall.kill, 1, 18)))
    os.shutdown()
end
