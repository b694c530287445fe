package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// A cancelled run (SIGTERM from the runner) stops the request in flight at once, still writes a last run-log
// line, exits non-zero and leaves no definition behind.
func TestRegisterCancelled(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	runID := o.dispatch(t)
	// Port takes a long time to create the action; the run is cancelled while it waits.
	o.emu.InjectFault(portemu.Fault{Method: http.MethodPost, Path: "/v1/actions", Delay: time.Minute, Times: 1})
	inFlight := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/actions" {
			close(inFlight)
		}
		o.emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	env := newActionsEnv(t, srv.URL, map[string]any{"actionTitle": "Create S3 Bucket", "category": "infrastructure",
		"port_context": `{"runId":"` + runID + `"}`})
	env.vars["INPUT_REPORT-STATUS"] = "true"
	if code := runCancelled(t, env, inFlight); code != ExitFailure {
		t.Errorf("exit code %d, want %d", code, ExitFailure)
	}
	if _, ok := o.emu.Action("create_s3_bucket"); ok {
		t.Error("the action was created after cancellation")
	}
	if _, ok := o.emu.Action("automation_for_runs_of_create_s3_bucket"); ok {
		t.Error("the automation was created after cancellation")
	}
	if _, ok := o.emu.Entity(roimodel.ActionBlueprint, "create_s3_bucket"); ok {
		t.Error("the entity was written after cancellation")
	}
	logs := o.emu.RunLogs(runID)
	if len(logs) == 0 {
		t.Fatal("no run-log line after cancellation")
	}
	last := logs[len(logs)-1]
	if !strings.Contains(last.Message, `⏹️ Registering "create_s3_bucket" was cancelled before it finished`) || last.TerminationStatus != port.RunFailure {
		t.Errorf("last run-log line = %+v", last)
	}
	if !strings.Contains(env.stdout.String(), "::error::cancelled before it finished") {
		t.Errorf("no error annotation:\n%s", env.stdout.String())
	}
}

// bootstrap, cancelled while Port holds a blueprint create, stops at once with exit 1 and a last run-log
// line saying so; a re-run completes the setup.
func TestBootstrapCancelled(t *testing.T) {
	t.Parallel()
	o := emptyOrg(t)
	o.emu.InjectFault(portemu.Fault{Method: http.MethodPost, Path: "/v1/blueprints", Delay: time.Minute, Times: 1})
	inFlight := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/blueprints" {
			once.Do(func() { close(inFlight) })
		}
		o.emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	env := newBootstrapEnv(t, srv.URL)
	if code := runCancelled(t, env, inFlight); code != ExitFailure {
		t.Errorf("exit code %d, want %d", code, ExitFailure)
	}
	if !strings.Contains(env.stdout.String(), "::error::cancelled before it finished") {
		t.Errorf("no cancellation error:\n%s", env.stdout.String())
	}

	// The blueprint whose create was cut short is not there; a re-run completes the setup.
	env2 := newBootstrapEnv(t, o.url)
	if code := env2.run(t); code != ExitOK {
		t.Fatalf("re-run: exit code %d:\n%s", code, env2.stdout.String())
	}
	if _, ok := o.emu.Blueprint(roimodel.ActionRunBlueprint); !ok {
		t.Error("the re-run did not complete the setup")
	}
}

// runCancelled runs the command of env and cancels it once inFlight is closed (Port holds a request); it
// returns the exit code.
func runCancelled(t *testing.T, env *actionsEnv, inFlight <-chan struct{}) int {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() {
		done <- Run(ctx, nil, Env{Getenv: func(k string) string { return env.vars[k] }, Stdout: &env.stdout, Stderr: &env.stdout, PortOptions: testPortOptions()})
	}()
	<-inFlight
	cancel()
	select {
	case code := <-done:
		return code
	case <-time.After(30 * time.Second): // liveness only: the request waits a minute if cancellation is ignored
		t.Fatal("the command did not stop after cancellation")
		return 0
	}
}
