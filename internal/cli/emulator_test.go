package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
)

// exampleEvent is the act payload the README tells users to dispatch; its port_context names run r_act_example.
const exampleEvent = "../../examples/act/event.json"

// lockedBuffer is a bytes.Buffer safe to write from the emulator's goroutine and read from the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startEmulator runs the emulator command until the returned stop function cancels its context; stop returns
// the exit code and everything printed. It waits for the banner and returns the printed port-base-url.
func startEmulator(t *testing.T, args ...string) (baseURL string, out *lockedBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out = &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"emulator"}, args...), Env{Getenv: func(string) string { return "" }, Stdout: out, Stderr: out})
	}()
	stop = func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatalf("the emulator did not stop within 10 s of its context's cancellation:\n%s", out)
			return -1
		}
	}
	t.Cleanup(cancel)
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, line := range strings.Split(out.String(), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "port-base-url"); ok && strings.Contains(out.String(), "Stop it with Ctrl-C.") {
				return strings.TrimSpace(rest), out, stop
			}
		}
		select {
		case code := <-done:
			t.Fatalf("the emulator exited with %d before it was ready:\n%s", code, out)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator printed no banner within 10 s:\n%s", out)
		}
	}
}

func TestEmulatorServesUntilCancelled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"http", false}, {"https with --tls-dir", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"--addr", "127.0.0.1:0", "--dispatch", exampleEvent}
			tlsDir := filepath.Join(t.TempDir(), "tls")
			hc := &http.Client{}
			if tc.tls {
				args = append(args, "--tls-dir", tlsDir, "--hostname", "emulator.test,192.0.2.7")
			}
			baseURL, out, stop := startEmulator(t, args...)

			for _, want := range []string{"client id       " + portemu.DemoClientID, "client secret   " + portemu.DemoClientSecret,
				"served as run \"r_act_example\" too"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the banner lacks %q:\n%s", want, out)
				}
			}
			if tc.tls {
				if !strings.HasPrefix(baseURL, "https://127.0.0.1:") {
					t.Errorf("port-base-url %q, want https on 127.0.0.1", baseURL)
				}
				cert := readCertificate(t, filepath.Join(tlsDir, caFileName))
				for _, name := range []string{"localhost", "emulator.test"} {
					if !slices.Contains(cert.DNSNames, name) {
						t.Errorf("certificate DNS names %v lack %s", cert.DNSNames, name)
					}
				}
				for _, ip := range []string{"127.0.0.1", "::1", "192.0.2.7"} {
					if !slices.ContainsFunc(cert.IPAddresses, net.ParseIP(ip).Equal) {
						t.Errorf("certificate IP addresses %v lack %s", cert.IPAddresses, ip)
					}
				}
				pool := x509.NewCertPool()
				pool.AddCert(cert)
				hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
			} else if !strings.HasPrefix(baseURL, "http://127.0.0.1:") {
				t.Errorf("port-base-url %q, want http on 127.0.0.1", baseURL)
			}

			// A client gets a token with the demo credentials, and finds the dispatched run under the payload's id.
			c, err := port.New(baseURL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret},
				port.WithHTTPClient(hc))
			if err != nil {
				t.Fatal(err)
			}
			run, err := c.GetRun(t.Context(), "r_act_example")
			if err != nil {
				t.Fatalf("get the dispatched run: %v", err)
			}
			if run.Status != port.RunInProgress || run.ID == "r_act_example" {
				t.Errorf("dispatched run = %+v; want an emulator run id, IN_PROGRESS", run)
			}
			if err := c.AddRunLog(t.Context(), "r_act_example", port.RunLog{Message: "hello from the test"}); err != nil {
				t.Fatalf("log to the dispatched run: %v", err)
			}

			if code := stop(); code != ExitOK {
				t.Errorf("exit code %d after cancellation, want %d:\n%s", code, ExitOK, out)
			}
			if !strings.Contains(out.String(), "  | hello from the test") {
				t.Errorf("the run log is not printed at exit:\n%s", out)
			}
			if _, err := hc.Get(baseURL + "/v1/blueprints"); err == nil {
				t.Error("the emulator still answers after it stopped")
			}
		})
	}
}

func readCertificate(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s is not a PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestEmulatorUsageErrors(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(bad, []byte(`{"inputs": {"actionTitle": "", "category": "{not json"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"dispatch without blueprints", []string{"--empty", "--dispatch", exampleEvent}, []string{"--dispatch needs the guide's blueprints"}},
		{"missing payload", []string{"--dispatch", filepath.Join(t.TempDir(), "nope.json")}, []string{"--dispatch", "nope.json"}},
		{"bad payload", []string{"--dispatch", bad}, []string{`"actionTitle"`, `"category"`}},
		{"bad address", []string{"--addr", "256.0.0.1:1"}, []string{"256.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			code := Run(t.Context(), append([]string{"emulator"}, tc.args...), Env{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &out})
			if code != ExitInput {
				t.Errorf("exit code %d, want %d:\n%s", code, ExitInput, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
