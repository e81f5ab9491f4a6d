package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress shows how far a long run has got, on stderr: a live bar on a
// terminal; otherwise (batch logs) a plain line with a timestamp, the rate
// and the estimated time left, every tenth of the work or every
// progressInterval, whichever comes first.
type progress struct {
	name  string
	total int64
	w     io.Writer
	start time.Time

	mu       sync.Mutex
	done     int64
	nextPct  int64
	lastLine time.Time
	// base is the work done before this run (resumed), not counted in
	// the rate.
	base   int64
	status string // live status text shown after the counters (setStatus)
	// deadline, if not zero, is when the run stops whatever the work
	// left (--max-time): the time left is at most the time until it.
	deadline time.Time

	pool *mpb.Progress
	bar  *mpb.Bar
}

// progressInterval is the longest time between two progress lines off a
// terminal.
const progressInterval = 10 * time.Second

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newProgress(w io.Writer, name string, total int64) *progress {
	p := &progress{name: name, total: total, w: w, start: time.Now(), nextPct: 10, lastLine: time.Now()}
	if isTerminal(w) {
		p.pool = mpb.New(mpb.WithOutput(w), mpb.WithAutoRefresh(), mpb.WithWidth(40))
		p.bar = p.pool.AddBar(total,
			mpb.PrependDecorators(decor.Name(name+" "), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Percentage(), decor.Name(" "), decor.AverageSpeed(0, "%.1f/s"), decor.Name(" eta "),
				decor.Any(func(decor.Statistics) string { return p.etaText() }),
				decor.Any(func(decor.Statistics) string { return p.statusText() })),
		)
	} else {
		fmt.Fprintf(w, "%s: 0/%d\n", name, total)
	}
	return p
}

// add records n more units of work done.
func (p *progress) add(n int64) {
	p.mu.Lock()
	p.done += n
	if p.bar != nil {
		// Unlocked: the bar's decorators take p.mu.
		p.mu.Unlock()
		p.bar.IncrInt64(n)
		return
	}
	defer p.mu.Unlock()
	now := time.Now()
	due := now.Sub(p.lastLine) >= progressInterval
	for p.total > 0 && p.done*100 >= p.nextPct*p.total && p.nextPct <= 100 {
		p.nextPct += 10
		due = true
	}
	if due {
		p.lastLine = now
		rate := float64(p.done-p.base) / now.Sub(p.start).Seconds()
		fmt.Fprintf(p.w, "%s %s: %d/%d (%d%%, %.1f/s, eta %s)%s\n", now.Format(time.DateTime), p.name, p.done, p.total,
			100*p.done/max(1, p.total), rate, p.etaLocked(now), p.statusLocked())
	}
}

// setDeadline records when the run stops whatever the work left (a
// wall-time limit); the zero time means none.
func (p *progress) setDeadline(t time.Time) {
	p.mu.Lock()
	p.deadline = t
	p.mu.Unlock()
}

func (p *progress) etaText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.etaLocked(time.Now())
}

// etaLocked is the time left at now: the work left at the rate so far,
// or the time until the deadline if that is sooner; "-" if unknown.
func (p *progress) etaLocked(now time.Time) string {
	if p.done >= p.total {
		return "-"
	}
	left := time.Duration(-1)
	if rate := float64(p.done-p.base) / now.Sub(p.start).Seconds(); rate > 0 {
		left = time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
	}
	if !p.deadline.IsZero() {
		if d := max(p.deadline.Sub(now), 0); left < 0 || d < left {
			left = d
		}
	}
	if left < 0 {
		return "-"
	}
	return left.Round(time.Second).String()
}

// resumed records n units done before this run: they count towards the
// total but not the rate.
func (p *progress) resumed(n int64) {
	p.mu.Lock()
	p.base += n
	p.mu.Unlock()
	p.add(n)
}

// setStatus sets the live status text shown after the counters (e.g. the
// current loss of a training run).
func (p *progress) setStatus(s string) {
	p.mu.Lock()
	p.status = s
	p.mu.Unlock()
}

func (p *progress) statusText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.statusLocked()
}

// statusLocked is the status text with a leading separator, or "".
func (p *progress) statusLocked() string {
	if p.status == "" {
		return ""
	}
	return "  " + p.status
}

// printf prints a message line on the progress output, above a live bar.
func (p *progress) printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.pool != nil {
		if _, err := p.pool.Write([]byte(msg)); err == nil {
			return
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, msg)
}

// finish stops the bar; on abort the bar is left where it was.
func (p *progress) finish() {
	if p.bar != nil {
		if !p.bar.Completed() {
			p.bar.Abort(false)
		}
		p.pool.Wait()
	}
}
