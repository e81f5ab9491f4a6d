package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"latflow/models"
)

// TestSubmitDryRun checks the script of latflow submit --dry-run: the array,
// the log files in DIR, requeue and append, the options given and no
// others, and a task line that runs this binary with the command, --out
// DIR and --resume; bash accepts it, and nothing is created.
func TestSubmitDryRun(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ens")
	// A model file whose name needs quotes: submit reads it, as sample would.
	_, model, err := models.Default(theoryU1)
	if err != nil {
		t.Fatal(err)
	}
	quoted := filepath.Join(t.TempDir(), "my model's.flow")
	if err := os.WriteFile(quoted, model, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		args      []string
		want, not []string
	}{
		{"defaults", []string{"--tasks", "4", "--out", dir, "--", "sample", "--beta", "3.0", "--L", "16", "--n", "100000"},
			[]string{
				"#!/bin/bash\n",
				"chains 0 to 3 of one ensemble\n# into " + dir + "; task i writes chain i.\n",
				"#SBATCH --job-name=latflow-sample\n",
				"#SBATCH --array=0-3\n",
				"#SBATCH --output=" + dir + "/slurm-%A_%a.out\n",
				"#SBATCH --open-mode=append\n",
				"#SBATCH --requeue\n",
				"\nexec " + exe + " sample --beta 3.0 --L 16 --n 100000 --out " + dir + " --resume\n",
			},
			[]string{"--partition", "--time", "--cpus-per-task", "--mem", "GOMAXPROCS"}},
		{"all options", []string{"--tasks", "3", "--out", dir, "--partition", "short,long", "--time", "1-02:30", "--cpus-per-task", "8", "--mem", "4G",
			"--", "hmc", "--chains", "2", "--chain-offset", "10", "--seed", "7", "--theory", "phi4", "--m2", "-4"},
			[]string{
				"chains 10 to 15 of one ensemble\n# into " + dir + "; task i writes chains 10 + 2*i to 10 + 2*i + 1.\n",
				"#SBATCH --job-name=latflow-hmc\n",
				"#SBATCH --array=0-2\n",
				"#SBATCH --partition=short,long\n",
				"#SBATCH --time=1-02:30\n",
				"#SBATCH --cpus-per-task=8\n",
				"#SBATCH --mem=4G\n",
				"export GOMAXPROCS=8\n",
				" hmc --chains 2 --chain-offset 10 --seed 7 --theory phi4 --m2 -4 --out " + dir + " --resume\n",
			}, nil},
		{"relative --out", []string{"--out", filepath.Join("rel", "ens"), "hmc"},
			[]string{"#SBATCH --output=" + filepath.Join(cwd, "rel", "ens") + "/slurm-%A_%a.out\n", " --out " + filepath.Join(cwd, "rel", "ens") + " --resume\n"}, nil},
		{"quoted words", []string{"--out", dir, "sample", "--model", quoted},
			[]string{"#SBATCH --array=0-0\n", ` sample --model '` + filepath.Dir(quoted) + `/my model'\''s.flow' --out ` + dir + " --resume\n"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, script, errs := runCLI(t, append([]string{"submit", "--dry-run"}, c.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(script, w) {
					t.Errorf("script lacks %q:\n%s", w, script)
				}
			}
			for _, n := range c.not {
				if strings.Contains(script, n) {
					t.Errorf("script has %q, which was not asked for:\n%s", n, script)
				}
			}
			// The #SBATCH lines must come before the first command.
			lines := strings.Split(script, "\n")
			seenCommand := false
			for _, l := range lines[1:] {
				if strings.HasPrefix(l, "#SBATCH") && seenCommand {
					t.Errorf("#SBATCH line %q after a command: sbatch ignores it", l)
				}
				if l != "" && !strings.HasPrefix(l, "#") {
					seenCommand = true
				}
			}
			if out, err := exec.Command("bash", "-n", "-c", script).CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v: %s", err, out)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("--dry-run created %s (stat: %v)", dir, err)
			}
		})
	}
}

