package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// BenchmarkStartup builds the release binary (CGO_ENABLED=0, -trimpath, -ldflags "-s -w", as the Dockerfile
// does) and starts it once per iteration to register an action against a local emulator. It reports the
// binary's size and the median time from starting the process to the first request reaching the emulator:
// what a job pays before any work, the container's own start aside. Run it with -benchtime 20x.
func BenchmarkStartup(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "port-roi-action")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/port-roi-action")
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}

	emu := portemu.New(portemu.WithBlueprints(roimodel.Blueprints()...))
	var mu sync.Mutex
	var first chan time.Time // the arrival of the current process's first request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		select {
		case first <- time.Now():
		default:
		}
		mu.Unlock()
		emu.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	c, err := port.New(srv.URL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.UpsertEntity(b.Context(), roimodel.CategoriesBlueprint, port.Entity{Identifier: "infrastructure"}, port.UpsertOptions{Merge: true}); err != nil {
		b.Fatal(err)
	}

	var took []time.Duration
	b.ResetTimer()
	for i := range b.N {
		arrived := make(chan time.Time, 1)
		mu.Lock()
		first = arrived
		mu.Unlock()
		cmd := exec.Command(bin, "register", "--port-base-url", srv.URL, "--action-title", fmt.Sprintf("Startup %d", i), "--category", "infrastructure")
		cmd.Env = []string{"PORT_CLIENT_ID=" + portemu.DemoClientID, "PORT_CLIENT_SECRET=" + portemu.DemoClientSecret}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-arrived:
			took = append(took, at.Sub(start))
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			b.Fatal("the binary sent no request within 10s")
		}
		if err := cmd.Wait(); err != nil {
			b.Fatalf("register: %v", err)
		}
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-to-first-request")
	b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MiB")
}
