-- kill: sends a signal to processes (running computers) through the
-- phoenix-events plugin. Mounted read-only at
-- /rom/programs/phoenix-events/kill.lua; /rom/autorun/phoenix-events.lua
-- puts that folder on the shell's path.
--
-- Phoenix baseutils' options:
--   kill [-s <signal> | -<signal>] <pid>...   (SIGTERM without an option)
--   kill -l [<signal>...]
-- A signal is a number (0 to 2^31 - 1) or a name, with or without "SIG",
-- in any case. Unlike baseutils' kill, an unknown signal is an error (never
-- a quiet SIGTERM), SIGUSR1/SIGUSR2 have names, `-l` numbers the list, and
-- a failed PID does not stop the others.

local names = {
    [1] = "HUP", [2] = "INT", [3] = "QUIT", [5] = "TRAP", [6] = "ABRT", [9] = "KILL",
    [10] = "USR1", [12] = "USR2", [13] = "PIPE", [15] = "TERM", [18] = "CONT",
    [19] = "STOP", [21] = "TTIN", [22] = "TTOU",
}
local numbers = {}
for number, name in pairs(names) do numbers[name] = number end

local function programName()
    return arg and arg[0] or fs.getName(shell.getRunningProgram())
end

local function printUsage()
    local name = programName()
    print("Usages:")
    print(name .. " [-s <signal> | -<signal>] <pid>...")
    print(name .. " -l [<signal>...]")
end

-- The signal number `text` names (KILL, SIGKILL, kill, 9), or nil.
local function parseSignal(text)
    if text:match("^%d+$") then
        local number = tonumber(text)
        if number <= 2147483647 then return number end
        return nil
    end
    local upper = text:upper()
    return numbers[upper] or numbers[upper:match("^SIG(.+)$") or ""]
end

local args = { ... }
if #args == 0 then
    printUsage()
    return
end

local signal, listing, operands = 15, false, {}
local i = 1
while i <= #args do
    local word = args[i]
    if word == "-l" then
        listing = true
    elseif word == "-s" then
        i = i + 1
        local text = args[i]
        if text == nil then
            printError("kill: -s needs a signal")
            printUsage()
            return
        end
        signal = parseSignal(text)
        if not signal then
            printError("kill: unknown signal " .. text)
            return
        end
    elseif word:sub(1, 1) == "-" and #word > 1 then
        signal = parseSignal(word:sub(2))
        if not signal then
            printError("kill: unknown signal " .. word:sub(2))
            return
        end
    else
        operands[#operands + 1] = word
    end
    i = i + 1
end

if listing then
    if #operands == 0 then
        local order = {}
        for number in pairs(names) do order[#order + 1] = number end
        table.sort(order)
        local line = {}
        for _, number in ipairs(order) do
            line[#line + 1] = ("%2d %-5s"):format(number, names[number])
            if #line == 4 then
                print((table.concat(line, "  "):gsub(" +$", "")))
                line = {}
            end
        end
        if #line > 0 then print((table.concat(line, "  "):gsub(" +$", ""))) end
        return
    end
    for _, text in ipairs(operands) do
        local number = parseSignal(text)
        if number == nil or (tonumber(text) and names[number] == nil) then
            printError("kill: unknown signal " .. text)
        elseif tonumber(text) then
            print(names[number])
        else
            print(number)
        end
    end
    return
end

if #operands == 0 then
    printUsage()
    return
end

local pids = {}
for _, text in ipairs(operands) do
    local pid = tonumber(text)
    if not text:match("^%d+$") or pid == nil then
        printError("kill: invalid PID " .. text)
        return
    end
    pids[#pids + 1] = pid
end
for _, pid in ipairs(pids) do
    -- The syscall table raises at its caller's level; called from pcall
    -- (a C function), the message has no position.
    local ok, err = pcall(syscall.kill, pid, signal)
    if not ok then printError(("kill: %d: %s"):format(pid, tostring(err))) end
end
