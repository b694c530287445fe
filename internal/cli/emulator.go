package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

func runEmulator(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("emulator", "serve the embedded Port emulator (an in-memory Port API) until interrupted, "+
		"so that the action, act or any Port client can be pointed at it with port-base-url", env)
	addr := fs.String("addr", "127.0.0.1:9300", "address to listen on")
	clientID := fs.String("client-id", portemu.DemoClientID, "client ID the emulator accepts")
	clientSecret := fs.String("client-secret", portemu.DemoClientSecret, "client secret the emulator accepts")
	empty := fs.Bool("empty", false, "start without the guide's blueprints (as a fresh organisation)")
	if code, done := parseFlags(fs, args, env); done {
		return code
	}
	opts := []portemu.Option{portemu.WithCredentials(*clientID, *clientSecret)}
	if !*empty {
		opts = append(opts, portemu.WithBlueprints(roimodel.Blueprints()...))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "emulator: %v\n", err)
		return ExitInput
	}
	srv := &http.Server{Handler: portemu.New(opts...), ReadHeaderTimeout: 10 * time.Second}
	secret := "as given"
	if *clientSecret == portemu.DemoClientSecret {
		secret = portemu.DemoClientSecret // a public demo value, not a secret
	}
	fmt.Fprintf(env.Stdout, "Port emulator listening on http://%s (client id %s, client secret %s). Stop it with Ctrl-C.\n",
		ln.Addr(), *clientID, secret)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(env.Stderr, "emulator: %v\n", err)
		return ExitFailure
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(env.Stderr, "emulator: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}
