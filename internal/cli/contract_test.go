package cli

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/portspec"
)

// specOnce loads Port's OpenAPI spec for this test binary; the file is data next to the repository, never a
// copy inside it.
var specOnce = sync.OnceValues(func() (*portspec.Spec, error) {
	path, ok := portspec.Locate()
	if !ok {
		return nil, nil
	}
	return portspec.Load(path)
})

// TestRequestsMatchPortOpenAPI runs every command path against the emulator and validates each request the
// client sent against Port's public OpenAPI spec: path, method, query parameters and body.
func TestRequestsMatchPortOpenAPI(t *testing.T) {
	t.Parallel()
	spec, err := specOnce()
	if err != nil {
		t.Fatal(err)
	}
	if spec == nil {
		if os.Getenv(portspec.EnvSpecPath) != "" {
			t.Fatalf("%s is set but the spec was not found", portspec.EnvSpecPath)
		}
		t.Skip("Port's OpenAPI spec (../shared/port-openapi/apispec.json) is not present; contract test skipped")
	}

	var reqs []portemu.Request
	t.Run("register, first and second run, dry run, drift repair", func(t *testing.T) {
		o := newOrg(t)
		env := newActionsEnv(t, o.url, map[string]any{"actionTitle": "Créer un bucket S3 (prod)", "category": `{"identifier":"infrastructure"}`,
			"lead_time_before": "48", "cycle_time": "0.5", "port_context": `{"runId":"` + o.dispatch(t) + `"}`})
		env.vars["INPUT_REPORT-STATUS"] = "true"
		for _, dry := range []string{"false", "false", "true"} {
			env.vars["INPUT_DRY-RUN"] = dry
			env.vars["INPUT_PORT-CONTEXT"] = `{"runId":"` + o.dispatch(t) + `"}`
			if code := env.run(t); code != ExitOK {
				t.Fatalf("exit %d:\n%s", code, env.stdout.String())
			}
			reqs = append(reqs, o.emu.Requests()...)
		}
		auto, _ := o.emu.Action("automation_for_runs_of_créer_un_bucket_s3_prod")
		auto["publish"] = false
		if _, err := o.client(t).UpdateAction(t.Context(), "automation_for_runs_of_créer_un_bucket_s3_prod", auto); err != nil {
			t.Fatal(err)
		}
		env.vars["INPUT_DRY-RUN"] = "false"
		env.vars["INPUT_PORT-CONTEXT"] = `{"runId":"` + o.dispatch(t) + `"}`
		if code := env.run(t); code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, env.stdout.String())
		}
		reqs = append(reqs, o.emu.Requests()...)
	})
	t.Run("demo", func(t *testing.T) {
		clock := &fakeClock{now: mustTime(t, "2026-03-02T09:00:00Z")}
		emu := portemu.New(portemu.WithClock(clock.Now)) // empty: the demo starts with bootstrap
		baseURL, shutdown, err := serveLoopback(emu)
		if err != nil {
			t.Fatal(err)
		}
		defer shutdown()
		var out bytes.Buffer
		d := &demo{env: Env{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &out}, emu: emu, clock: clock, baseURL: baseURL}
		if err := d.run(t.Context()); err != nil {
			t.Fatalf("demo: %v\n%s", err, out.String())
		}
		reqs = append(reqs, emu.Requests()...)
	})

	t.Run("bootstrap: empty, again, dry run, partial states, no AI agents, an existing dashboard", func(t *testing.T) {
		reqs = append(reqs, bootstrapContractRequests(t)...)
	})
	t.Run("report, all time and windows", func(t *testing.T) {
		reqs = append(reqs, reportContractRequests(t)...)
	})
	t.Run("register --manifest: first run with a partial bulk failure, re-run, dry run", func(t *testing.T) {
		o, env, _ := manifestOrg(t)
		o.emu.InjectFault(portemu.Fault{Method: http.MethodPost, Path: pathBulk, Times: 1, Status: http.StatusBadGateway})
		for _, dry := range []string{"false", "false", "true"} {
			env.vars["INPUT_DRY-RUN"] = dry
			env.vars["INPUT_PORT-CONTEXT"] = `{"runId":"` + o.dispatch(t) + `"}`
			env.run(t) // the exit code is the manifest tests' business; here every request must match the spec
			reqs = append(reqs, o.emu.Requests()...)
		}
	})

	for _, r := range reqs {
		err := spec.ValidateRequest(r.Method, r.Path, r.RawQuery, r.Body)
		var reqErr *portspec.RequestError
		if errors.As(err, &reqErr) && reqErr.Part == portspec.PartMethod && strings.HasPrefix(r.Path, "/v1/pages") {
			// Port's spec documents GET and DELETE of pages but not POST /v1/pages nor PATCH /v1/pages/{id}, which
			// Port's own Terraform provider, Ocean and docs use (port-api.md §8.1): nothing to validate them against.
			continue
		}
		if err != nil {
			t.Errorf("%v\nbody: %s", err, r.Body)
		}
	}
	if len(reqs) < 20 {
		t.Errorf("only %d requests were checked", len(reqs))
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
