-- phoenix-events: makes the plugin's shell programs (kill, ps, services)
-- and help pages available in the CraftOS shell. Mounted read-only at
-- /rom/autorun/phoenix-events.lua; the shell runs every file of
-- /rom/autorun when it starts, before startup files.
--
-- It puts /rom/programs/phoenix-events on the shell's path and
-- /rom/help/phoenix-events on help's path (each once: running this file
-- again changes nothing), and registers the programs' completion.

local programs = "rom/programs/phoenix-events"
local pages = "rom/help/phoenix-events"

-- `list` (a ':'-separated path) with `dir` appended, unless it is there.
local function withDir(list, dir)
    for entry in (list .. ":"):gmatch("([^:]*):") do
        if entry ~= "" and fs.combine(entry, "") == dir then return list end
    end
    if list == "" then return "/" .. dir end
    return list .. ":/" .. dir
end

if shell and fs.isDir(programs) then shell.setPath(withDir(shell.path(), programs)) end
if help and fs.isDir(pages) then help.setPath(withDir(help.path(), pages)) end
if not (shell and shell.setCompletionFunction) then return end

-- Completion ----------------------------------------------------------------
-- Each function returns the suffixes of the candidates that start with
-- `text`, as CraftOS's completion functions do. Nothing here raises: a
-- completion that fails completes nothing.

local function suffixes(text, candidates)
    local found = {}
    for _, candidate in ipairs(candidates) do
        if #candidate > #text and candidate:sub(1, #text) == text then
            found[#found + 1] = candidate:sub(#text + 1)
        end
    end
    return found
end

local function pids()
    local ok, list = pcall(function() return syscall.getplist() end)
    local words = {}
    if ok and type(list) == "table" then
        for i, pid in ipairs(list) do words[i] = tostring(pid) .. " " end
    end
    return words
end

local signalNames = {
    "HUP", "INT", "QUIT", "TRAP", "ABRT", "KILL", "USR1", "USR2", "PIPE", "TERM",
    "CONT", "STOP", "TTIN", "TTOU",
}

-- kill [-s <signal> | -<signal>] <pid>... | kill -l [<signal>...]
local function completeKill(_, index, text, previous)
    local before = previous[index]
    if before == "-s" then
        local words = {}
        for i, name in ipairs(signalNames) do words[i] = name .. " " end
        return suffixes(text, words)
    end
    if text:sub(1, 1) == "-" then
        local words = { "-s ", "-l " }
        for _, name in ipairs(signalNames) do words[#words + 1] = "-" .. name .. " " end
        return suffixes(text, words)
    end
    for i = 2, index do
        if previous[i] == "-l" then return {} end
    end
    return suffixes(text, pids())
end

-- ps [<pid>...]
local function completePs(_, _, text)
    return suffixes(text, pids())
end

-- services [<name>...]: the names the caller may see.
local function completeServices(_, _, text)
    local words = {}
    local ok = pcall(function()
        for _, pid in ipairs(syscall.getplist()) do
            local info = syscall.getpinfo(pid)
            for _, name in ipairs(info and info.services or {}) do
                if not name:find("[%s\"]") then words[#words + 1] = name .. " " end
            end
        end
    end)
    if not ok then return {} end
    table.sort(words)
    return suffixes(text, words)
end

local function safely(complete)
    return function(...)
        local ok, result = pcall(complete, ...)
        if ok and type(result) == "table" then return result end
        return {}
    end
end

shell.setCompletionFunction(programs .. "/kill.lua", safely(completeKill))
shell.setCompletionFunction(programs .. "/ps.lua", safely(completePs))
shell.setCompletionFunction(programs .. "/services.lua", safely(completeServices))
