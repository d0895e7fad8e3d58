-- The shell programs kill, ps and services, their help pages and the
-- autorun file that sets them up, all mounted read-only by the plugin.
--
-- The same checks run in CraftOS-PC, through its shell (shell.execute,
-- shell.complete, help.lookup, the path the autorun file set at start-up),
-- and on the embedded host, which has no shell: there the programs are
-- loaded from their mount and run with `arg` and a small `shell` stand-in,
-- and the autorun file runs against stand-ins of `shell` and `help`.
--
-- Users (config): 0 alice, 1 alice, 2 bob, 3 root.
--   computer 1: owns "db", has two timers pending, reports signal events
--   computer 2: reboots once (its label marks the second boot), then owns
--               "bobsvc" and checks that every mount is there once
--   computer 3: root: sees everything
--   computer 0: drives kill, ps and services as alice
local me = syscall.getpid()
local DIR = "/rom/programs/phoenix-events"
local real = type(shell) == "table" and type(shell.execute) == "function"

-- Output -----------------------------------------------------------------------

-- Runs `program` with `...` as arguments; returns every line it printed
-- (printError lines start with "!").
local run
do
    local captured
    local function capture(prefix)
        return function(...)
            local parts = {}
            for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
            captured[#captured + 1] = prefix .. table.concat(parts, "\t")
        end
    end
    if real then
        run = function(program, ...)
            captured = {}
            local print_, printError_ = _G.print, _G.printError
            _G.print, _G.printError = capture(""), capture("!")
            local ok, err = pcall(shell.execute, program, ...)
            _G.print, _G.printError = print_, printError_
            if not ok then captured[#captured + 1] = "!!" .. tostring(err) end
            return captured
        end
    else
        run = function(program, ...)
            captured = {}
            local path = DIR .. "/" .. program .. ".lua"
            local handle = fs.open(path, "r")
            local source = handle.readAll()
            handle.close()
            local env = setmetatable({
                arg = { [0] = program, ... },
                shell = { getRunningProgram = function() return path:sub(2) end },
                print = capture(""),
                printError = capture("!"),
            }, { __index = _G })
            local fn = assert(load(source, "@" .. path, "t", env))
            local ok, err = pcall(fn, ...)
            if not ok then captured[#captured + 1] = "!!" .. tostring(err) end
            return captured
        end
    end
end

local function show(lines)
    return "{" .. table.concat(lines, " / ") .. "}"
end

-- The output is exactly `expected` (lines).
local function prints(expected, name, program, ...)
    local lines = run(program, ...)
    return check.eq(show(lines), show(expected), name)
end

-- Some line matches `pattern` (and none raised).
local function has_line(lines, pattern)
    for _, line in ipairs(lines) do
        if line:match(pattern) then return true end
    end
    return false
end

local function prints_line(pattern, name, program, ...)
    local lines = run(program, ...)
    return check.ok(has_line(lines, pattern) and not has_line(lines, "^!!"), name,
        "no line matches " .. pattern .. " in " .. show(lines))
end

-- Polls `fn` (with short sleeps) until it is true or `seconds` pass.
local function eventually(fn, seconds)
    local deadline = os.clock() + (seconds or 30)
    while not fn() do
        if os.clock() > deadline then return false end
        check.sleep(0.05)
    end
    return true
end

-- The mounts ------------------------------------------------------------------

local function count(list, wanted)
    local n = 0
    for _, name in ipairs(list) do if name == wanted then n = n + 1 end end
    return n
end

local function check_mounts(when)
    check.eq(count(fs.list("/rom/autorun"), "phoenix-events.lua"), 1,
        "the autorun file is mounted once (" .. when .. ")")
    check.eq(table.concat(fs.list(DIR), " "), "kill.lua ps.lua services.lua",
        "the programs are mounted (" .. when .. ")")
    check.eq(table.concat(fs.list("/rom/help/phoenix-events"), " "),
        "kill.txt ps.txt services.txt syscall.txt system.ipc.txt",
        "the help pages are mounted (" .. when .. ")")
    check.eq(fs.isReadOnly(DIR .. "/kill.lua"), true, "the programs are read-only (" .. when .. ")")
    check.eq(fs.isDir("/rom/autorun/phoenix-events.lua"), false, "the autorun entry is a file")
    check.eq(count(fs.list("/rom/modules/main/system"), "ipc.lua"), 1,
        "system.ipc is mounted once (" .. when .. ")")
end

-- Computer 2 (bob): reboots once ------------------------------------------------

if me == 2 then
    if os.getComputerLabel() ~= "second boot" then
        os.setComputerLabel("second boot")
        os.reboot()
    end
    check_mounts("after a reboot")
    if real then
        local entries = 0
        for entry in (shell.path() .. ":"):gmatch("([^:]*):") do
            if fs.combine(entry, "") == DIR:sub(2) then entries = entries + 1 end
        end
        check.eq(entries, 1, "the shell's path holds the programs' folder once after a reboot")
    end
    check.eq(syscall.register("bobsvc"), true, "bob registers his service")
    check.done()
    while true do os.pullEventRaw() end
end

-- Computer 1 (alice): a target -------------------------------------------------

if me == 1 then
    -- The timers first: the others take "db" as the sign that computer 1
    -- is ready to be looked at.
    syscall.timer(3600)
    syscall.timer(3600)
    check.eq(syscall.register("db"), true, "computer 1 registers db")
    check.done()
    while true do
        local _, params = os.pullEventRaw("signal")
        syscall.sendEvent(0, "got-signal", { signal = params.signal })
    end
end

check.ok(eventually(function() return syscall.lookup("db") == 1 and syscall.lookup("bobsvc") == 2 end),
    "computers 1 and 2 registered their services")

-- Computer 3 (root): sees every process in full --------------------------------

if me == 3 then
    prints_line("^%s*2 bob%s+running%s+%d+%s+%d+ bobsvc$", "root sees bob's computer in full", "ps")
    prints_line("^%s*1 alice%s+%a+%s+%d+%s+2 db$", "root sees alice's computer in full", "ps")
    prints({ "SERVICE PID", "bobsvc  2", "db      1" }, "root sees every service", "services")
    check.done()
    while true do os.pullEventRaw() end
end

-- Computer 0 (alice): the programs ---------------------------------------------

check_mounts("at boot")

-- The shell's integration (real) or the autorun file against stand-ins (host).
local complete
if real then
    check.eq(shell.resolveProgram("kill"), "rom/programs/phoenix-events/kill.lua", "kill is on the path")
    check.eq(shell.resolveProgram("ps"), "rom/programs/phoenix-events/ps.lua", "ps is on the path")
    check.eq(shell.resolveProgram("services"), "rom/programs/phoenix-events/services.lua",
        "services is on the path")
    for _, topic in ipairs({ "kill", "ps", "services", "syscall", "system.ipc" }) do
        check.eq(help.lookup(topic), "rom/help/phoenix-events/" .. topic .. ".txt",
            "help has a page for " .. topic)
    end
    local before = shell.path()
    shell.run("/rom/autorun/phoenix-events.lua")
    check.eq(shell.path(), before, "running the autorun file again leaves the path as it was")
    local info = shell.getCompletionInfo()
    for _, program in ipairs({ "kill", "ps", "services" }) do
        check.eq(type(info["rom/programs/phoenix-events/" .. program .. ".lua"]), "table",
            program .. " has a completion function")
    end
    complete = shell.complete
else
    local state = { path = ".:/rom/programs", help = "/rom/help", completion = {} }
    local stub_shell = {
        path = function() return state.path end,
        setPath = function(p) state.path = p end,
        setCompletionFunction = function(p, fn) state.completion[p] = fn end,
    }
    local stub_help = {
        path = function() return state.help end,
        setPath = function(p) state.help = p end,
    }
    local handle = fs.open("/rom/autorun/phoenix-events.lua", "r")
    local source = handle.readAll()
    handle.close()
    for _ = 1, 2 do
        local env = setmetatable({ shell = stub_shell, help = stub_help }, { __index = _G })
        assert(load(source, "@/rom/autorun/phoenix-events.lua", "t", env))()
    end
    check.eq(state.path, ".:/rom/programs:/rom/programs/phoenix-events",
        "the autorun file adds the programs' folder to the path, once")
    check.eq(state.help, "/rom/help:/rom/help/phoenix-events",
        "the autorun file adds the help pages' folder to help's path, once")
    for _, program in ipairs({ "kill", "ps", "services" }) do
        check.eq(type(state.completion["rom/programs/phoenix-events/" .. program .. ".lua"]),
            "function", program .. " has a completion function")
    end
    -- shell.complete's split: the last word is completed, the earlier
    -- ones come as `previous` (the program's name first).
    complete = function(line)
        local words = {}
        for word in line:gmatch("[^ ]+") do words[#words + 1] = word end
        if line:sub(-1) == " " then words[#words + 1] = "" end
        local text = table.remove(words)
        local fn = state.completion["rom/programs/phoenix-events/" .. words[1] .. ".lua"]
        return fn(stub_shell, #words, text, words)
    end
end

local function completes(line, expected, name)
    local got = complete(line) or {}
    table.sort(got)
    table.sort(expected)
    return check.eq(table.concat(got, ","), table.concat(expected, ","), name)
end
completes("kill -K", { "ILL " }, "kill completes a signal option")
completes("kill -s T", { "ERM ", "RAP ", "TIN ", "TOU " }, "kill completes the signal after -s")
completes("kill -9 ", { "0 ", "1 ", "2 ", "3 " }, "kill completes pids")
completes("kill -l ", {}, "kill -l completes no pid")
completes("ps ", { "0 ", "1 ", "2 ", "3 " }, "ps completes pids")
completes("services d", { "b " }, "services completes the services alice may see")
completes("services b", {}, "but not bob's")

-- kill: usage, signals, errors --------------------------------------------------
prints({ "Usages:", "kill [-s <signal> | -<signal>] <pid>...", "kill -l [<signal>...]" },
    "kill without arguments prints its usage", "kill")
prints({ " 1 HUP     2 INT     3 QUIT    5 TRAP", " 6 ABRT    9 KILL   10 USR1   12 USR2",
        "13 PIPE   15 TERM   18 CONT   19 STOP", "21 TTIN   22 TTOU" },
    "kill -l lists the signals with their numbers", "kill", "-l")
prints({ "STOP", "9", "15", "15", "!kill: unknown signal 99" },
    "kill -l turns numbers into names and names into numbers", "kill", "-l", "19", "KILL", "SIGTERM",
    "term", "99")
prints({ "!kill: unknown signal FOO" }, "an unknown signal name sends nothing", "kill", "-FOO", "1")
prints({ "!kill: unknown signal USR3" }, "-s with an unknown name sends nothing", "kill", "-s", "USR3", "1")
prints({ "!kill: -s needs a signal", "Usages:", "kill [-s <signal> | -<signal>] <pid>...",
        "kill -l [<signal>...]" }, "-s without a signal prints the usage", "kill", "-s")
prints({ "!kill: invalid PID abc" }, "a PID must be a number", "kill", "abc")
prints({ "!kill: invalid PID 1.5" }, "a PID must be an integer", "kill", "1.5")
prints({ "Usages:", "kill [-s <signal> | -<signal>] <pid>...", "kill -l [<signal>...]" },
    "a signal without a PID prints the usage", "kill", "-9")
prints({ "!kill: 99: No such process" }, "kill of a missing process says so", "kill", "99")
prints({ "!kill: 2: Permission denied", "!kill: 99: No such process" },
    "kill of another user's process is denied, and the next PID is still tried", "kill", "2", "99")
prints({}, "kill -0 only checks", "kill", "-0", "1")

-- A signal without a default action arrives as an event on the target.
local function signal_reaches_1(expected, name, ...)
    prints({}, name .. " prints nothing", "kill", ...)
    local params = check.await_remote("got-signal", 30)
    return check.eq(params and params.data.signal, expected, name)
end
signal_reaches_1(10, "kill -s USR1 sends SIGUSR1", "-s", "USR1", "1")
signal_reaches_1(12, "kill -12 sends signal 12", "-12", "1")
signal_reaches_1(12, "kill -SIGUSR2 sends SIGUSR2", "-SIGUSR2", "1")
signal_reaches_1(10, "a name in lower case works, and the last signal option wins", "-usr2", "1", "-usr1")

-- ps: the view of a stopped process, its queue and timers ----------------------
prints({}, "kill -STOP 1 prints nothing", "kill", "-STOP", "1")
check.ok(eventually(function()
    local info = syscall.getpinfo(1)
    return info and info.state == "stopped"
end), "computer 1 stops")
for i = 1, 3 do syscall.sendEvent(1, "while stopped", { n = i }) end
local lines = run("ps")
check.eq(lines[1], "PID USER  STATE   EVENTS TIMERS SERVICES", "ps prints its header")
check.ok(has_line(lines, "^  0 alice running%s+%d+%s+%d+$"), "ps shows this computer", show(lines))
check.ok(has_line(lines, "^  1 alice stopped      3      2 db$"),
    "ps shows a stopped computer, its three events waiting, two timers and service", show(lines))
check.ok(has_line(lines, "^  2 %?     %?            %?      %? %?$"),
    "ps shows another user's computer, and nothing about it", show(lines))
check.ok(has_line(lines, "^  3 %?     %?            %?      %? %?$"), "root's too", show(lines))
prints({ "PID USER  STATE   EVENTS TIMERS SERVICES", "  1 alice stopped      3      2 db" },
    "ps with a PID shows that process", "ps", "1")
prints({ "!ps: 99: No such process", "PID USER STATE EVENTS TIMERS SERVICES" },
    "ps of a missing process says so", "ps", "99")
prints({ "!ps: invalid PID x", "Usage: ps [<pid>...]" }, "ps of a non-number prints its usage", "ps", "x")
prints({}, "kill -CONT 1 prints nothing", "kill", "-CONT", "1")
check.ok(eventually(function()
    local info = syscall.getpinfo(1)
    return info and info.state == "running" and info.events == 0
end), "computer 1 runs again and receives its events")

-- services ------------------------------------------------------------------------
prints({ "SERVICE PID", "db      1", "(services of other users' processes are not shown)" },
    "services lists alice's services and says that others are hidden", "services")
prints({ "SERVICE PID", "bobsvc  2", "nope    none" },
    "services looks up any name", "services", "bobsvc", "nope")

check.done()
