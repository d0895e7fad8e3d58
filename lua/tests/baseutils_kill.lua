-- Phoenix baseutils' own kill.lua (GPL-3.0, copied next to this program by
-- the runner as /kill.lua; never in this repository), unchanged, in
-- CraftOS-PC's shell: `require "system.ipc"` finds the plugin's module, or
-- real libsystem's when its files sit next to the program too. Computer 1
-- is its target and reports the signal events it gets.
if os.getComputerID() == 1 then
    check.done()
    while true do
        local _, params = os.pullEventRaw("signal")
        syscall.sendEvent(0, "got", { signal = params.signal })
    end
end

-- Runs /kill.lua with `...`; returns what it printed and whether it ran
-- without an error (the shell prints an error itself, with printError).
local function kill(...)
    local lines = {}
    local function capture(prefix)
        return function(...)
            local parts = {}
            for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
            lines[#lines + 1] = prefix .. table.concat(parts, "\t")
        end
    end
    local saved = { print = _G.print, printError = _G.printError, write = io.write }
    _G.print, _G.printError, io.write = capture(""), capture("!"), capture("")
    local ok = shell.execute("/kill.lua", ...)
    _G.print, _G.printError, io.write = saved.print, saved.printError, saved.write
    return table.concat(lines, " / "), ok
end

local function eventually(fn)
    local deadline = os.clock() + 30
    while not fn() do
        if os.clock() > deadline then return false end
        check.sleep(0.05)
    end
    return true
end

check.ok(check.wait_up(1), "computer 1 is up")
check.eq(debug.getinfo(require("system.ipc").kill, "S").source, EXPECT_IPC,
    "kill.lua gets the expected system.ipc")

check.eq(kill("-l", "9"), "KILL", "kill -l 9 names the signal")
local list = kill("-l")
check.ok(list:find("KILL", 1, true) and list:find("TTOU", 1, true), "kill -l lists the names", list)
check.eq(select(2, kill("-10", "1")), true, "kill -10 1 runs")
local got = check.await_remote("got", 30)
check.eq(got and got.data.signal, 10, "computer 1 got SIGUSR1")
kill("-STOP", "1")
check.ok(eventually(function() local i = syscall.getpinfo(1) return i and i.state == "stopped" end),
    "kill -STOP 1 stops computer 1")
kill("-s", "CONT", "1")
check.ok(eventually(function() local i = syscall.getpinfo(1) return i and i.state == "running" end),
    "kill -s CONT 1 resumes it")
local output, ok = kill("99")
check.ok(not ok and output:find("No such process", 1, true), "kill 99 fails with No such process", output)
check.done()