// TestSubmitBadInput: each bad flag of submit or of its command is refused
// with exit 2 and a message naming it, before anything is created.
func TestSubmitBadInput(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no sbatch: a case that got past the checks would fail with exit 1
	root := t.TempDir()
	dir := filepath.Join(root, "ens")
	notDir := filepath.Join(root, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := []string{"--", "hmc", "--L", "8"}
	with := func(args ...string) []string { return append(args, cmd...) }
	cases := []struct {
		name string
		args []string
		want string // the message must contain it
	}{
		{"no command", []string{"--out", dir}, "sample|hmc"},
		{"command train", []string{"--out", dir, "--", "train", "--L", "8"}, `sample or hmc, got "train"`},
		{"command analyze", []string{"--out", dir, "analyze", dir}, `sample or hmc, got "analyze"`},
		{"missing --out", []string{"--tasks", "2", "--", "hmc"}, "--out DIR is required"},
		{"--out in the command", []string{"--out", dir, "--", "hmc", "--out", dir}, "--out belongs to submit"},
		{"--out= in the command", []string{"--out", dir, "--", "sample", "--out=" + dir}, "--out belongs to submit"},
		{"--trace-file in the command", []string{"--out", dir, "--", "hmc", "--trace-file", "t.json"}, "--trace-file"},
		{"unknown flag in the command", []string{"--out", dir, "--", "sample", "--bta", "3"}, "-bta"},
		{"bad value in the command", []string{"--out", dir, "--", "hmc", "--n", "many"}, "-n"},
		{"argument in the command", []string{"--out", dir, "--", "hmc", "extra"}, `unexpected argument "extra"`},
		{"help in the command", []string{"--out", dir, "--", "hmc", "--help"}, "did not parse"},
		{"chain ids too large", []string{"--tasks", "1000", "--out", dir, "--", "hmc", "--chains", "1024", "--chain-offset", "2147000000"}, "--chain-offset"},
		{"--tasks 0", with("--tasks", "0", "--out", dir), "--tasks"},
		{"--tasks negative", with("--tasks", "-3", "--out", dir), "--tasks"},
		{"--tasks too many", with("--tasks", "1001", "--out", dir), "--tasks"},
		{"--tasks not a number", with("--tasks", "four", "--out", dir), "tasks"},
		{"--time words", with("--out", dir, "--time", "one hour"), "--time"},
		{"--time minutes 60", with("--out", dir, "--time", "1:60:00"), "--time"},
		{"--time hours 24 after days", with("--out", dir, "--time", "1-24:00"), "--time"},
		{"--time zero", with("--out", dir, "--time", "00:00:00"), "--time"},
		{"--time four fields", with("--out", dir, "--time", "1:00:00:00"), "--time"},
		{"--time empty", with("--out", dir, "--time", ""), "--time"},
		{"--mem unit GB", with("--out", dir, "--mem", "4GB"), "--mem"},
		{"--mem zero", with("--out", dir, "--mem", "0"), "--mem"},
		{"--mem negative", with("--out", dir, "--mem", "-1G"), "--mem"},
		{"--mem fraction", with("--out", dir, "--mem", "1.5G"), "--mem"},
		{"--cpus-per-task 0", with("--out", dir, "--cpus-per-task", "0"), "--cpus-per-task"},
		{"--cpus-per-task too many", with("--out", dir, "--cpus-per-task", "5000"), "--cpus-per-task"},
		{"--partition with a space", with("--out", dir, "--partition", "a b"), "--partition"},
		{"--partition with a newline", with("--out", dir, "--partition", "a\n#SBATCH --x"), "--partition"},
		{"--out with %", with("--out", filepath.Join(root, "a%j")), "--out"},
		{"--out with a space", with("--out", filepath.Join(root, "a b")), "--out"},
		{"--out a file", with("--out", notDir), "--out"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"submit"}, c.args...)...)
			if code != exitUsage {
				t.Errorf("got exit %d, want %d (stderr %q)", code, exitUsage, errs)
			}
			if !strings.Contains(errs, c.want) {
				t.Errorf("got message %q, want it to name %q", errs, c.want)
			}
			if out != "" {
				t.Errorf("got stdout %q, want none", out)
			}
			if entries, _ := os.ReadDir(root); len(entries) != 1 {
				t.Errorf("got %d entries in %s, want only the file made by the test: something was created", len(entries), root)
			}
		})
	}
}

