package main

import (
	"os"
	"testing"
)

// TestMain lets tests run latflow as a child process: the test binary
// re-executed with LATFLOW_BE_MAIN=1 behaves as the latflow command.
func TestMain(m *testing.M) {
	if os.Getenv("LATFLOW_BE_MAIN") == "1" {
		os.Exit(run(os.Args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
