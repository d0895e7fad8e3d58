-- Memory baseline for ci/bench: every computer boots, idles 0.2 s and shuts
-- down, without touching the syscall table.

bench.run(function()
    sleep(0.2)
    local rss, hwm = bench.rss()
    print(("  idle: VmRSS %s kB, VmHWM %s kB"):format(tostring(rss), tostring(hwm)))
end)
