package packaging

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// workflowFiles lists, relative to the root, the workflows of .github/workflows and every YAML file under
// examples/.
func workflowFiles(t *testing.T) []string {
	t.Helper()
	dir := root(t)
	var files []string
	for _, pattern := range []string{".github/workflows/*.yml", ".github/workflows/*.yaml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(dir, f)
			files = append(files, filepath.ToSlash(rel))
		}
	}
	err := filepath.WalkDir(filepath.Join(dir, "examples"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(files, ".github/workflows/ci.yml") || !slices.Contains(files, "examples/workflows/create-port-automation.yml") {
		t.Fatalf("workflow files not found: %v", files)
	}
	return files
}

// lintProject copies action.yml and the given files (relative to the root) into a new directory laid out as a
// repository, with an empty .git so that actionlint sees a project: it then reads ./action.yml for every
// `uses: ./` and checks the action's metadata and the `with:` keys against it, whether or not the tests run in
// a git checkout. extra adds files by relative path and content.
func lintProject(t *testing.T, files []string, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	copies := map[string]string{"action.yml": read(t, "action.yml")}
	for _, f := range files {
		copies[f] = read(t, f)
	}
	for name, content := range extra {
		copies[name] = content
	}
	for name, content := range copies {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// actionlint runs actionlint, the go tool dependency, over files (relative to project) and returns its report
// with project's path removed. shellcheck and pyflakes are used where installed (GitHub's runners have
// shellcheck), and switched off where not.
func actionlint(t *testing.T, project string, files []string) (report string, ok bool) {
	t.Helper()
	args := []string{"tool", "actionlint", "-no-color"}
	for _, tool := range []string{"shellcheck", "pyflakes"} {
		if _, err := exec.LookPath(tool); err != nil {
			args = append(args, "-"+tool+"=")
		}
	}
	for _, f := range files {
		args = append(args, filepath.Join(project, filepath.FromSlash(f)))
	}
	cmd := exec.CommandContext(t.Context(), goTool(t), args...)
	cmd.Dir = root(t) // `go tool` needs the module
	out, err := cmd.CombinedOutput()
	report = string(out)
	if rel, relErr := filepath.Rel(root(t), project); relErr == nil {
		report = strings.ReplaceAll(report, rel+string(filepath.Separator), "")
	}
	report = strings.ReplaceAll(report, project+string(filepath.Separator), "")
	if err != nil {
		if _, isExit := err.(*exec.ExitError); !isExit {
			t.Fatalf("go tool actionlint: %v\n%s", err, report)
		}
		return report, false
	}
	return report, true
}

// TestActionlint lints every workflow and example. ci.yml runs the action with `uses: ./`, so action.yml's
// metadata and the `with:` keys given to it are checked too. The subtests run one after the other, so that
// actionlint is built once (go tool keeps the build in the build cache).
func TestActionlint(t *testing.T) {
	t.Parallel()
	t.Run("workflows and examples", func(t *testing.T) {
		files := workflowFiles(t)
		if report, ok := actionlint(t, lintProject(t, files, nil), files); !ok {
			t.Errorf("actionlint:\n%s", report)
		}
	})
	// The harness itself: a workflow giving `uses: ./` an input that action.yml does not declare must fail.
	t.Run("an unknown input of the local action fails", func(t *testing.T) {
		bad := ".github/workflows/bad.yml"
		project := lintProject(t, nil, map[string]string{bad: `on: push
permissions: {}
jobs:
  register:
    runs-on: ubuntu-latest
    steps:
      - uses: ./
        with:
          port-client-idd: x
`})
		report, ok := actionlint(t, project, []string{bad})
		if ok || !strings.Contains(report, `input "port-client-idd" is not defined in action`) {
			t.Errorf("actionlint accepted an unknown input of the local action (ok=%v):\n%s", ok, report)
		}
	})
}

// workflow is what the policy checks read from a workflow file.
type workflow struct {
	Permissions any `yaml:"permissions"`
	Jobs        map[string]struct {
		Permissions any `yaml:"permissions"`
		Steps       []struct {
			Uses string `yaml:"uses"`
			Run  string `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

var (
	// pinnedUses is a third-party action pinned to a full commit SHA, with the release in a comment.
	pinnedUses = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+(\.\d+)*\s*$`)
	usesLine   = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*(\S+)`)
)

// TestWorkflowPolicies checks what actionlint does not: every workflow sets permissions; every third-party
// action is pinned to a commit SHA with its version in a comment; no `run:` script expands an expression
// (values go through env:, so no input can become shell code); examples use this action by its major tag.
func TestWorkflowPolicies(t *testing.T) {
	t.Parallel()
	_, major := releaseVersion(t)
	for _, file := range workflowFiles(t) {
		text := read(t, file)
		var wf workflow
		decodeYAML(t, file, text, &wf)
		if wf.Permissions == nil {
			t.Errorf("%s: no top-level permissions; the default token may write", file)
		}
		example := strings.HasPrefix(file, "examples/")
		for job, j := range wf.Jobs {
			for i, s := range j.Steps {
				if strings.Contains(s.Run, "${{") {
					t.Errorf("%s: job %s, step %d: run: expands an expression; pass it through env:", file, job, i+1)
				}
			}
		}
		for n, line := range strings.Split(text, "\n") {
			m := usesLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			ref := m[1]
			switch {
			case ref == "./" || strings.HasPrefix(ref, "./"):
			case example && ref == "port-roi/port-roi-action@"+major:
			case pinnedUses.MatchString(line):
			default:
				t.Errorf("%s:%d: %s: pin third-party actions to a full commit SHA followed by a version comment (# v1.2.3)", file, n+1, ref)
			}
		}
	}
	var ex workflow
	decodeYAML(t, "example", read(t, "examples/workflows/create-port-automation.yml"), &ex)
	if p, ok := ex.Permissions.(map[string]any); !ok || len(p) != 0 {
		t.Errorf("examples/workflows/create-port-automation.yml: permissions = %v, want {} (the action needs no GITHUB_TOKEN)", ex.Permissions)
	}
}
