package packaging

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/cli"
	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// testVersion is the version the test's release build carries.
const testVersion = "v0.0.0-packaging-test"

// hostCACertificates is where Debian (the golang builder image included) keeps the CA bundle that the
// Dockerfile copies into the scratch image.
const hostCACertificates = "/etc/ssl/certs/ca-certificates.crt"

// TestReleaseBinaryInEmptyRoot builds the binary as the Dockerfile does, checks that it is static, and runs
// it the way the scratch image runs it: in a root that holds nothing but the binary, the CA certificates and
// the directories the runner mounts, as root, with the environment a docker action gets. It registers an
// action twice over: against an emulator served by this test on 127.0.0.1 (plain http on loopback), and
// against the binary's own `emulator --tls-dir --dispatch` over HTTPS, trusting the emulator's certificate
// through SSL_CERT_FILE as the CI job's docker action does.
func TestReleaseBinaryInEmptyRoot(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux only")
	}
	rootDir := t.TempDir()
	bin := filepath.Join(rootDir, "port-roi-action")
	buildRelease(t, bin)
	checkStatic(t, bin)

	if os.Geteuid() != 0 {
		t.Skip("running the binary in an empty root needs chroot, that is root (CI runs this test as root; " +
			"locally: sudo env PATH=\"$PATH\" go test -run TestReleaseBinaryInEmptyRoot ./internal/packaging)")
	}
	for _, dir := range []string{"etc/ssl/certs", "github/workspace", "github/workflow", "github/file_commands", "github/home", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootDir, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if certs, err := os.ReadFile(hostCACertificates); err == nil {
		if err := os.WriteFile(filepath.Join(rootDir, hostCACertificates), certs, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("version", func(t *testing.T) {
		out, code := runChrooted(t, rootDir, nil, "version")
		if want := "port-roi-action " + testVersion + "\n"; code != 0 || out != want {
			t.Errorf("version: exit %d, printed %q; want exit 0 and %q (the -X flag must set %s)", code, out, want, versionVar)
		}
	})

	t.Run("register over http on loopback", func(t *testing.T) {
		emu := portemu.New(portemu.WithBlueprints(roimodel.Blueprints()...))
		srv := httptest.NewServer(emu) // on 127.0.0.1, which the chrooted process shares
		defer srv.Close()
		runID := dispatchSetupAction(t, srv.URL)
		env := actionEnv(t, rootDir, srv.URL, strings.Replace(read(t, "examples/act/event.json"), "r_act_example", runID, 1))
		out, code := runChrooted(t, rootDir, env)
		if code != 0 {
			t.Fatalf("register: exit %d, want 0:\n%s", code, out)
		}
		checkOutputs(t, rootDir)
		if _, ok := emu.Action("automation_for_runs_of_create_s3_bucket"); !ok {
			t.Error("the automation is not in the emulator")
		}
		if e, ok := emu.Entity(roimodel.ActionBlueprint, "create_s3_bucket"); !ok || e.Properties["lead_time_before"] != 48.0 {
			t.Errorf("action entity = %+v, %v; want lead_time_before 48", e, ok)
		}
		if len(emu.RunLogs(runID)) == 0 {
			t.Errorf("nothing was written to the run log of %s", runID)
		}
	})

	t.Run("register over https trusting SSL_CERT_FILE", func(t *testing.T) {
		tlsDir := filepath.Join(rootDir, "github/workspace/.port-emulator")
		baseURL, stop := startEmulator(t, bin, "--addr", "127.0.0.1:0", "--tls-dir", tlsDir,
			"--dispatch", filepath.Join(root(t), "examples/act/event.json"))
		env := actionEnv(t, rootDir, baseURL, read(t, "examples/act/event.json"))
		env = append(env, "SSL_CERT_FILE=/github/workspace/.port-emulator/ca.pem")
		out, code := runChrooted(t, rootDir, env)
		if code != 0 {
			t.Fatalf("register: exit %d, want 0:\n%s", code, out)
		}
		checkOutputs(t, rootDir)
		if log := stop(); !strings.Contains(log, "Port run log of") || strings.Contains(log, "(0 lines)") {
			t.Errorf("the emulator shows no run log lines for the dispatched run:\n%s", log)
		}
	})
}

// buildRelease builds the binary with the Dockerfile's flags.
func buildRelease(t *testing.T, out string) {
	t.Helper()
	start := time.Now()
	cmd := exec.CommandContext(t.Context(), goTool(t), "build", "-trimpath", "-ldflags", releaseLDFlags+testVersion,
		"-o", out, "./cmd/port-roi-action")
	cmd.Dir = root(t)
	// -race or a cgo setting in the environment must not leak into the release build.
	cmd.Env = append(withoutEnv(os.Environ(), "GOFLAGS", "CGO_ENABLED"), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	t.Logf("release build: %v", time.Since(start).Round(time.Millisecond))
}

// checkStatic fails unless the binary is a static ELF executable: no program interpreter, no shared
// libraries, no symbol table (-s).
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a program interpreter (PT_INTERP): it is dynamically linked")
		}
	}
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil {
		t.Fatal(err)
	}
	if len(needed) > 0 {
		t.Errorf("the binary needs shared libraries %v", needed)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary has a symbol table; -s should have dropped it")
	}
}

