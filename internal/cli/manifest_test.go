package cli

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

const pathBulk = "/v1/blueprints/action/entities/bulk"

// manifestOrg is an organisation with the categories infrastructure and security, and a workspace holding
// a manifest of 40 actions (two bulk batches of entities) and 3 more in a category that does not exist.
func manifestOrg(t *testing.T) (*org, *actionsEnv, string) {
	t.Helper()
	o := newOrg(t)
	if _, err := o.client(t).UpsertEntity(t.Context(), roimodel.CategoriesBlueprint,
		port.Entity{Identifier: "security", Title: "Security"}, port.UpsertOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range 40 {
		switch {
		case i == 7: // the guide's dispatch names, the category as the object Port sends
			fmt.Fprintf(&b, "- actionTitle: Guide style %d\n  category: {identifier: security, title: Security}\n  lead_time_before: 8\n  cycle_time: \"1.5\"\n", i)
		case i%2 == 0:
			fmt.Fprintf(&b, "- title: Create bucket %d\n  category: infrastructure\n  lead_time_before: %d\n  cycle_time_before: 2\n", i, 24+i)
		default:
			fmt.Fprintf(&b, "- title: Rotate secret %d\n  category: security\n", i)
		}
	}
	for i := range 3 {
		fmt.Fprintf(&b, "- title: Lost action %d\n  category: no_such_category\n", i)
	}
	workspace := t.TempDir()
	if err := os.WriteFile(filepath.Join(workspace, "actions.yaml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	runID := o.dispatch(t)
	env := newActionsEnv(t, o.url, map[string]any{"port_context": `{"runId":"` + runID + `"}`})
	env.vars["GITHUB_WORKSPACE"] = workspace
	env.vars["INPUT_MANIFEST"] = "actions.yaml"
	env.vars["INPUT_CONCURRENCY"] = "4"
	return o, env, runID
}

// manifestWrites lists the requests that changed Port objects (run-log lines aside), as "METHOD path".
func manifestWrites(emu *portemu.Server) []string {
	var out []string
	for _, r := range emu.Requests() {
		if r.Method == http.MethodGet || strings.HasSuffix(r.Path, "/search") || strings.HasSuffix(r.Path, "/logs") ||
			r.Path == "/v1/auth/access_token" {
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	slices.Sort(out)
	return out
}

func count(s []string, want string) int {
	n := 0
	for _, x := range s {
		if x == want {
			n++
		}
	}
	return n
}

// End to end, bulk mode registers 40 actions with one 207 partial failure from Port and 3 items in a
// missing category; a re-run writes nothing; a drifted automation and a changed baseline are repaired with
// one write each.
func TestRegisterManifest(t *testing.T) {
	t.Parallel()
	o, env, runID := manifestOrg(t)
	// Port writes the first bulk request but refuses its fourth entity.
	var entities []string
	for i := range 20 {
		if i != 3 {
			entities = append(entities, fmt.Sprintf(`{"identifier":"x","index":%d,"created":true,"additionalData":{}}`, i))
		}
	}
	o.emu.InjectFault(portemu.Fault{Method: http.MethodPost, Path: pathBulk, Times: 1, AfterHandling: true, Status: http.StatusMultiStatus,
		Body: `{"ok":true,"entities":[` + strings.Join(entities, ",") + `],"errors":[{"identifier":"x","index":3,"statusCode":422,"error":"invalid_request","message":"injected refusal"}]}`})

	if code := env.run(t); code != ExitFailure {
		t.Fatalf("exit code %d, want %d:\n%s", code, ExitFailure, env.stdout.String())
	}
	if diff := cmp.Diff(map[string]string{"registered": "39", "failed": "4"}, env.outputs(t)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	w := manifestWrites(o.emu)
	if got := []int{count(w, "POST /v1/actions"), count(w, "POST "+pathBulk), len(w)}; !slices.Equal(got, []int{80, 2, 82}) {
		t.Errorf("writes: %d action creations, %d bulk upserts, %d in all; want 80, 2, 82:\n%s", got[0], got[1], got[2], strings.Join(w, "\n"))
	}
	for i := range 40 {
		id := fmt.Sprintf("create_bucket_%d", i)
		switch {
		case i == 7:
			id = "guide_style_7"
		case i%2 == 1:
			id = fmt.Sprintf("rotate_secret_%d", i)
		}
		if _, ok := o.emu.Action(id); !ok {
			t.Errorf("action %s was not created", id)
		}
		if _, ok := o.emu.Action(register.AutomationIdentifier(id)); !ok {
			t.Errorf("automation of %s was not created", id)
		}
		if _, ok := o.emu.Entity(roimodel.ActionBlueprint, id); !ok {
			t.Errorf("entity %s was not created", id)
		}
	}
	if e, _ := o.emu.Entity(roimodel.ActionBlueprint, "guide_style_7"); e.Relations["category"] != "security" || e.Properties["cycle_time"] != 1.5 || e.Properties["lead_time_before"] != 8.0 {
		t.Errorf("entity guide_style_7 = %+v, want category security, lead time 8, cycle time 1.5", e)
	}
	for i := range 3 {
		if _, ok := o.emu.Action(fmt.Sprintf("lost_action_%d", i)); ok {
			t.Errorf("lost_action_%d was created, though its category does not exist", i)
		}
	}

	summary := readFile(t, env.summary)
	for _, want := range []string{
		"39 registered, 4 failed.",
		"| `manifest[40]` Lost action 0 | `lost_action_0` | skipped | skipped | failed | input \"manifest\\[40\\].category\" = \"no\\_such\\_category\": no entity",
		"upsert entity", "422 Unprocessable Entity: invalid\\_request: injected refusal",
		"| `manifest[0]` Create bucket 0 | `create_bucket_0` | created | created |",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("job summary lacks %q:\n%s", want, summary)
		}
	}
	if rows := strings.Count(summary, "\n| `manifest["); rows != 43 {
		t.Errorf("job summary has %d item rows, want 43", rows)
	}
	stdout := env.stdout.String()
	for _, want := range []string{"Identifier        Action   Automation  Entity   Error", "::error::manifest[40] \"Lost action 0\" (lost_action_0): input \"manifest[40].category\"",
		"❌ Registered 39 of 43 actions from the manifest; 4 failed (see the job summary)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}

	// Whichever bulk request came first was refused its fourth entity: manifest[3] or manifest[23].
	if !regexp.MustCompile(`(?m)^manifest\[(3|23)\] Rotate secret (3|23) +rotate_secret_(3|23) +created +created +failed +upsert entity "rotate_secret_(3|23)" of blueprint action: .*injected refusal$`).MatchString(stdout) {
		t.Errorf("stdout lacks the table row of the refused entity:\n%s", stdout)
	}

	// The Port run log has lines per phase and per batch, not per item.
	var lines []string
	for _, l := range o.emu.RunLogs(runID) {
		lines = append(lines, strings.Split(l.Message, "\n")...)
	}
	log := strings.Join(lines, "\n")
	for _, want := range []string{
		"▶ Registering 43 actions from the manifest, 4 requests at a time",
		"🔍 Found 2 of 3 categories, 0 existing actions and automations, 0 of 43 action entities",
		`❌ Category "no_such_category" does not exist in blueprint actions_categories: 3 actions skipped (manifest[40], manifest[41], manifest[42])`,
		"⚠️ Entities, batch ", ": 19 written (19 created, 0 updated), 1 refused: manifest[", "422 invalid_request: injected refusal",
		"📦 Entities, batch ", "20 written (20 created, 0 updated)",
		"⏳ 40 of 40 done: actions 40 created; automations 40 created",
		"❌ Registered 39 of 43 actions from the manifest; 4 failed (see the job summary)",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("Port run log lacks %q:\n%s", want, log)
		}
	}
	if len(lines) > 20 {
		t.Errorf("Port run log has %d lines for 43 actions, want at most 20:\n%s", len(lines), log)
	}

	// A re-run writes nothing: the refused entity was in fact written, the rest is as the manifest says.
	o.emu.ResetRequests()
	env.stdout.Reset()
	if code := env.run(t); code != ExitFailure { // the 3 items of the missing category still fail
		t.Fatalf("re-run: exit code %d, want %d:\n%s", code, ExitFailure, env.stdout.String())
	}
	if w := manifestWrites(o.emu); len(w) != 0 {
		t.Errorf("re-run wrote:\n%s", strings.Join(w, "\n"))
	}
	if n := len(o.emu.Requests()); n > 10 {
		t.Errorf("re-run sent %d requests, want the token, the reads and the log lines only", n)
	}
	if out := env.outputs(t); out["failed"] != "3" {
		t.Errorf("re-run outputs %v, want failed=3", out)
	}

	// Drift: one automation edited in Port, one baseline changed in the manifest.
	c := o.client(t)
	auto := register.Automation("rotate_secret_1", "https://app.port.io")
	auto["description"] = "edited by hand"
	if _, err := c.UpdateAction(t.Context(), register.AutomationIdentifier("rotate_secret_1"), auto); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(env.vars["GITHUB_WORKSPACE"], "actions.yaml")
	text := strings.Replace(readFile(t, manifest), "lead_time_before: 24\n", "lead_time_before: 30\n", 1)
	if err := os.WriteFile(manifest, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	o.emu.ResetRequests()
	env.run(t)
	want := []string{"POST " + pathBulk, "PUT /v1/actions/automation_for_runs_of_rotate_secret_1"}
	if diff := cmp.Diff(want, manifestWrites(o.emu)); diff != "" {
		t.Errorf("repair writes (-want +got):\n%s", diff)
	}
	if e, _ := o.emu.Entity(roimodel.ActionBlueprint, "create_bucket_0"); e.Properties["lead_time_before"] != 30.0 {
		t.Errorf("create_bucket_0 lead time = %v, want 30", e.Properties["lead_time_before"])
	}
	if a, _ := o.emu.Action(register.AutomationIdentifier("rotate_secret_1")); len(register.Drift(register.Automation("rotate_secret_1", "https://app.port.io"), a)) > 0 {
		t.Errorf("automation of rotate_secret_1 still drifts: %v", register.Drift(register.Automation("rotate_secret_1", "https://app.port.io"), a))
	}
	if !strings.Contains(readFile(t, env.summary), "| `manifest[0]` Create bucket 0 | `create_bucket_0` | unchanged | unchanged | updated (properties.lead\\_time\\_before) |") {
		t.Errorf("job summary lacks the entity update of manifest[0]:\n%s", readFile(t, env.summary))
	}
}

// Every problem of a manifest is reported at once, naming the item, with exit code 2 and nothing sent.
func TestRegisterManifestInputErrors(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	for _, tc := range []struct {
		name     string
		manifest string
		vars     map[string]string
		want     []string
	}{{
		name: "bad items",
		manifest: "- title: Create S3 bucket\n  category: infrastructure\n  lead_time_before: -1\n" +
			"- title: \"\"\n  category: a b\n" +
			"- title: Ok\n  category: infrastructure\n  cycle_time_before: 4h\n  owner: me\n" +
			"- title: create s3 bucket\n  category: infrastructure\n" +
			"- just a string\n",
		want: []string{
			`::error::input "manifest[0].lead_time_before" = "-1": a baseline cannot be negative; expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown (line 3)`,
			`::error::input "manifest[1].title" is empty: the title of the self-service action is required, e.g. "Create S3 bucket" (line 4)`,
			`::error::input "manifest[1].category" = "a b": not a valid Port entity identifier: use letters, digits and @ _ . + : \ / = - (at most 1000 characters) (line 5)`,
			`::error::input "manifest[2].owner": unknown field; an action has title, category, lead_time_before and cycle_time_before (or the guide's names actionTitle and cycle_time) (line 9)`,
			`::error::input "manifest[2].cycle_time_before" = "4h": expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown (line 8)`,
			`::error::input "manifest[3].title" = "create s3 bucket": derives the action identifier "create_s3_bucket", like manifest[0].title "Create S3 bucket" (line 1): list each action once`,
			`::error::input "manifest[4]": expected an action: a mapping with title, category, lead_time_before and cycle_time_before, not a single value "just a string" (line 12)`,
		},
	}, {
		name:     "not a list",
		manifest: "title: x\ncategory: y\n",
		want:     []string{`::error::input "manifest": expected a list of actions (YAML items starting with "- ", or a JSON array), not a mapping (line 1)`},
	}, {
		name:     "inline JSON with the single-action inputs as well",
		manifest: "INLINE",
		vars:     map[string]string{"INPUT_MANIFEST": `[{"title": "A", "category": "infrastructure"}, {"title": "B"}]`, "INPUT_ACTION-TITLE": "C", "INPUT_CONCURRENCY": "65"},
		want: []string{
			`::error::input "manifest[1].category" is empty: the category is required: an actions_categories identifier (line 1)`,
			`::error::input "action-title" = "C": not with manifest: each action of the manifest has its own; give one or the other`,
			`::error::input "concurrency" = "65": expected a whole number from 1 to 64`,
		},
	}, {
		name:     "missing file",
		manifest: "NONE",
		vars:     map[string]string{"INPUT_MANIFEST": "nope.yaml"},
		want:     []string{`::error::input "manifest" = "nope.yaml": the manifest file cannot be read (open `},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			workspace := t.TempDir()
			env := newActionsEnv(t, o.url, nil)
			env.vars["GITHUB_WORKSPACE"] = workspace
			env.vars["INPUT_MANIFEST"] = "actions.yaml"
			if tc.manifest != "INLINE" && tc.manifest != "NONE" {
				if err := os.WriteFile(filepath.Join(workspace, "actions.yaml"), []byte(tc.manifest), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for k, v := range tc.vars {
				env.vars[k] = v
			}
			if code := env.run(t); code != ExitInput {
				t.Fatalf("exit code %d, want %d:\n%s", code, ExitInput, env.stdout.String())
			}
			out := env.stdout.String()
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks\n%s\nin:\n%s", want, out)
				}
			}
			if n := strings.Count(out, "::error::"); n != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%s", n, len(tc.want), out)
			}
			if !strings.Contains(out, "Nothing was sent to Port.") {
				t.Errorf("output does not say that nothing was sent:\n%s", out)
			}
		})
	}
	if n := len(o.emu.Requests()); n != 0 {
		t.Errorf("%d requests were sent to Port, want none", n)
	}
}
