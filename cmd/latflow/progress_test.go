package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestProgressETADeadline: with a deadline (train --max-time) the time
// left shown is at most the time until it (issue 19, D.23: 8h46m was shown
// for a 3-minute run); without one it is the work left at the rate so far.
func TestProgressETADeadline(t *testing.T) {
	eta := regexp.MustCompile(`eta ([^ )]+)\)`)
	cases := []struct {
		name     string
		deadline time.Duration // from now; 0: none
		lo, hi   time.Duration
	}{
		// 10 units in 10 s, 999990 left: 999990 s at the rate.
		{"no deadline", 0, 999900 * time.Second, 1000000 * time.Second},
		{"deadline in 3m", 3 * time.Minute, 2*time.Minute + 50*time.Second, 3 * time.Minute},
		{"deadline passed", -time.Minute, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgress(&buf, "train", 1_000_000)
			now := time.Now()
			p.start = now.Add(-10 * time.Second)
			if c.deadline != 0 {
				p.setDeadline(now.Add(c.deadline))
			}
			p.lastLine = time.Time{} // print the next line
			p.add(10)
			line := strings.TrimSpace(buf.String()[strings.Index(buf.String(), "\n")+1:])
			m := eta.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("progress line %q has no eta", line)
			}
			got, err := time.ParseDuration(m[1])
			if err != nil || got < c.lo || got > c.hi {
				t.Errorf("eta %q (%v), want between %v and %v", m[1], err, c.lo, c.hi)
			}
		})
	}
}
