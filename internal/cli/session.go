package cli

import (
	"context"
	"errors"
	"time"

	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/input"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/runlog"
)

// closeTimeout bounds the delivery of the last run-log lines, also after a cancellation or a timeout.
const closeTimeout = 15 * time.Second

// errCancelled replaces a run's errors when it was cancelled (SIGTERM, SIGINT): they only say that requests
// were cut short.
var errCancelled = errors.New("cancelled before it finished; nothing is half-written: run it again to complete it")

// session is what every command that writes to Port shares: the connection and the common inputs
// (dry-run, report-status, the timeouts, the workflow_dispatch payload), the client with its deadlines, the
// run-log reporter, and the way a run ends.
type session struct {
	env          Env
	gh           *ghaction.Env
	conn         connection
	dryRun       bool
	reportStatus bool
	limits       limits

	parent context.Context // the command's context, to tell a cancellation from a timeout
	cancel context.CancelFunc
	rep    *runlog.Reporter
}

// parseSession reads the common inputs, and the workflow_dispatch payload into v for the command's own
// inputs to fall back to. It returns every problem joined; the command adds its own before reporting.
func parseSession(env Env, gh *ghaction.Env, v *values) (*session, error) {
	s := &session{env: env, gh: gh}
	var errs []error
	var err error
	s.conn, err = parseConnection(gh, v)
	errs = append(errs, err)
	v.dispatch, err = gh.DispatchInputs()
	if err != nil {
		errs = append(errs, &input.Error{Name: "GITHUB_EVENT_PATH", Value: gh.Getenv("GITHUB_EVENT_PATH"),
			Expected: "the workflow_dispatch event payload could not be read: " + err.Error()})
	}
	s.dryRun, err = input.Bool("dry-run", v.get("dry-run"), false)
	errs = append(errs, err)
	s.reportStatus, err = input.Bool("report-status", v.get("report-status"), false)
	errs = append(errs, err)
	s.limits, err = parseLimits(v)
	errs = append(errs, err)
	return s, errors.Join(errs...)
}

// open starts the run: its deadline, a Port client and a reporter to the run log of runID. A dry run writes
// nothing, not even to the run log. The returned context carries the deadline; call close when done.
func (s *session) open(ctx context.Context, runID string) (context.Context, *port.Client, *runlog.Reporter, error) {
	s.parent = ctx
	ctx, s.cancel = context.WithTimeout(ctx, s.limits.run)
	opts := append([]port.Option{port.WithTimeout(s.limits.request)}, s.env.PortOptions...)
	client, err := s.conn.client(s.gh, opts...)
	if err != nil {
		s.cancel()
		return nil, nil, nil, err
	}
	switch {
	case s.dryRun && runID != "":
		s.gh.Notice("dry run: nothing is written to Port, not even to the run log of run %s", runID)
		runID = ""
	case runID == "":
		s.gh.Notice("no Port run id (port-context): progress is shown here only, not in a Port run log")
	}
	s.rep = runlog.New(ctx, s.gh, client, runID)
	return ctx, client, s.rep, nil
}

// cancelled reports whether the command was cancelled (not merely out of time).
func (s *session) cancelled() bool { return s.parent != nil && s.parent.Err() != nil }

// close ends the run: message is the last run-log line, sent after every other line and, with
// report-status, ending the Port run with SUCCESS or FAILURE (failed). It also prints the line.
func (s *session) close(message string, failed bool) {
	defer s.cancel()
	final := port.RunLog{Message: message}
	if s.reportStatus {
		final.TerminationStatus = port.RunSuccess
		if failed || s.cancelled() {
			final.TerminationStatus = port.RunFailure
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.parent), closeTimeout)
	defer cancel()
	s.rep.Close(ctx, final)
	s.gh.Info("%s", message)
}

// exitCode reports err (if any) once, with a hint, and returns the command's exit code: ExitInput for input
// problems only Port could reveal (a category that does not exist), ExitFailure for any other error.
func (s *session) exitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case input.IsInputError(err):
		reportFailure(s.gh, err)
		return ExitInput
	default:
		reportFailure(s.gh, err)
		return ExitFailure
	}
}
