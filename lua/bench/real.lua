-- The prefix of every benchmark program in a real CraftOS-PC (ci/bench-real
-- puts it after common.lua, before the benchmark file), so that the programs
-- written for the embedded host run there unchanged:
-- - print writes whole lines to the emulator's stdout (headless), where
--   ci/bench-real reads the BENCH| rows;
-- - computer 0 starts the computers listed in BENCH_COMPUTERS, one at a time
--   (CraftOS-PC v2.8.3 can crash when computers are created back to back);
-- - with BENCH_MODEM set, every computer attaches a real modem, opens
--   channels 1 to 4 on it, and `benchmodem.transmit(id, channel, message)`
--   (the embedded host's stand-in) becomes a transmit on that modem: with two
--   computers only the other one receives it (a modem never hears itself);
-- - with BENCH_COMPUTERS and the plugin, the others wait until computer 0
--   is past this prefix (its sleeps drop every other event) and sends them
--   a remote event "bench_go".

local native_term = term.native()
function print(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
    native_term.write(table.concat(parts, "\t") .. "\n")
end
printError = print

if os.getComputerID() == 0 then
    for _, id in ipairs(BENCH_COMPUTERS or {}) do
        periphemu.create(id, "computer")
        sleep(0.3)
    end
end

if BENCH_MODEM and not benchmodem then
    periphemu.create("top", "modem")
    local modem = peripheral.wrap("top")
    for channel = 1, 4 do modem.open(channel) end
    benchmodem = {
        transmit = function(_, channel, message) modem.transmit(channel, channel, message) end,
    }
end

if BENCH_COMPUTERS and syscall then
    if os.getComputerID() == 0 then
        for _, id in ipairs(BENCH_COMPUTERS) do
            -- The other computer may not be up yet: retry until it takes it.
            while true do
                local ok, sent = pcall(syscall.sendEvent, id, "bench_go", 0)
                if ok and sent then break end
                sleep(0.05)
            end
        end
    else
        repeat
            local _, e = os.pullEventRaw("remote_event")
        until type(e) == "table" and e.type == "bench_go"
    end
end
