package packaging

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the files generated from the code (README tables and workflow, examples/port)")

// modulePath is the module of the repository; the release build sets the version in its internal/cli package.
const modulePath = "github.com/port-roi/port-roi-action"

// versionVar is what the release build's -X flag sets.
const versionVar = modulePath + "/internal/cli.Version"

// root returns the repository's root directory (the tests run in internal/packaging).
func root(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root not found: %v", err)
	}
	return dir
}

// read returns a file of the repository by its slash-separated path from the root.
func read(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// write replaces a file of the repository (with -update).
func write(t testing.TB, rel, content string) {
	t.Helper()
	path := filepath.Join(root(t), filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readmeMu serialises -update rewrites of README.md by tests that run in parallel.
var readmeMu sync.Mutex

var versionPattern = regexp.MustCompile(`^v(\d+)\.\d+\.\d+$`)

// releaseVersion returns the version in the VERSION file (v1.2.3) and its major tag (v1).
func releaseVersion(t testing.TB) (version, major string) {
	t.Helper()
	version = strings.TrimSpace(read(t, "VERSION"))
	m := versionPattern.FindStringSubmatch(version)
	if m == nil {
		t.Fatalf("VERSION = %q, want a release version like v1.2.3", version)
	}
	return version, "v" + m[1]
}
