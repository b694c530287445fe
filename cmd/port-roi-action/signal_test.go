package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// runMainEnv makes the test binary act as port-roi-action itself, so that the signal test exercises the real
// main (signal handling, exit code) without a separate build.
const runMainEnv = "PORT_ROI_ACTION_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// SIGTERM, which GitHub sends when a job is cancelled, stops the request in flight, posts a last run-log
// line and exits with 1, leaving nothing half-done in Port.
func TestSIGTERM(t *testing.T) {
	t.Parallel()
	emu := portemu.New(portemu.WithBlueprints(roimodel.Blueprints()...))
	inFlight := make(chan struct{})
	var armed atomic.Bool // set once the subprocess starts; the setup below also posts to /v1/actions
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if armed.Load() && r.Method == http.MethodPost && r.URL.Path == "/v1/actions" {
			select {
			case <-inFlight:
			default:
				close(inFlight)
			}
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	client, err := port.New(srv.URL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.UpsertEntity(t.Context(), roimodel.CategoriesBlueprint, port.Entity{Identifier: "infrastructure"}, port.UpsertOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateAction(t.Context(), roimodel.SetupAction()); err != nil {
		t.Fatal(err)
	}
	run, err := emu.CreateRun("setup_new_action", map[string]any{"actionTitle": "Create S3 Bucket", "category": "infrastructure"}, portemu.DemoUser)
	if err != nil {
		t.Fatal(err)
	}
	emu.InjectFault(portemu.Fault{Method: http.MethodPost, Path: "/v1/actions", Delay: time.Minute, Times: 1})

	dir := t.TempDir()
	event, _ := json.Marshal(map[string]any{"inputs": map[string]any{"actionTitle": "Create S3 Bucket", "category": "infrastructure",
		"port_context": `{"runId":"` + run.ID + `"}`}})
	eventPath, output := filepath.Join(dir, "event.json"), filepath.Join(dir, "output")
	if err := os.WriteFile(eventPath, event, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{runMainEnv + "=1", "GITHUB_ACTIONS=true", "GITHUB_EVENT_PATH=" + eventPath, "GITHUB_OUTPUT=" + output,
		"INPUT_PORT-CLIENT-ID=" + portemu.DemoClientID, "INPUT_PORT-CLIENT-SECRET=" + portemu.DemoClientSecret,
		"INPUT_PORT-BASE-URL=" + srv.URL, "INPUT_REPORT-STATUS=true"}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	armed.Store(true)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inFlight:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the action request never arrived:\n%s", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second): // liveness only: the request would wait a minute if SIGTERM were ignored
		_ = cmd.Process.Kill()
		t.Fatalf("port-roi-action did not stop on SIGTERM:\n%s", out.String())
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Errorf("exit: %v, want exit code 1\n%s", err, out.String())
	}
	if _, ok := emu.Action("create_s3_bucket"); ok {
		t.Error("the action was created after SIGTERM")
	}
	logs := emu.RunLogs(run.ID)
	if len(logs) == 0 || !strings.Contains(logs[len(logs)-1].Message, "was cancelled before it finished") || logs[len(logs)-1].TerminationStatus != port.RunFailure {
		t.Errorf("run log after SIGTERM: %+v", logs)
	}
}
