package register

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestActionIdentifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		title string
		want  string
	}{
		// What the guide's `tr '[:upper:]' '[:lower:]' | sed 's/ /_/g'` gives, kept as is.
		{"Create S3 Bucket", "create_s3_bucket"},
		{"create_s3_bucket", "create_s3_bucket"},
		{"Deploy  Service", "deploy__service"},
		{"Restart k8s pod (prod)", "restart_k8s_pod_prod"},
		{"v1.2 rollout", "v1.2_rollout"},
		{"a@b+c:d=e-f", "a@b+c:d=e-f"},
		{"Créer un bucket", "créer_un_bucket"},
		{"Создать бакет", "создать_бакет"},
		{"バケットを作成", "バケットを作成"},
		// Only when the guide's result breaks Port's pattern are other characters folded.
		{`Create "S3" bucket`, "create_s3_bucket"},
		{"Create S3/GCS bucket", "create_s3_gcs_bucket"},
		{`back\slash`, "back_slash"},
		{"Tom's & Jerry's", "tom_s_jerry_s"},
		{"$(rm -rf /)", "rm_-rf"},
		{"`id`; echo pwned", "id_echo_pwned"},
		{"🚀 Deploy", "deploy"},
		{"deploy 🚀🚀 fast", "deploy_fast"},
		{"::set-output name=x::y", "::set-output_name=x::y"},
		{"100%", "100"},
		{"a/..", "a_.."},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			t.Parallel()
			got, err := ActionIdentifier(tt.title)
			if err != nil {
				t.Fatalf("ActionIdentifier(%q): %v", tt.title, err)
			}
			if got != tt.want {
				t.Errorf("ActionIdentifier(%q) = %q, want %q", tt.title, got, tt.want)
			}
		})
	}
}

func TestActionIdentifierNothingUsable(t *testing.T) {
	t.Parallel()
	for _, title := range []string{"", "!!!", "🚀", "/", "./", "..", ".", " / "} {
		if got, err := ActionIdentifier(title); err == nil {
			t.Errorf("ActionIdentifier(%q) = %q, want an error", title, got)
		}
	}
}

func TestAutomationIdentifier(t *testing.T) {
	t.Parallel()
	if got, want := AutomationIdentifier("create_s3_bucket"), "automation_for_runs_of_create_s3_bucket"; got != want {
		t.Errorf("AutomationIdentifier = %q, want %q", got, want)
	}
	if got, want := AutomationTitle("create_s3_bucket"), "Automation for runs of create_s3_bucket"; got != want {
		t.Errorf("AutomationTitle = %q, want %q", got, want)
	}
}

// FuzzActionIdentifier checks that any title gives either an identifier Port accepts, also as part of the
// automation identifier, or an error; and that titles already valid after the guide's rule keep that form.
func FuzzActionIdentifier(f *testing.F) {
	for _, s := range []string{"Create S3 Bucket", "..", "a b/c", "$(x)", "\x00", "ǅ", "İstanbul", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, title string) {
		id, err := ActionIdentifier(title)
		if err != nil {
			return
		}
		if !ValidActionIdentifier(id) || !ValidActionIdentifier(AutomationIdentifier(id)) {
			t.Fatalf("ActionIdentifier(%q) = %q, which Port refuses", title, id)
		}
		if !utf8.ValidString(id) {
			t.Fatalf("ActionIdentifier(%q) = %q: invalid UTF-8", title, id)
		}
		guide := strings.ReplaceAll(strings.ToLower(title), " ", "_")
		if ValidActionIdentifier(guide) && id != guide {
			t.Fatalf("ActionIdentifier(%q) = %q, want the guide's %q", title, id, guide)
		}
	})
}
