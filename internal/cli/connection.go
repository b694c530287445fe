package cli

import (
	"cmp"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/input"
	"github.com/port-roi/port-roi-action/internal/port"
)

// connection is how to reach an organisation's Port API.
type connection struct {
	creds    port.Credentials
	endpoint input.Endpoint
}

// parseConnection checks the credentials and the region or base URL. The secret is masked before anything
// else can print it.
func parseConnection(gh *ghaction.Env, v *values) (connection, error) {
	var c connection
	secret := v.get("port-client-secret")
	gh.Mask(secret)
	var errs []error
	var err error
	c.creds.ClientID, err = input.Secret("port-client-id", v.get("port-client-id"),
		"pass secrets.PORT_CLIENT_ID, or set the PORT_CLIENT_ID environment variable")
	errs = append(errs, err)
	c.creds.ClientSecret, err = input.Secret("port-client-secret", secret,
		"pass secrets.PORT_CLIENT_SECRET, or set the PORT_CLIENT_SECRET environment variable")
	errs = append(errs, err)
	c.endpoint, err = input.ParseEndpoint("port-region", v.get("port-region"), "port-base-url", v.get("port-base-url"))
	errs = append(errs, err)
	return c, errors.Join(errs...)
}

// client returns a Port client whose access token is masked in the log the moment it is issued.
func (c connection) client(gh *ghaction.Env, opts ...port.Option) (*port.Client, error) {
	base := []port.Option{
		port.WithUserAgent("port-roi-action/" + Version),
		port.WithTokenObserver(gh.Mask),
		port.WithDebug(func(msg string) { gh.Debug("%s", msg) }),
	}
	return port.New(c.endpoint.APIURL, c.creds, append(base, opts...)...)
}

// limits are the deadlines of a run.
type limits struct {
	run, request time.Duration
}

// parseLimits reads the timeout and request-timeout inputs.
func parseLimits(v *values) (limits, error) {
	var l limits
	var errRun, errRequest error
	l.run, errRun = input.Duration("timeout", v.get("timeout"), 5*time.Minute)
	l.request, errRequest = input.Duration("request-timeout", v.get("request-timeout"), 30*time.Second)
	return l, errors.Join(errRun, errRequest)
}

// reportInputErrors prints every input problem and returns ExitInput.
func reportInputErrors(gh *ghaction.Env, err error) int {
	errs := flatten(err)
	// In the order action.yml lists the inputs, whichever part of the command found them.
	slices.SortStableFunc(errs, func(a, b error) int { return cmp.Compare(inputOrder(a), inputOrder(b)) })
	for _, e := range errs {
		gh.Error("%v", e)
	}
	gh.Info("Nothing was sent to Port. Fix the inputs above and run again (exit code %d).", ExitInput)
	return ExitInput
}

// inputOrder is the position in Inputs() of the input an error names ("manifest[3].title" counts as
// manifest); errors about anything else come last.
func inputOrder(err error) int {
	specs := Inputs()
	var ie *input.Error
	if !errors.As(err, &ie) {
		return len(specs)
	}
	name, _, _ := strings.Cut(ie.Name, "[")
	for i, s := range specs {
		if s.Name == name {
			return i
		}
	}
	return len(specs)
}

// reportFailure prints a failure once, with a hint where one helps.
func reportFailure(gh *ghaction.Env, err error) {
	for _, e := range flatten(err) {
		gh.Error("%v", e)
	}
	if hint := hintFor(err); hint != "" {
		gh.Info("Hint: %s", hint)
	}
}

// hintFor suggests what to check for the most common failures.
func hintFor(err error) string {
	var netErr net.Error
	switch {
	case port.IsUnauthorized(err):
		return "Port refused the credentials: check port-client-id and port-client-secret, and that port-region (eu or us) is your organisation's region."
	case errors.Is(err, context.DeadlineExceeded):
		return "Port did not answer in time (see the timeout and request-timeout inputs); it may be slow or unreachable. Run again: every step is safe to repeat."
	case errors.As(err, &netErr):
		return "Port could not be reached: check port-region or port-base-url and the runner's network. Every step is safe to repeat."
	}
	return ""
}

// flatten lists the errors joined in err.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
