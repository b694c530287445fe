package cli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
)

// errNotLoopback is what tests get instead of a connection to anything but this machine.
var errNotLoopback = errors.New("test network guard: only loopback addresses may be dialled")

// loopbackOnly is an HTTP client that refuses, before any DNS lookup, every address that is not loopback.
// Every command test uses it, so that an input pointing at the real Port (a blank base URL, a region) can
// never send traffic off this machine.
func loopbackOnly() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && !strings.EqualFold(host, "localhost") {
				return nil, &net.OpError{Op: "dial", Net: network, Err: errNotLoopback}
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 16,
	}}
}

// testPortOptions are the Port client options of every command test: loopback only, and short retry waits.
func testPortOptions() []port.Option {
	return []port.Option{port.WithHTTPClient(loopbackOnly()), port.WithRetries(3, time.Millisecond, 5*time.Millisecond)}
}
