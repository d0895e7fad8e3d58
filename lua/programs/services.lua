-- services: lists the service registry of the phoenix-events plugin
-- (syscall.register / syscall.lookup): each registered name and the pid of
-- the process that owns it. Mounted read-only at
-- /rom/programs/phoenix-events/services.lua.
--
--   services             every name owned by a process you may see in full
--                        (your user's, or all of them as root)
--   services <name>...   the owner of each name (a lookup: any name, as any
--                        user, as syscall.lookup allows)

local args = { ... }

-- { {name, pid text}... }, and whether some processes were not shown.
local function registered()
    local found, hidden = {}, false
    for _, pid in ipairs(syscall.getplist()) do
        local info, err = syscall.getpinfo(pid)
        if info then
            for _, name in ipairs(info.services) do found[#found + 1] = { name, tostring(pid) } end
        elseif err == "Permission denied" then
            hidden = true
        end
    end
    table.sort(found, function(a, b) return a[1] < b[1] end)
    return found, hidden
end

local rows, hidden = {}, false
if #args > 0 then
    for _, name in ipairs(args) do
        local pid = syscall.lookup(name)
        rows[#rows + 1] = { name, pid and tostring(pid) or "none" }
    end
else
    rows, hidden = registered()
end

if #rows == 0 then
    print("No services registered")
else
    table.insert(rows, 1, { "SERVICE", "PID" })
    local width = 0
    for _, row in ipairs(rows) do width = math.max(width, #row[1]) end
    for _, row in ipairs(rows) do
        print(row[1] .. (" "):rep(width - #row[1]) .. " " .. row[2])
    end
end
if hidden then print("(services of other users' processes are not shown)") end
