package checks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConfig feeds ParseConfig broken and hostile coffer.yaml files. It must never panic, must
// reject with a ConfigError naming the file (and a line inside it when it gives one), and whatever
// it accepts must hold only valid values with the defaults filled in.
func FuzzParseConfig(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join("..", "fixtures", "coffer.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	for _, s := range []string{
		"",
		"params:\n  archive_after_days: 14\n",
		"params:\n  archive_after_dayz: 14\n",
		"params:\n  object_lock_min_days: -1\n",
		"params:\n  cmk_required_for: [primary, nobody]\n",
		"params:\n  archive_classes: GLACIER\n",
		"account:\n  expected_id: 123456789012\n",
		"account:\n  expected_id: \"12345\"\n",
		"buckets:\n  primary: [\"[\"]\n",
		"buckets:\n  pairs:\n    a: b\n",
		"waivers:\n  - check: s3-bucket-versioning\n    resource: \"*\"\n    reason: r\n    expires: \"2099-01-01\"\n",
		"waivers:\n  - check: x\n    resource: \"[\"\n    reason: r\n    expires: \"2099-13-01\"\n",
		"waivers: {}\n",
		"- a\n- b\n",
		"a: &a [*a]\n",
		"params: &p\n  x: *p\n",
		"---\n---\n",
		"\t- tab",
		"params:\n  archive_after_days: 99999999999999999999\n",
		"fix:\n  object_lock:\n    days: -3\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "coffer.yaml"
		cfg, err := ParseConfig(file, data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a ConfigError: %v", err, err)
			}
			if ce.File != file || strings.TrimSpace(ce.Msg) == "" || !strings.HasPrefix(err.Error(), file+":") {
				t.Fatalf("error does not name the file and the problem: %q", err)
			}
			// The message is a sentence, not the leftovers of the decoder's "line N: " prefix.
			if strings.HasPrefix(ce.Msg, ":") || strings.Contains(ce.Msg, "unmarshal errors") {
				t.Fatalf("garbled message %q", ce.Msg)
			}
			if lines := yamlLines(data); ce.Line < 0 || ce.Line > lines {
				t.Fatalf("line %d outside a %d-line input: %v", ce.Line, lines, err)
			}
			if cfg != nil {
				t.Fatal("a config and an error")
			}
			return
		}
		p := cfg.Params
		for name, v := range map[string]int{
			"object_lock_min_days": p.ObjectLockMinDays, "archive_after_days": p.ArchiveAfterDays,
			"abort_multipart_max_days": p.AbortMultipartMaxDays, "access_key_max_age_days": p.AccessKeyMaxAgeDays,
			"unused_credentials_days": p.UnusedCredentialsDays, "password_min_length": p.PasswordMinLength,
			"password_reuse_prevention": p.PasswordReusePrevention,
		} {
			if v <= 0 {
				t.Fatalf("accepted config has params.%s = %d", name, v)
			}
		}
		for _, w := range cfg.Waivers {
			if w.expires.IsZero() || w.Check == "" || w.Resource == "" {
				t.Fatalf("accepted an incomplete waiver %+v", w)
			}
		}
		if cfg.Source != file {
			t.Fatalf("source %q", cfg.Source)
		}
	})
}

// yamlLines counts lines as the YAML decoder does: CR LF, CR, LF, NEL, LS and PS each end a line.
func yamlLines(data []byte) int {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	n := 1
	for _, r := range s {
		switch r {
		case '\n', '\r', '\u0085', '\u2028', '\u2029':
			n++
		}
	}
	return n
}
