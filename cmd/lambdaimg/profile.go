package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// ProfileEnv names a file that receives a pprof CPU profile of the run
// when set (for scripts/bench; `go tool pprof bin/lambdaimg FILE`).
const ProfileEnv = "LAMBDAIMG_CPUPROFILE"

// startProfile starts the CPU profile ProfileEnv asks for and returns
// what stops it; a profile that cannot start is reported, not fatal.
func startProfile() (stop func()) {
	p := os.Getenv(ProfileEnv)
	if p == "" {
		return func() {}
	}
	f, err := os.Create(p)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "lambdaimg: %s: %v\n", ProfileEnv, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
