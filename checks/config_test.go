package checks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/google/go-cmp/cmp"
)

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		want      string
	}{
		{"unknown key", "params:\n  archive_after_days: 14\n  archive_days: 3\n", 3, "archive_days"},
		{"wrong type", "params:\n  archive_after_days: soon\n", 2, "soon"},
		{"bad account id", "account:\n  expected_id: \"12345\"\n", 2, "12 digits"},
		{"negative param", "params:\n  object_lock_min_days: -1\n", 2, "must not be negative"},
		{"unknown role", "params:\n  cmk_required_for: [primary, archive]\n", 2, `unknown role "archive"`},
		{"waiver without expiry", "waivers:\n  - check: s3-bucket-versioning\n    resource: b\n    reason: r\n", 2, "expires is required"},
		{"waiver bad date", "waivers:\n  - {check: x, resource: b, reason: r, expires: 31/12/2026}\n", 2, "not a date"},
		{"bad glob", "buckets:\n  primary: [\"vault-[\"]\n", 2, "bad pattern"},
		{"not yaml", "buckets: [\n", 1, "did not find expected node"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checks.ParseConfig("coffer.yaml", []byte(tc.src))
			var ce *checks.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want a ConfigError", err, err)
			}
			if ce.Line != tc.line || !strings.Contains(ce.Error(), tc.want) || !strings.HasPrefix(ce.Error(), "coffer.yaml:") {
				t.Errorf("err = %q (line %d), want line %d containing %q", ce, ce.Line, tc.line, tc.want)
			}
		})
	}
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := checks.ParseConfig("coffer.yaml", []byte("params:\n  archive_after_days: 30\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := checks.DefaultParams()
	want.ArchiveAfterDays = 30
	if diff := cmp.Diff(want, cfg.Params); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	fix := cfg.FixSettings()
	if fix.KMSKey != "<KMS_KEY_ARN>" || fix.KMSKeyConfigured || fix.ObjectLockDays != 30 {
		t.Errorf("fix settings = %+v", fix)
	}
}

func TestBucketRolesAndPairs(t *testing.T) {
	b := func(name string, tags map[string]string) checks.Bucket {
		return checks.Bucket{Name: name, ARN: "arn:aws:s3:::" + name, Tags: tags}
	}
	primary := b("vault", nil)
	primary.Logging = &checks.Logging{Enabled: true, TargetBucket: "logs"}
	primary.Replication = &checks.Replication{Rules: []checks.ReplicationRule{{Status: "Enabled", DestinationBucket: "replica"}}}
	snap := &checks.Snapshot{
		S3: checks.S3{Buckets: []checks.Bucket{
			primary, b("logs", nil), b("replica", nil), b("trail", nil), b("tagged", map[string]string{"coffer:role": "standby"}),
			b("scratch-1", map[string]string{"coffer:role": "primary"}), b("team", nil), b("configured", map[string]string{"coffer:role": "ignore"}),
			b("declared-trail-logs", nil),
		}},
		CloudTrail: checks.CloudTrail{Trails: []checks.Trail{{S3BucketName: "trail"}}},
	}
	cfg, err := checks.ParseConfig("coffer.yaml", []byte("buckets:\n  ignore: [\"scratch-*\"]\n  standby: [configured]\n  trail_logs: [declared-trail-logs]\n  pairs: {team: configured}\n"))
	if err != nil {
		t.Fatal(err)
	}
	roles := checks.BucketRoles(snap, cfg)
	wantRoles := map[string]string{
		"vault": "primary", "logs": "access-logs", "replica": "standby", "trail": "trail-logs", "tagged": "standby",
		"scratch-1": "ignore", "team": "primary", "configured": "standby", "declared-trail-logs": "trail-logs",
	}
	if diff := cmp.Diff(wantRoles, roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	pairs := checks.StandbyPairs(snap, cfg, roles)
	wantPairs := map[string]string{"vault": "replica", "team": "configured"}
	if diff := cmp.Diff(wantPairs, pairs); diff != "" {
		t.Errorf("pairs (-want +got):\n%s", diff)
	}
}

func TestSampleConfigParses(t *testing.T) {
	cfg, err := checks.LoadConfig("../fixtures/coffer.yaml")
	if err != nil {
		t.Fatalf("the documented example must parse: %v", err)
	}
	if cfg.Account.ExpectedID != "123456789012" || len(cfg.Waivers) != 1 || cfg.Buckets.Pairs["vault-primary"] != "vault-standby" {
		t.Errorf("unexpected sample config: %+v", cfg)
	}
}
