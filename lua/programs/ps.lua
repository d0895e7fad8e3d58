-- ps: lists processes (running computers) of the phoenix-events plugin:
-- pid, user, state, events waiting, pending timers and services. Mounted
-- read-only at /rom/programs/phoenix-events/ps.lua.
--
--   ps [<pid>...]
-- Processes of other users are listed (anyone can tell that they exist:
-- `kill <pid> 0` does) with "?" in place of what only their own user and
-- root may see (see syscall.getpinfo).

local function programName()
    return arg and arg[0] or fs.getName(shell.getRunningProgram())
end

local args = { ... }
local pids, asked = {}, #args > 0
for _, text in ipairs(args) do
    if not text:match("^%d+$") then
        printError("ps: invalid PID " .. text)
        print("Usage: " .. programName() .. " [<pid>...]")
        return
    end
    pids[#pids + 1] = tonumber(text)
end
if not asked then pids = syscall.getplist() end

local rows = { { "PID", "USER", "STATE", "EVENTS", "TIMERS", "SERVICES" } }
for _, pid in ipairs(pids) do
    local info, err = syscall.getpinfo(pid)
    if info then
        rows[#rows + 1] = {
            tostring(pid), info.user, info.state, tostring(info.events),
            tostring(info.timers), table.concat(info.services, ","),
        }
    elseif err == "Permission denied" then
        rows[#rows + 1] = { tostring(pid), "?", "?", "?", "?", "?" }
    elseif asked then
        printError(("ps: %d: %s"):format(pid, tostring(err)))
    end
    -- (A process listed by getplist that ended since is simply left out.)
end

-- Columns as wide as their widest entry; numbers right-aligned; the last
-- column unpadded.
local widths = {}
for _, row in ipairs(rows) do
    for c, cell in ipairs(row) do widths[c] = math.max(widths[c] or 0, #cell) end
end
local right = { true, false, false, true, true, false }
for _, row in ipairs(rows) do
    local cells = {}
    for c, cell in ipairs(row) do
        if c == #row then
            cells[c] = cell
        elseif right[c] then
            cells[c] = (" "):rep(widths[c] - #cell) .. cell
        else
            cells[c] = cell .. (" "):rep(widths[c] - #cell)
        end
    end
    print((table.concat(cells, " "):gsub("%s+$", "")))
end