// TestSlurmTime checks the Slurm time formats --time takes.
func TestSlurmTime(t *testing.T) {
	for s, want := range map[string]bool{
		"30": true, "30:15": true, "01:00:00": true, "100:00:00": true, "2-0": true, "2-12:30": true, "2-12:30:15": true,
		"UNLIMITED": true, "infinite": true, "90": true, "0:30": true,
		"": false, "0": false, "0:00": false, "1:60": false, "1:00:60": false, "1-24": false, "1-": false, "-1": false,
		"1:2:3:4": false, "1h": false, "1-2-3": false, " 10": false, "99999999999999999999": false,
	} {
		if got := validTime(s); got != want {
			t.Errorf("validTime(%q): got %v, want %v", s, got, want)
		}
	}
}

// TestSubmitNoSbatch: without sbatch, submit fails with exit 1 (the
// command line is right, the machine has no Slurm client), says so and
// that --dry-run prints the script, and creates nothing.
func TestSubmitNoSbatch(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := filepath.Join(t.TempDir(), "ens")
	code, out, errs := runCLI(t, "submit", "--tasks", "2", "--out", dir, "--", "hmc", "--L", "8")
	if code != exitFailed {
		t.Errorf("got exit %d, want %d", code, exitFailed)
	}
	if !strings.Contains(errs, "sbatch not found") || !strings.Contains(errs, "--dry-run") {
		t.Errorf("got message %q, want it to say that sbatch is not found and name --dry-run", errs)
	}
	if out != "" {
		t.Errorf("got stdout %q, want none", out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("submit without sbatch created %s (stat: %v)", dir, err)
	}
}

// fakeSbatch puts an sbatch on PATH that runs body (a shell script) and
// returns the file where it saved its arguments and standard input.
func fakeSbatch(t *testing.T, body string) (saved string) {
	t.Helper()
	bin := t.TempDir()
	saved = filepath.Join(t.TempDir(), "sbatch-input")
	script := "#!/bin/sh\necho \"$@\" > " + saved + "\ncat >> " + saved + "\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(bin, "sbatch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return saved
}

// submitOpts returns the options of latflow submit --tasks 2 --out dir --
// hmc --L 8, with a latflow binary at a path that is not a temporary build.
func submitOpts(dir string) *submitOptions {
	return &submitOptions{tasks: 2, out: dir, command: []string{"hmc", "--L", "8"}, exe: "/opt/latflow/bin/latflow", set: flagSet{}}
}

// TestSubmitSbatch runs submit with a fake sbatch: the script goes to its
// standard input with --parsable, the job id alone goes to stdout, DIR is
// created for the task logs; a failing sbatch is exit 1 with its message.
func TestSubmitSbatch(t *testing.T) {
	saved := fakeSbatch(t, `echo "4242;cluster"`)
	dir := filepath.Join(t.TempDir(), "ens")
	var stdout, stderr bytes.Buffer
	if err := runSubmit(context.Background(), submitOpts(dir), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "4242\n" {
		t.Errorf("stdout: got %q, want the job id \"4242\\n\"", got)
	}
	if !strings.Contains(stderr.String(), "array job 4242: 2 tasks writing chains 0 to 1 into "+dir) {
		t.Errorf("stderr: got %q, want the job, its tasks, chains and directory", stderr.String())
	}
	got, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	want := "--parsable\n" + wantScript(t, submitOpts(dir))
	if string(got) != want {
		t.Errorf("sbatch got\n%s\nwant\n%s", got, want)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Errorf("submit did not create %s for the task logs (%v)", dir, err)
	}

	fakeSbatch(t, `echo "sbatch: error: invalid partition specified: gpu" >&2; exit 1`)
	stdout.Reset()
	err = runSubmit(context.Background(), submitOpts(dir), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "invalid partition specified: gpu") {
		t.Errorf("failing sbatch: got %v, want its message", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("failing sbatch: got stdout %q, want none", stdout.String())
	}
	fakeSbatch(t, `echo "Submitted batch job 12"`)
	if err := runSubmit(context.Background(), submitOpts(dir), &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "not a job id") {
		t.Errorf("sbatch without --parsable output: got %v, want an error", err)
	}

	// The binary of go run is deleted when it exits: refused.
	o := submitOpts(dir)
	o.exe = filepath.Join(os.TempDir(), "go-build123", "b001", "exe", "latflow")
	if err := runSubmit(context.Background(), o, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "go build") {
		t.Errorf("binary of go run: got %v, want a refusal that says to go build", err)
	}
}

// wantScript returns the script that runSubmit submits for o.
func wantScript(t *testing.T, o *submitOptions) string {
	t.Helper()
	if err := o.parseCommand(); err != nil {
		t.Fatal(err)
	}
	return o.script()
}

// TestSubmitValidatesCommand: submit refuses what every task would refuse,
// through the command's own validation, with the command's exit code and
// message, and writes nothing: a bad flag, a missing model, chain ids out
// of range (--chain-offset 9223372036854775000 once gave a script with
// negative chain ids), and a DIR that holds another ensemble or chains of
// other settings, also for a task other than the first. Each case runs the
// command itself as the task would (--out DIR --resume, the task's
// SLURM_ARRAY_TASK_ID) for the message to expect.
func TestSubmitValidatesCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no sbatch: a case that got past the checks would fail with exit 1
	root := t.TempDir()
	fresh := filepath.Join(root, "fresh")
	// beta3 holds chains 0 and 1 of beta=3, L=8, seed 1; chain1 only chain 1.
	beta3, chain1 := filepath.Join(root, "beta3"), filepath.Join(root, "chain1")
	small := []string{"hmc", "--L", "8", "--n", "20", "--therm", "5"}
	for _, args := range [][]string{
		append(slices.Clone(small), "--chains", "2", "--out", beta3),
		append(slices.Clone(small), "--chain-offset", "1", "--out", chain1),
	} {
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
	}
	listing := func() string {
		var names []string
		filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil {
				st, _ := d.Info()
				names = append(names, fmt.Sprintf("%s %d %v", path, st.Size(), st.ModTime().UnixNano()))
			}
			return nil
		})
		return strings.Join(names, "\n")
	}
	before := listing()
	cases := []struct {
		name    string
		tasks   int
		out     string
		command []string
		task    int // the task that refuses
	}{
		{"L not a multiple of 4", 4, fresh, []string{"hmc", "--L", "6"}, 0},
		{"missing model", 2, fresh, []string{"sample", "--L", "8", "--model", filepath.Join(root, "no.flow")}, 0},
		{"chain offset beyond int32", 1000, fresh, []string{"hmc", "--L", "8", "--chain-offset", "9223372036854775000"}, 0},
		{"chain offset beyond int64 with the tasks", 1000, fresh, []string{"hmc", "--L", "8", "--chain-offset", "9223372036854775000", "--chains", "4"}, 0},
		{"DIR holds the chain at another beta", 2, beta3, append(slices.Clone(small), "--beta", "2"), 0},
		{"DIR holds other chains at another beta", 2, beta3, append(slices.Clone(small), "--beta", "2", "--chain-offset", "5"), 0},
		{"DIR holds other chains at another L", 1, beta3, []string{"hmc", "--L", "12", "--chain-offset", "5"}, 0},
		{"DIR holds other chains of another theory", 1, beta3, []string{"sample", "--theory", "phi4", "--L", "8", "--chain-offset", "5"}, 0},
		{"task 1's chain has another seed", 2, chain1, append(slices.Clone(small), "--seed", "2"), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(envSlurmTask, strconv.Itoa(c.task))
			code, _, want := runCLI(t, append(slices.Clone(c.command), "--out", c.out, "--resume")...)
			want = strings.TrimPrefix(strings.TrimSpace(want), "latflow: ")
			if code != exitUsage || want == "" {
				t.Fatalf("the command as task %d runs it: got exit %d (%q), want %d", c.task, code, want, exitUsage)
			}
			os.Unsetenv(envSlurmTask)
			args := append([]string{"submit", "--dry-run", "--tasks", strconv.Itoa(c.tasks), "--out", c.out, "--"}, c.command...)
			code, out, errs := runCLI(t, args...)
			if code != exitUsage {
				t.Errorf("submit: got exit %d, want %d as the command gives (stderr %q)", code, exitUsage, errs)
			}
			if !strings.Contains(errs, want) {
				t.Errorf("submit: got message %q, want the command's %q", errs, want)
			}
			if out != "" {
				t.Errorf("submit: got stdout %q, want no script", out)
			}
			if got := listing(); got != before {
				t.Errorf("files changed:\n%s\nwant\n%s", got, before)
			}
		})
	}
}
