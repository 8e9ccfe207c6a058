package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's utime and stime
// (100 on every Linux this benchmark runs on; proc(5)).
const clockTicks = 100

// cpuSeconds returns the user+system CPU seconds the processes pids and
// their direct children have used so far (proc(5), fields 14 and 15 of
// /proc/PID/stat summed over every thread). Kamailio forks its workers, so
// its figure needs the children; a process that has gone counts 0.
func cpuSeconds(pids ...int) float64 {
	want := map[int]bool{}
	for _, p := range pids {
		want[p] = true
	}
	entries, _ := os.ReadDir("/proc")
	var ticks int64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, t, ok := readStat(pid)
		if !ok || (!want[pid] && !want[ppid]) {
			continue
		}
		ticks += t
	}
	return float64(ticks) / clockTicks
}

// readStat reads the parent pid and utime+stime of pid.
func readStat(pid int) (ppid int, ticks int64, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, false
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0, false
	}
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, ut + st, true
}

// loadAverage returns /proc/loadavg's first three figures, printed beside
// each result because the machine is shared.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return fmt.Sprintf("%s %s %s", f[0], f[1], f[2])
}
