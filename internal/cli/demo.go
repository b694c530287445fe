package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/report"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// The demo's sample action and its baselines: requests used to wait two days for a ticket to be picked up
// and took two hours of hands-on work.
const (
	demoTitle    = "Create S3 bucket"
	demoCategory = "infrastructure"
	demoLeadTime = "48"
	demoCycle    = "2"
)

func runDemo(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("demo", "run the whole flow against the embedded Port emulator: bootstrap the guide's setup, register a sample action "+
		"twice, play runs of it, and show the action_run entities and the hours saved (no account, no network)", env)
	if code, done := parseFlags(fs, args, env); done {
		return code
	}
	clock := &fakeClock{now: env.Now().UTC().Truncate(time.Second)}
	emu := portemu.New(portemu.WithClock(clock.Now)) // an empty organisation: bootstrap sets it up
	baseURL, shutdown, err := serveLoopback(emu)
	if err != nil {
		fmt.Fprintf(env.Stderr, "demo: %v\n", err)
		return ExitFailure
	}
	defer shutdown()
	d := &demo{env: env, emu: emu, clock: clock, baseURL: baseURL}
	if err := d.run(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "demo: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

type demo struct {
	env     Env
	emu     *portemu.Server
	clock   *fakeClock
	baseURL string
	client  *port.Client
}

func (d *demo) run(ctx context.Context) error {
	out := d.env.Stdout
	fmt.Fprintf(out, "port-roi-action demo: everything below talks to the embedded Port emulator at %s.\n", d.baseURL)
	fmt.Fprintf(out, "No Port account and no network are used.\n\n")

	client, err := port.New(d.baseURL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret},
		port.WithUserAgent("port-roi-action/"+Version))
	if err != nil {
		return err
	}
	d.client = client

	heading(out, "1. bootstrap sets up the guide in an empty organisation")
	if err := d.bootstrap(ctx); err != nil {
		return err
	}

	heading(out, fmt.Sprintf("2. A user runs \"Setup new action experience\" for %q; Port dispatches the workflow, which runs register", demoTitle))
	runID, code, err := d.register(ctx)
	if err != nil {
		return err
	}
	if code != ExitOK {
		return fmt.Errorf("register exited with %d", code)
	}
	fmt.Fprintf(out, "\nThe Port run log of %s now reads:\n", runID)
	for _, l := range d.emu.RunLogs(runID) {
		fmt.Fprintf(out, "  | %s\n", indent(l.Message))
	}

	heading(out, "3. Registering the same action again changes nothing")
	if _, code, err = d.register(ctx); err != nil {
		return err
	}
	if code != ExitOK {
		return fmt.Errorf("second register exited with %d", code)
	}

	heading(out, fmt.Sprintf("4. Teams use %q: five runs, one failure, two behind an approval", demoTitle))
	if err := d.playRuns(ctx); err != nil {
		return err
	}

	heading(out, "5. Each run is now an action_run entity, written by the automation")
	d.printRuns()

	heading(out, "6. Hours saved, as Port's aggregation properties on the action entity sum them")
	if err := d.printSavings(); err != nil {
		return err
	}
	if err := d.report(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nNext: point the action at your own organisation (README, \"Quick start\").\n")
	return nil
}

// report ends the demo with what `port-roi-action report` prints: the same runs, read back from Port
// page by page, per category, per action and per week.
func (d *demo) report(ctx context.Context) error {
	heading(d.env.Stdout, "7. port-roi-action report: the same numbers per category, action and week (schedule it with examples/workflows/weekly-roi-report.yml)")
	rep, err := report.Build(ctx, d.client, report.Options{Now: d.clock.Now()})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = io.WriteString(d.env.Stdout, report.Text(rep))
	return err
}

// register runs the register command as the dispatched workflow would, and returns the Port run it reported to.
func (d *demo) register(ctx context.Context) (runID string, code int, err error) {
	run, err := d.client.CreateRun(ctx, "setup_new_action", map[string]any{
		"actionTitle": demoTitle, "category": map[string]any{"identifier": demoCategory, "title": "Infrastructure"},
		"lead_time_before": 48, "cycle_time": 2,
	})
	if err != nil {
		return "", 0, fmt.Errorf("run setup_new_action: %w", err)
	}
	vars := map[string]string{"PORT_CLIENT_ID": portemu.DemoClientID, "PORT_CLIENT_SECRET": portemu.DemoClientSecret}
	env := d.env
	env.Getenv = func(k string) string { return vars[k] }
	code = runRegister(ctx, env, []string{
		"--port-base-url", d.baseURL,
		"--action-title", demoTitle,
		"--category", demoCategory,
		"--lead-time-before", demoLeadTime,
		"--cycle-time-before", demoCycle,
		"--port-context", `{"runId":"` + run.ID + `"}`,
	})
	if _, err := d.client.PatchRun(ctx, run.ID, port.RunPatch{Status: port.RunSuccess}); err != nil {
		return "", 0, fmt.Errorf("finish run %s: %w", run.ID, err)
	}
	return run.ID, code, nil
}

// playRuns plays runs of the sample action with the emulator's clock moving forward, the way teams would
// over a few days.
func (d *demo) playRuns(ctx context.Context) error {
	id := "create_s3_bucket"
	type play struct {
		what     string
		approval time.Duration // 0: no approval step
		work     time.Duration
		status   string
	}
	plays := []play{
		{"runs for 4 minutes and succeeds", 0, 4 * time.Minute, port.RunSuccess},
		{"runs for 12 minutes and succeeds", 0, 12 * time.Minute, port.RunSuccess},
		{"runs for 2 minutes and fails", 0, 2 * time.Minute, port.RunFailure},
		{"waits 3 hours for approval, then runs for 20 minutes", 3 * time.Hour, 20 * time.Minute, port.RunSuccess},
		{"waits 30 minutes for approval, then runs for 8 minutes", 30 * time.Minute, 8 * time.Minute, port.RunSuccess},
	}
	for i, p := range plays {
		if p.approval > 0 {
			if err := d.requireApproval(ctx, id); err != nil {
				return err
			}
		}
		d.clock.Advance(6 * time.Hour)
		run, err := d.emu.CreateRun(id, map[string]any{}, portemu.DemoUser)
		if err != nil {
			return fmt.Errorf("start run %d: %w", i+1, err)
		}
		if p.approval > 0 {
			d.clock.Advance(p.approval)
			if _, err := d.emu.ApproveRun(run.ID, true); err != nil {
				return fmt.Errorf("approve run %d: %w", i+1, err)
			}
		}
		d.clock.Advance(p.work)
		if _, err := d.emu.FinishRun(run.ID, p.status); err != nil {
			return fmt.Errorf("finish run %d: %w", i+1, err)
		}
		fmt.Fprintf(d.env.Stdout, "  run %d (%s) %s\n", i+1, run.ID, p.what)
	}
	return nil
}

// requireApproval turns on approvals for the action, as its owners would once it touches production.
func (d *demo) requireApproval(ctx context.Context, id string) error {
	def, err := d.client.GetAction(ctx, id)
	if err != nil {
		return err
	}
	if def["requiredApproval"] != nil && def["requiredApproval"] != false {
		return nil
	}
	def["requiredApproval"] = map[string]any{"type": "ANY"}
	_, err = d.client.UpdateAction(ctx, id, def)
	return err
}

func (d *demo) printRuns() {
	runs := d.emu.Entities(roimodel.ActionRunBlueprint)
	sort.Slice(runs, func(i, j int) bool {
		return str(runs[i].Properties["created_at"]) < str(runs[j].Properties["created_at"])
	})
	w := tabwriter.NewWriter(d.env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  RUN\tSTATUS\tDURATION\tAPPROVAL WAIT\tCYCLE TIME\tLEAD TIME SAVED\tCYCLE TIME SAVED")
	for _, e := range runs {
		p := e.Properties
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Identifier, str(p["status"]),
			seconds(p["duration"]), seconds(p["waiting_for_approval_duration"]), seconds(p["cycle_time"]),
			hoursValue(p["savings_lead_time_h"]), hoursValue(p["savings_cycle_time_h"]))
	}
	w.Flush()
}

func (d *demo) printSavings() error {
	e, ok := d.emu.Entity(roimodel.ActionBlueprint, "create_s3_bucket")
	if !ok {
		return errors.New("the action entity is missing")
	}
	p := e.Properties
	w := tabwriter.NewWriter(d.env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "  Runs\t%s (%s succeeded, %s failed)\n", num(p["total_runs"]), num(p["successful_runs"]), num(p["failed_runs"]))
	fmt.Fprintf(w, "  Total hours saved (lead time)\t%s\n", hoursValue(p["total_lead_time_savings_h"]))
	fmt.Fprintf(w, "  Total processing time saved (cycle time)\t%s\n", hoursValue(p["total_cycle_time_savings_h"]))
	fmt.Fprintf(w, "  Total time waiting for approval\t%s\n", hoursValue(p["total_waiting_time_h"]))
	w.Flush()
	return nil
}

func heading(w io.Writer, s string) { fmt.Fprintf(w, "\n== %s\n\n", s) }

func indent(s string) string {
	out := []rune{}
	for _, r := range s {
		out = append(out, r)
		if r == '\n' {
			out = append(out, []rune("  | ")...)
		}
	}
	return string(out)
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func num(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return "–"
}

func seconds(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "–"
	}
	return (time.Duration(f) * time.Second).String()
}

func hoursValue(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "–"
	}
	return strconv.FormatFloat(f, 'f', 2, 64) + " h"
}

// fakeClock is the emulator's clock in the demo, moved forward by hand so that runs take hours in an instant.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// serveLoopback serves h on a free loopback port until shutdown is called.
func serveLoopback(h http.Handler) (baseURL string, shutdown func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed on shutdown
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx) //nolint:errcheck // best effort at exit
	}, nil
}
