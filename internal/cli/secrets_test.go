package cli

import (
	"bytes"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// A recognisable client secret, so that any leak is found by a plain substring search.
const leakySecret = "S3CR3T-port-client-secret-7f3a9c"

// TestSecretsNeverLeak runs every command that talks to Port (register, also with a manifest, bootstrap and
// report) in every mode (success, dry run, re-run, failures, debug logging) with a
// recognisable client secret and asserts that neither it nor any access token Port handed out appears in
// stdout or stderr (other than the runner's own ::add-mask:: command), the outputs file, the job summary,
// the Port run log, or any file written under the workspace, the runner's temp dir or HOME.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	emu := portemu.New(portemu.WithCredentials(portemu.DemoClientID, leakySecret), portemu.WithBlueprints(roimodel.Blueprints()...))
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := port.New(srv.URL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: leakySecret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpsertEntity(t.Context(), roimodel.CategoriesBlueprint, port.Entity{Identifier: "infrastructure"}, port.UpsertOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAction(t.Context(), roimodel.SetupAction()); err != nil {
		t.Fatal(err)
	}
	var runIDs []string
	newRun := func() string {
		run, err := emu.CreateRun("setup_new_action", map[string]any{"actionTitle": "x", "category": "infrastructure"}, portemu.DemoUser)
		if err != nil {
			t.Fatal(err)
		}
		runIDs = append(runIDs, run.ID)
		return run.ID
	}

	home, workspace, runnerTemp := t.TempDir(), t.TempDir(), t.TempDir()
	var stdout, stderr bytes.Buffer
	cases := []struct {
		name string
		vars map[string]string
	}{
		{"first run", nil},
		{"re-run", nil},
		{"dry run", map[string]string{"INPUT_DRY-RUN": "true"}},
		{"debug logging", map[string]string{"ACTIONS_STEP_DEBUG": "true", "RUNNER_DEBUG": "1", "INPUT_REPORT-STATUS": "true"}},
		{"bad input", map[string]string{"INPUT_LEAD-TIME-BEFORE": leakySecret}},
		{"secret in the wrong input", map[string]string{"INPUT_ACTION-TITLE": leakySecret}},
		{"wrong secret", map[string]string{"INPUT_PORT-CLIENT-SECRET": leakySecret + "-wrong"}},
		{"secret from the environment", map[string]string{"INPUT_PORT-CLIENT-SECRET": "", "PORT_CLIENT_SECRET": leakySecret}},
		{"register --manifest", map[string]string{"INPUT_MANIFEST": "- title: Rotate keys\n  category: infrastructure\n- title: Scale up\n  category: infrastructure\n"}},
		{"bootstrap", map[string]string{"INPUT_COMMAND": "bootstrap", "INPUT_CATEGORIES": "Security"}},
		{"bootstrap, dry run with debug logging", map[string]string{"INPUT_COMMAND": "bootstrap", "INPUT_DRY-RUN": "true", "ACTIONS_STEP_DEBUG": "true"}},
		{"bootstrap, wrong secret", map[string]string{"INPUT_COMMAND": "bootstrap", "INPUT_PORT-CLIENT-SECRET": leakySecret + "-wrong"}},
		{"report", map[string]string{"INPUT_COMMAND": "report"}},
		{"report as JSON, with debug logging", map[string]string{"INPUT_COMMAND": "report", "INPUT_FORMAT": "json", "ACTIONS_STEP_DEBUG": "true"}},
		{"report, wrong secret", map[string]string{"INPUT_COMMAND": "report", "INPUT_PORT-CLIENT-SECRET": leakySecret + "-wrong"}},
	}
	var summaries, outputs []string
	for _, tc := range cases {
		env := newActionsEnv(t, srv.URL, map[string]any{"actionTitle": "Rotate keys", "category": "infrastructure",
			"lead_time_before": "4", "port_context": `{"runId":"` + newRun() + `"}`})
		env.vars["INPUT_PORT-CLIENT-SECRET"] = leakySecret
		env.vars["HOME"], env.vars["GITHUB_WORKSPACE"], env.vars["RUNNER_TEMP"] = home, workspace, runnerTemp
		for k, v := range tc.vars {
			env.vars[k] = v
		}
		Run(t.Context(), nil, Env{Getenv: func(k string) string { return env.vars[k] }, Stdout: &stdout, Stderr: &stderr, PortOptions: testPortOptions()})
		summaries = append(summaries, readFile(t, env.summary))
		outputs = append(outputs, readFile(t, env.output))
	}

	secrets := append([]string{leakySecret}, emu.Tokens()...)
	if len(secrets) < 2 {
		t.Fatal("no token was issued: the test did not exercise Port")
	}
	check := func(where, text string) {
		t.Helper()
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "::add-mask::") {
				continue
			}
			for _, s := range secrets {
				if strings.Contains(line, s) {
					t.Errorf("%s leaks %q in %q", where, s[:8]+"…", line)
				}
			}
		}
	}
	check("stdout", stdout.String())
	check("stderr", stderr.String())
	check("outputs", strings.Join(outputs, "\n"))
	check("job summary", strings.Join(summaries, "\n"))
	for _, id := range runIDs {
		for _, l := range emu.RunLogs(id) {
			check("Port run log", l.Message)
		}
	}
	for _, dir := range []string{home, workspace, runnerTemp} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Error(err)
				return nil
			}
			check(path, string(b))
			return nil
		})
	}
	// The mask itself must be there, before anything else is printed.
	if !strings.HasPrefix(stdout.String(), "::add-mask::"+leakySecret+"\n") {
		t.Errorf("stdout does not start with the secret's mask:\n%.300s", stdout.String())
	}
	for _, tok := range emu.Tokens() {
		if !strings.Contains(stdout.String(), "::add-mask::"+tok+"\n") {
			t.Errorf("token %s… was never masked", tok[:8])
		}
	}
}