// runChrooted runs the binary at the top of rootDir as root inside rootDir. The process shares this test's
// network namespace, so 127.0.0.1 is the test's loopback.
func runChrooted(t *testing.T, rootDir string, env []string, args ...string) (output string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/port-roi-action", args...)
	cmd.Env = append([]string{}, env...) // never the test's own environment
	cmd.Dir = "/github/workspace"        // taken inside the new root, as GitHub sets the container's workdir
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: rootDir}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	}
	t.Fatalf("run the binary chrooted: %v\n%s", err, out.String())
	return "", -1
}

// actionEnv writes the event payload and empty output files into the root, and returns the environment the
// runner gives the docker action: GITHUB_* paths under /github, and INPUT_* for the inputs action.yml
// defaults plus the credentials and base URL a workflow passes with `with:`.
func actionEnv(t *testing.T, rootDir, baseURL, event string) []string {
	t.Helper()
	files := map[string]string{"github/workflow/event.json": event, "github/file_commands/set_output": "", "github/file_commands/step_summary": ""}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(rootDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"GITHUB_ACTIONS=true",
		"GITHUB_EVENT_NAME=workflow_dispatch",
		"GITHUB_EVENT_PATH=/github/workflow/event.json",
		"GITHUB_OUTPUT=/github/file_commands/set_output",
		"GITHUB_STEP_SUMMARY=/github/file_commands/step_summary",
		"GITHUB_WORKSPACE=/github/workspace",
		"GITHUB_REPOSITORY=acme/platform",
		"HOME=/github/home",
		"INPUT_PORT-CLIENT-ID=" + portemu.DemoClientID,
		"INPUT_PORT-CLIENT-SECRET=" + portemu.DemoClientSecret,
		"INPUT_PORT-BASE-URL=" + baseURL,
	}
	for _, s := range cli.Inputs() {
		if s.Default != "" {
			env = append(env, "INPUT_"+strings.ToUpper(s.Name)+"="+s.Default)
		}
	}
	return env
}

// checkOutputs checks the outputs file the chrooted run wrote.
func checkOutputs(t *testing.T, rootDir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(rootDir, "github/file_commands/set_output"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ghaction.ParseOutputs(b)
	if err != nil {
		t.Fatalf("outputs file: %v\n%s", err, b)
	}
	want := map[string]string{
		"action-identifier":     "create_s3_bucket",
		"automation-identifier": "automation_for_runs_of_create_s3_bucket",
		"action-created":        "true",
		"automation-created":    "true",
		"automation-updated":    "false",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

// dispatchSetupAction plays Port before it dispatches the workflow: the category and setup_new_action exist,
// and a user runs setup_new_action. It returns the run id.
func dispatchSetupAction(t *testing.T, baseURL string) string {
	t.Helper()
	c, err := port.New(baseURL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := c.UpsertEntity(ctx, roimodel.CategoriesBlueprint, port.Entity{Identifier: "infrastructure", Title: "Infrastructure"},
		port.UpsertOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAction(ctx, roimodel.SetupAction()); err != nil {
		t.Fatal(err)
	}
	run, err := c.CreateRun(ctx, "setup_new_action", map[string]any{"actionTitle": "Create S3 Bucket", "category": "infrastructure"})
	if err != nil {
		t.Fatal(err)
	}
	return run.ID
}

// startEmulator starts `port-roi-action emulator` from the release binary (outside the root) and returns its
// base URL, and a function that stops it with an interrupt and returns everything it printed.
func startEmulator(t *testing.T, bin string, args ...string) (baseURL string, stop func() string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"emulator"}, args...)...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
	stop = func() string {
		cmd.Process.Signal(os.Interrupt) //nolint:errcheck // it may have exited already
		for l := range lines {
			log.WriteString(l + "\n")
		}
		if err := <-exited; err != nil {
			t.Errorf("emulator: %v\n%s", err, log.String())
		}
		return log.String()
	}
	timeout := time.After(20 * time.Second)
	for baseURL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the emulator stopped before it was ready:\n%s", log.String())
			}
			log.WriteString(l + "\n")
			if rest, found := strings.CutPrefix(strings.TrimSpace(l), "port-base-url"); found {
				baseURL = strings.TrimSpace(rest)
			}
		case <-timeout:
			stop()
			t.Fatalf("the emulator printed no port-base-url in 20 s:\n%s", log.String())
		}
	}
	t.Cleanup(func() { cmd.Process.Kill() }) //nolint:errcheck // os.ErrProcessDone once stopped
	return baseURL, stop
}

// goTool returns the go command of the toolchain running the tests (go test puts its GOROOT/bin first in PATH).
func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not in PATH: %v", err)
	}
	return p
}

// withoutEnv drops the named variables from an environment list.
func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || name == n
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
