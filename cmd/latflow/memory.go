package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"latflow/flow"
)

// memTerm is one part of a run's memory, charged to the flag that sizes it.
type memTerm struct {
	flag  string
	value string // the flag's value, for the message
	bytes float64
	what  string
}

// machineMemory returns the machine's memory in bytes (MemTotal of
// /proc/meminfo), or 0 if it cannot be read.
func machineMemory() float64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseFloat(fields[1], 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// checkMemory refuses a run whose estimated memory exceeds the machine's,
// naming the flag of the largest term, the estimate and the machine's
// memory. The estimates are lower bounds of the real use, so that no run
// that fits is refused.
func checkMemory(terms []memTerm) error {
	have := machineMemory()
	if have == 0 || len(terms) == 0 {
		return nil
	}
	var total float64
	big := terms[0]
	for _, t := range terms {
		total += t.bytes
		if t.bytes > big.bytes {
			big = t
		}
	}
	if total <= have {
		return nil
	}
	return usagef("--%s %s: this run needs about %s of memory (%s), the machine has %s",
		big.flag, big.value, bytesText(total), big.what, bytesText(have))
}

// bytesText formats a byte count with a binary unit.
func bytesText(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.3g %s", b, units[i])
}

// chainMemory estimates the memory of a chain run: the measured series
// kept for the analysis, the dataset part being filled, the configuration
// buffers, and per chain extra bytes (proposal batches), charged to flag;
// none for a run validated here to run elsewhere (o.elsewhere).
func chainMemory(o *chainOptions, size, columns int, extra memTerm) []memTerm {
	if o.elsewhere {
		return nil
	}
	c := float64(o.chains)
	row := float64(8*(columns+8) + 24) // values, row bookkeeping, the update label
	part := float64(o.partRows) * row
	if o.saveEvery > 0 {
		part += float64(o.partRows) * float64(8*size) / float64(o.saveEvery)
	}
	terms := []memTerm{
		{flagN, strconv.Itoa(o.n), c * float64(o.n) * (row - 8*8), "the measured series are kept for the analysis"},
		{flagPartRows, strconv.Itoa(o.partRows), c * part, "a dataset part is held in memory while it fills"},
		{flagL, strconv.Itoa(int(sqrtSize(size))), c * float64(8*8*size), "configurations and their workspace"},
	}
	if extra.bytes > 0 {
		extra.bytes *= c
		terms = append(terms, extra)
	}
	return terms
}

// sqrtSize returns L from a configuration size (V or 2V).
func sqrtSize(size int) int {
	for L := 1; L*L <= size; L++ {
		if L*L == size || 2*L*L == size {
			return L
		}
	}
	return 0
}

// flowMemory estimates the memory of batch samples through a flow's
// passes: per sample, per layer and per site, the conditioner's
// activations and the coupling's tape.
func flowMemory(cfg flow.Config, batch int, elem int) float64 {
	ch := 4 + 3*(cfg.Mixtures+1)
	if cfg.Coupling == flow.CouplingSpline {
		// The spline conditioner's 3K-1 output channels and their
		// cotangent, and its 4K-2 float64 values per site prepared from
		// them (flow.SplineCoupling's tape).
		ch += 2*(3*cfg.Bins-1) + (4*cfg.Bins-2)*8/elem
	}
	for _, h := range cfg.Hidden {
		ch += 3 * h
	}
	return float64(batch) * float64(cfg.Layers) * float64(cfg.L*cfg.L) * float64(elem*ch)
}

// trainMemory estimates the memory of training (or timing) a flow: the
// passes of a batch, charged to the architecture flag furthest above its
// default, and the fresh samples of --eval.
func trainMemory(cfg flow.Config, precision string, batch, eval int) []memTerm {
	elem := 8
	if precision == precisionFloat32 {
		elem = 4
	}
	def := flow.DefaultConfig(cfg.Theory, cfg.L)
	sum := func(h []int) int {
		s := 1
		for _, v := range h {
			s += v
		}
		return s
	}
	flag, value, ratio := flagBatch, strconv.Itoa(batch), float64(batch)/64
	for _, c := range []struct {
		flag, value string
		ratio       float64
	}{
		{flagLayers, strconv.Itoa(cfg.Layers), float64(cfg.Layers) / float64(def.Layers)},
		{flagHidden, fmt.Sprint(cfg.Hidden), float64(sum(cfg.Hidden)) / float64(sum(def.Hidden))},
		{flagMixtures, strconv.Itoa(cfg.Mixtures), float64(cfg.Mixtures) / float64(max(1, def.Mixtures))},
		{flagL, strconv.Itoa(cfg.L), float64(cfg.L*cfg.L) / 256},
	} {
		if c.ratio > ratio {
			flag, value, ratio = c.flag, c.value, c.ratio
		}
	}
	return []memTerm{
		{flag, value, flowMemory(cfg, batch, elem), "the flow's passes over a batch"},
		{flagEval, strconv.Itoa(eval), 16 * float64(eval), "the weights of the evaluation samples"},
	}
}
