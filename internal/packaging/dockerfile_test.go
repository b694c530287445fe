package packaging

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// releaseLDFlags are the linker flags of the release build, without the version's value: no symbol table and
// no DWARF (-s -w), and the version in cli.Version. The Dockerfile and TestReleaseBinaryInEmptyRoot use them.
const releaseLDFlags = "-s -w -X " + versionVar + "="

// dockerInstruction is one Dockerfile instruction with its continuation lines joined.
type dockerInstruction struct {
	cmd  string // upper case
	args string
}

func parseDockerfile(text string) []dockerInstruction {
	var out []dockerInstruction
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if rest, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{cmd: strings.ToUpper(cmd), args: strings.Join(strings.Fields(args), " ")})
		cur.Reset()
	}
	return out
}

// TestDockerfile checks the rules a docker action's image must follow, and that its Go build is the release
// build that TestReleaseBinaryInEmptyRoot runs.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	ins := parseDockerfile(read(t, "Dockerfile"))
	var froms []string
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			froms = append(froms, in.args)
		case "USER":
			t.Errorf("Dockerfile: USER %s: docker actions must run as root, the only user that can write $GITHUB_OUTPUT and the job summary", in.args)
		}
	}
	if len(froms) != 2 {
		t.Fatalf("Dockerfile: %d stages, want 2 (the builder and scratch)", len(froms))
	}

	// The builder runs on the build platform and cross-compiles, with the Go release of go.mod.
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(read(t, "go.mod"))
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	builder := regexp.MustCompile(`^--platform=\$BUILDPLATFORM golang:` + regexp.QuoteMeta(goVersion[1]) + `(\.\d+)?(-[a-z0-9.]+)? AS build$`)
	if !builder.MatchString(froms[0]) {
		t.Errorf("Dockerfile: first stage FROM %s, want FROM --platform=$BUILDPLATFORM golang:%s… AS build", froms[0], goVersion[1])
	}
	if froms[1] != "scratch" {
		t.Errorf("Dockerfile: final stage FROM %s, want scratch", froms[1])
	}
	final := ins[slices.IndexFunc(ins, func(in dockerInstruction) bool { return in.cmd == "FROM" && in.args == "scratch" }):]

	want := map[string]bool{
		"ARG TARGETOS TARGETARCH": false,
		"COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt": false,
		`ENTRYPOINT ["/port-roi-action"]`: false,
	}
	var build string
	for _, in := range ins {
		line := in.cmd + " " + in.args
		if _, ok := want[line]; ok {
			want[line] = true
		}
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	for line, found := range want {
		if !found {
			t.Errorf("Dockerfile: missing %s", line)
		}
	}
	if last := final[len(final)-1]; last.cmd != "ENTRYPOINT" {
		t.Errorf("Dockerfile: the last instruction is %s, want the exec-form ENTRYPOINT", last.cmd)
	}
	for _, in := range final {
		if in.cmd == "RUN" || in.cmd == "WORKDIR" {
			t.Errorf("Dockerfile: %s in the scratch stage (it has no shell; GitHub sets the workdir)", in.cmd)
		}
	}
	for _, part := range []string{
		"CGO_ENABLED=0", "GOOS=$TARGETOS", "GOARCH=$TARGETARCH",
		`go build -trimpath -ldflags "` + releaseLDFlags + `${VERSION}"`,
		"./cmd/port-roi-action",
	} {
		if !strings.Contains(build, part) {
			t.Errorf("Dockerfile: the go build step lacks %s:\n%s", part, build)
		}
	}
}

// TestDockerignore checks that the build context holds what the build needs.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	lines := strings.Split(read(t, ".dockerignore"), "\n")
	for _, need := range []string{"!go.mod", "!go.sum", "!cmd/", "!internal/"} {
		if !slices.Contains(lines, need) {
			t.Errorf(".dockerignore: the build needs %s", need)
		}
	}
}
