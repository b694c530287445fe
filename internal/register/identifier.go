package register

import (
	"errors"
	"regexp"
	"strings"
	"unicode"
)

// actionIdentifierChars is the character class of Port's action identifier pattern
// `^(?!\.{1,2}$)[\p{L}0-9@_.+:=-]+$` (POST /v1/actions). Go's regexp has no look-ahead, so the
// exclusion of "." and ".." is checked by hand in validActionIdentifier.
var actionIdentifierPattern = regexp.MustCompile(`^[\p{L}0-9@_.+:=-]+$`)

// ValidActionIdentifier reports whether id is accepted by Port as an action or automation identifier.
func ValidActionIdentifier(id string) bool {
	return id != "." && id != ".." && actionIdentifierPattern.MatchString(id)
}

// errNoIdentifier is returned for titles that contain no character Port allows in an identifier.
var errNoIdentifier = errors.New("it has no letter or digit to build an identifier from")

// ActionIdentifier derives the identifier of the self-service action from its title.
//
// It first does what the guide's workflow does (lowercase, every space to "_"), so that users who migrate
// keep the identifiers their actions already have. Only when that result would be refused by Port's
// identifier pattern, every run of spaces and other characters is folded into a single "_" and "_" is
// trimmed from both ends. Titles that leave nothing usable (or only "." or "..") are an error, never an empty
// identifier.
func ActionIdentifier(title string) (string, error) {
	guide := strings.ReplaceAll(strings.ToLower(title), " ", "_")
	if ValidActionIdentifier(guide) {
		return guide, nil
	}
	var b strings.Builder
	folding := false
	for _, r := range strings.ToLower(title) {
		if r != ' ' && allowedRune(r) {
			b.WriteRune(r)
			folding = false
			continue
		}
		if !folding {
			b.WriteByte('_')
			folding = true
		}
	}
	id := strings.Trim(b.String(), "_")
	if !ValidActionIdentifier(id) {
		return "", errNoIdentifier
	}
	return id, nil
}

// allowedRune reports whether r may appear in an action identifier.
func allowedRune(r rune) bool {
	switch {
	case r >= '0' && r <= '9':
		return true
	case strings.ContainsRune("@_.+:=-", r):
		return true
	default:
		return unicode.IsLetter(r)
	}
}

// AutomationIdentifier is the identifier of the automation that records the runs of action id, as the
// guide's create_port_automation.sh derives it from the title "Automation for runs of <id>".
func AutomationIdentifier(actionID string) string { return "automation_for_runs_of_" + actionID }

// AutomationTitle is the guide's title for the automation of action id.
func AutomationTitle(actionID string) string { return "Automation for runs of " + actionID }
