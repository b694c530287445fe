package input

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		region, baseURL string
		want            Endpoint
		wantErr         string
	}{
		{"", "", Endpoint{"https://api.port.io", "https://app.port.io", "eu"}, ""},
		{"EU", "", Endpoint{"https://api.port.io", "https://app.port.io", "eu"}, ""},
		{"us", "", Endpoint{"https://api.us.port.io", "https://app.us.port.io", "us"}, ""},
		{"us", "https://api.getport.io/", Endpoint{"https://api.getport.io", "https://app.port.io", "eu"}, ""},
		{"", "https://api.us.getport.io", Endpoint{"https://api.us.getport.io", "https://app.us.port.io", "us"}, ""},
		{"", "http://127.0.0.1:9300", Endpoint{"http://127.0.0.1:9300", "https://app.port.io", "eu"}, ""},
		{"", "http://localhost:9300/prefix/", Endpoint{"http://localhost:9300/prefix", "https://app.port.io", "eu"}, ""},
		{"", "http://[::1]:9300", Endpoint{"http://[::1]:9300", "https://app.port.io", "eu"}, ""},
		{"asia", "", Endpoint{}, `input "port-region" = "asia": expected eu or us (or set port-base-url)`},
		{"", "http://api.port.io", Endpoint{}, `must use https`},
		{"", "http://10.0.0.1:9300", Endpoint{}, `must use https`},
		{"", "https://user:pw@api.port.io", Endpoint{}, `must not contain credentials`},
		{"", "https://api.port.io?x=1", Endpoint{}, `must not have a query`},
		{"", "api.port.io", Endpoint{}, `expected an absolute URL`},
		{"", "ftp://api.port.io", Endpoint{}, `expected an http(s) URL`},
		{"", "javascript:alert(1)", Endpoint{}, `expected an absolute URL`},
	}
	for _, tt := range tests {
		got, err := ParseEndpoint("port-region", tt.region, "port-base-url", tt.baseURL)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseEndpoint(%q, %q) error = %v, want %q", tt.region, tt.baseURL, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseEndpoint(%q, %q): %v", tt.region, tt.baseURL, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseEndpoint(%q, %q) (-want +got):\n%s", tt.region, tt.baseURL, diff)
		}
	}
}

func TestBool(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{"": false, "true": true, "True": true, "TRUE": true, "false": false, " FALSE ": false} {
		got, err := Bool("dry-run", raw, false)
		if err != nil || got != want {
			t.Errorf("Bool(%q) = %v, %v; want %v", raw, got, err, want)
		}
	}
	for _, raw := range []string{"yes", "1", "tru", "on"} {
		if _, err := Bool("dry-run", raw, false); err == nil {
			t.Errorf("Bool(%q): no error", raw)
		}
	}
}

func TestHours(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]float64{"0": 0, "4": 4, "0.5": 0.5, ".5": 0.5, "1e3": 1000, " 2 ": 2, "3.": 3} {
		got, err := Hours("lead-time-before", raw)
		if err != nil || got == nil || *got != want {
			t.Errorf("Hours(%q) = %v, %v; want %v", raw, got, err, want)
		}
	}
	for _, raw := range []string{"", "  ", "null"} {
		if got, err := Hours("lead-time-before", raw); got != nil || err != nil {
			t.Errorf("Hours(%q) = %v, %v; want nil, nil", raw, got, err)
		}
	}
	for _, raw := range []string{"-1", "-0", "NaN", "Inf", "+Inf", "1e309", "4h", "0x10", "1_000", "1,5", "two", "+3", "1e", "$(id)"} {
		if got, err := Hours("lead-time-before", raw); err == nil {
			t.Errorf("Hours(%q) = %v, want an error", raw, *got)
		}
	}
}

func TestCategory(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"security": "security",
		`{"identifier":"security","title":"Security","blueprint":"actions_categories","properties":{}}`: "security",
		`"security"`:           "security",
		"team/platform=1":      "team/platform=1",
		"Sécurité":             "Sécurité",
		` {"identifier":"a"} `: "a",
	} {
		got, err := Category("category", raw)
		if err != nil || got != want {
			t.Errorf("Category(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"", "a b", "..", `{"title":"x"}`, `{"identifier":""}`, `{"identifier":["a"]}`, `{bad json`, `[1]`, "a\nb", strings.Repeat("a", 1001),
		strings.Repeat("[", 100000)} {
		if got, err := Category("category", raw); err == nil {
			t.Errorf("Category(%.40q) = %q, want an error", raw, got)
		}
	}
}

func TestRunID(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"":                                       "",
		`{"runId":"r_abc","blueprint":"action"}`: "r_abc",
		"r_abc":                                  "r_abc",
	} {
		got, err := RunID("port-context", raw)
		if err != nil || got != want {
			t.Errorf("RunID(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{`{"runId":5}`, `{"runId":""}`, `{}`, `{"runId":"a b"}`, "r 1", `{"runId":"r_1"`, strings.Repeat("r", 300)} {
		if got, err := RunID("port-context", raw); err == nil {
			t.Errorf("RunID(%q) = %q, want an error", raw, got)
		}
	}
}

func TestSecretNeverRepeatsTheValue(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "has space-s3cr3t", "line\nbreak-s3cr3t", strings.Repeat("s3cr3t", 500)} {
		_, err := Secret("port-client-secret", raw, "hint")
		if err == nil {
			t.Fatalf("Secret(%q): no error", raw)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error %q repeats the secret", err)
		}
	}
}

// FuzzParseEndpoint: a base URL is either refused or gives https, or http on loopback, without credentials,
// query or fragment.
func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"https://api.port.io", "http://127.0.0.1:9300/x", "http://10.0.0.1", "https://u:p@h", "//x", "http://[::1]:1"} {
		f.Add("eu", s)
	}
	f.Fuzz(func(t *testing.T, region, baseURL string) {
		ep, err := ParseEndpoint("port-region", region, "port-base-url", baseURL)
		if err != nil {
			return
		}
		u, perr := url.Parse(ep.APIURL)
		if perr != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("ParseEndpoint(%q, %q) = %q", region, baseURL, ep.APIURL)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
			t.Fatalf("ParseEndpoint(%q, %q) = %q: not https, not loopback", region, baseURL, ep.APIURL)
		}
	})
}
