package cli

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/port-roi/port-roi-action/internal/bootstrap"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// The demo's GitHub repository for setup_new_action, and its starter categories (the sample action's
// category among them).
const (
	demoOrg        = "acme"
	demoRepo       = "platform"
	demoCategories = "Infrastructure, Security"
)

// bootstrap runs the bootstrap command against the demo's empty organisation, then again, and prints a
// few lines about each run instead of their logs.
func (d *demo) bootstrap(ctx context.Context) error {
	run := func() (bootstrap.Result, error) {
		vars := map[string]string{"PORT_CLIENT_ID": portemu.DemoClientID, "PORT_CLIENT_SECRET": portemu.DemoClientSecret}
		var log bytes.Buffer
		env := d.env
		env.Getenv = func(k string) string { return vars[k] }
		env.Stdout, env.Stderr = &log, &log
		code, res := bootstrapCommand(ctx, env, []string{"--port-base-url", d.baseURL,
			"--github-org", demoOrg, "--github-repo", demoRepo, "--categories", demoCategories})
		if code != ExitOK {
			return res, fmt.Errorf("bootstrap exited with %d:\n%s", code, log.String())
		}
		return res, nil
	}
	res, err := run()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(d.env.Stdout, 2, 4, 2, ' ', 0)
	for _, kind := range []bootstrap.Kind{bootstrap.KindBlueprint, bootstrap.KindAction, bootstrap.KindCategory, bootstrap.KindAgent, bootstrap.KindDashboard} {
		var ids, outcomes []string
		for _, o := range res.Objects {
			if o.Kind == kind {
				ids = append(ids, o.ID)
				if !slices.Contains(outcomes, string(o.Outcome)) {
					outcomes = append(outcomes, string(o.Outcome))
				}
			}
		}
		if len(ids) > 0 {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", kind, strings.Join(ids, ", "), strings.Join(outcomes, ", "))
		}
	}
	w.Flush()
	fmt.Fprintf(d.env.Stdout, "setup_new_action dispatches %s in %s/%s; the dashboard has %d number charts and the AI agent.\n",
		roimodel.DefaultWorkflow, demoOrg, demoRepo, len(roimodel.NumberCharts(roimodel.Dashboard(true))))

	again, err := run()
	if err != nil {
		return err
	}
	if n := again.Count(register.Unchanged); n != len(again.Objects) {
		return fmt.Errorf("the second bootstrap changed %d objects", len(again.Objects)-n)
	}
	fmt.Fprintf(d.env.Stdout, "Running bootstrap again checks the same %d objects and writes nothing.\n", len(again.Objects))
	return nil
}
