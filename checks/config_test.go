package checks_test

import (
	"errors"
	"fmt"
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
		{"kms_keys: not a region", "fix:\n  kms_keys:\n    europe: alias/backup\n", 3, `"europe" is not a region name`},
		{"kms_keys: key of another region", "fix:\n  kms_keys:\n    eu-west-1: arn:aws:kms:us-east-1:123456789012:key/k\n", 3, "is a key in us-east-1"},
		{"kms_keys: empty", "fix:\n  kms_keys:\n    eu-west-1: \"\"\n", 3, "fix.kms_keys.eu-west-1 is empty"},
		{"accounts: not an account id", "accounts:\n  \"111111111111\": {}\n  \"1234\":\n    params: {}\n", 3, `accounts: "1234" is not an account id`},
		{"accounts: unknown key", "accounts:\n  \"111111111111\":\n    buckets:\n      primary: [a]\n    waivers: []\n", 5, "field waivers not found"},
		{"accounts: expected_id is not per account", "accounts:\n  \"111111111111\":\n    account: {expected_id: \"111111111111\"}\n", 3, "field account not found"},
		{"accounts: negative param", "accounts:\n  \"111111111111\":\n    params:\n      archive_after_days: -3\n", 4, "accounts.111111111111.params.archive_after_days must not be negative"},
		{"accounts: bad glob", "accounts:\n  \"111111111111\":\n    buckets:\n      ignore: [\"a[\"]\n", 4, "accounts.111111111111.buckets.ignore: bad pattern"},
		{"accounts: kms key of another region", "accounts:\n  \"111111111111\":\n    fix:\n      kms_keys:\n        eu-west-1: arn:aws:kms:us-east-1:111111111111:key/k\n", 5, "accounts.111111111111.fix.kms_keys.eu-west-1 is a key in us-east-1"},
		{"accounts: not a mapping", "accounts: [\"111111111111\"]\n", 1, "cannot unmarshal"},
		{"waiver: bad account", "waivers:\n  - {check: x, resource: b, reason: r, expires: 2027-01-01}\n  - {account: \"12345678901\", check: x, resource: b, reason: r, expires: 2027-01-01}\n", 3, `waivers[1]: account "12345678901" is not an account id`},
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

// TestStandbyFallback: the "only standby of the account" pairs a primary only when no primary
// replicates to it; a standby that already backs up another primary is not a copy of a new one.
func TestStandbyFallback(t *testing.T) {
	replicating := func(name, to string) checks.Bucket {
		return checks.Bucket{Name: name, Replication: &checks.Replication{Rules: []checks.ReplicationRule{{Status: "Enabled", DestinationBucket: to}}}}
	}
	standby := checks.Bucket{Name: "standby", Tags: map[string]string{"coffer:role": "standby"}}
	tests := []struct {
		name    string
		buckets []checks.Bucket
		want    map[string]string
	}{
		{"the only standby pairs the only primary", []checks.Bucket{{Name: "primary"}, standby}, map[string]string{"primary": "standby"}},
		{"the only standby pairs every primary while nobody replicates to it", []checks.Bucket{{Name: "a"}, {Name: "b"}, standby},
			map[string]string{"a": "standby", "b": "standby"}},
		{"a claimed standby is not a fallback", []checks.Bucket{replicating("primary", "standby"), {Name: "new-primary"}, standby},
			map[string]string{"primary": "standby"}},
		{"an unclaimed standby still is", []checks.Bucket{replicating("primary", "standby"), {Name: "new-primary"}, standby,
			{Name: "spare", Tags: map[string]string{"coffer:role": "standby"}}},
			map[string]string{"primary": "standby", "new-primary": "spare"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := &checks.Snapshot{S3: checks.S3{Buckets: tc.buckets}}
			cfg := checks.DefaultConfig()
			got := checks.StandbyPairs(snap, cfg, checks.BucketRoles(snap, cfg))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("pairs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSampleConfigParses(t *testing.T) {
	cfg, err := checks.LoadConfig("../fixtures/coffer.yaml")
	if err != nil {
		t.Fatalf("the documented example must parse: %v", err)
	}
	if cfg.Account.ExpectedID != "123456789012" || len(cfg.Waivers) != 2 || cfg.Buckets.Pairs["vault-primary"] != "vault-standby" ||
		cfg.Fix.KMSKeys["us-east-1"] != "alias/backup-standby" || len(cfg.Accounts) != 2 {
		t.Errorf("unexpected sample config: %+v", cfg)
	}
}

// TestFixSettingsForRegion: a KMS key serves only its region, so each resource gets the key of
// fix.kms_keys for its region, else fix.kms_key unless that is the ARN of a key elsewhere.
func TestFixSettingsForRegion(t *testing.T) {
	const usKey, euKey = "arn:aws:kms:us-east-1:123456789012:key/us", "arn:aws:kms:eu-west-1:123456789012:key/eu"
	tests := []struct {
		name, defaultKey string
		keys             map[string]string
		region, want     string
	}{
		{"nothing configured", "", nil, "eu-west-1", "<KMS_KEY_ARN>"},
		{"default ARN in its region", usKey, nil, "us-east-1", usKey},
		{"default ARN elsewhere", usKey, nil, "eu-west-1", "<KMS_KEY_ARN>"},
		{"alias name serves every region", "alias/backup", nil, "eu-west-1", "alias/backup"},
		{"region key first", usKey, map[string]string{"eu-west-1": euKey}, "eu-west-1", euKey},
		{"default for the other regions", "alias/backup", map[string]string{"eu-west-1": euKey}, "us-east-1", "alias/backup"},
		{"only region keys", "", map[string]string{"eu-west-1": euKey}, "ap-south-1", "<KMS_KEY_ARN>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := checks.DefaultConfig()
			cfg.Fix.KMSKey, cfg.Fix.KMSKeys = tc.defaultKey, tc.keys
			got := cfg.FixSettings().ForRegion(tc.region)
			if got.KMSKey != tc.want || got.KMSKeyConfigured != (tc.want != "<KMS_KEY_ARN>") {
				t.Errorf("ForRegion(%s) = %q (configured %v), want %q", tc.region, got.KMSKey, got.KMSKeyConfigured, tc.want)
			}
		})
	}
}

func TestCheckAccount(t *testing.T) {
	for _, tc := range []struct {
		expected, id string
		wantErr      string
	}{
		{"", "123456789012", ""},
		{"123456789012", "123456789012", ""},
		{"111111111111", "123456789012", "account 123456789012 is not the expected account 111111111111 (account.expected_id in coffer.yaml)"},
	} {
		cfg := &checks.Config{Account: checks.AccountConfig{ExpectedID: tc.expected}, Source: "coffer.yaml"}
		err := cfg.CheckAccount(tc.id)
		if got := fmt.Sprint(err); (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && got != tc.wantErr) {
			t.Errorf("expected %q, account %s: %v, want %q", tc.expected, tc.id, err, tc.wantErr)
		}
	}
}
