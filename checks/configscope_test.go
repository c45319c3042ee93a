package checks_test

import (
	"context"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const scopedConfig = `
buckets:
  primary: [vault-primary]
  ignore: ["scratch-*"]
  pairs: {vault-primary: vault-standby}
params:
  archive_after_days: 30
  cmk_required_for: [standby]
fix:
  kms_key: alias/backup
  kms_keys: {us-east-1: alias/backup-us}
  log_bucket: org-logs
waivers:
  - {check: s3-bucket-mfa-delete, resource: "*", reason: everywhere, expires: 2099-01-01}
  - {account: "111111111111", check: s3-bucket-versioning, resource: a, reason: only 111, expires: 2099-01-01}
  - {account: "222222222222", check: s3-bucket-versioning, resource: b, reason: only 222, expires: 2099-01-01}
accounts:
  "111111111111":
    buckets:
      primary: [app-data]        # replaces the organisation's list
      ignore: []                 # clears it
      pairs: {app-data: app-data-copy}
    params:
      access_key_max_age_days: 60
      archive_classes: [DEEP_ARCHIVE]
    fix:
      kms_keys: {eu-west-1: alias/backup-eu}
      object_lock: {days: 90}
  "222222222222": {}
`

// TestForAccount: an account's settings are the organisation's with the account's over them —
// lists replaced (an empty list clears), maps merged key by key, numbers and names replaced when
// given — and its waivers are those naming it or no account.
func TestForAccount(t *testing.T) {
	cfg, err := checks.ParseConfig("coffer.yaml", []byte(scopedConfig))
	if err != nil {
		t.Fatal(err)
	}
	orgParams := checks.DefaultParams()
	orgParams.ArchiveAfterDays = 30
	waiverReasons := func(c *checks.Config) []string {
		out := []string{}
		for _, w := range c.Waivers {
			out = append(out, w.Reason)
		}
		return out
	}

	a := cfg.ForAccount("111111111111")
	wantParams := orgParams
	wantParams.AccessKeyMaxAgeDays = 60
	wantParams.ArchiveClasses = []string{"DEEP_ARCHIVE"}
	wantBuckets := checks.BucketsConfig{
		Primary: []string{"app-data"}, Ignore: []string{},
		Pairs: map[string]string{"vault-primary": "vault-standby", "app-data": "app-data-copy"},
	}
	wantFix := checks.FixConfig{
		KMSKey: "alias/backup", KMSKeys: map[string]string{"us-east-1": "alias/backup-us", "eu-west-1": "alias/backup-eu"},
		LogBucket: "org-logs", ObjectLock: checks.ObjectLockFix{Days: 90},
	}
	if diff := cmp.Diff(wantParams, a.Params); diff != "" {
		t.Errorf("params of 111111111111 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantBuckets, a.Buckets); diff != "" {
		t.Errorf("buckets of 111111111111 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantFix, a.Fix); diff != "" {
		t.Errorf("fix of 111111111111 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"everywhere", "only 111"}, waiverReasons(a)); diff != "" {
		t.Errorf("waivers of 111111111111 (-want +got):\n%s", diff)
	}
	if a.Accounts != nil {
		t.Error("an account's configuration still has accounts:")
	}
	if fs := a.FixSettings(); fs.ForRegion("eu-west-1").KMSKey != "alias/backup-eu" || fs.ObjectLockDays != 90 {
		t.Errorf("fix settings of 111111111111 = %+v", fs.ForRegion("eu-west-1"))
	}
	if again := a.ForAccount("111111111111"); !cmp.Equal(a, again, cmpopts.IgnoreUnexported(checks.WaiverRule{})) {
		t.Errorf("ForAccount twice changes the settings:\n%s", cmp.Diff(a, again, cmpopts.IgnoreUnexported(checks.WaiverRule{})))
	}

	// An account with an empty entry, and one with none, get the organisation's settings.
	for _, id := range []string{"222222222222", "333333333333"} {
		c := cfg.ForAccount(id)
		if diff := cmp.Diff(orgParams, c.Params); diff != "" {
			t.Errorf("params of %s (-want +got):\n%s", id, diff)
		}
		if !cmp.Equal(cfg.Buckets, c.Buckets) || !cmp.Equal(cfg.Fix, c.Fix) {
			t.Errorf("%s does not get the organisation's buckets and fix settings: %+v %+v", id, c.Buckets, c.Fix)
		}
	}
	if diff := cmp.Diff([]string{"everywhere", "only 222"}, waiverReasons(cfg.ForAccount("222222222222"))); diff != "" {
		t.Errorf("waivers of 222222222222 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"everywhere"}, waiverReasons(cfg.ForAccount("333333333333"))); diff != "" {
		t.Errorf("waivers of an account no waiver names (-want +got):\n%s", diff)
	}

	// No account leaks into the organisation's settings.
	if len(cfg.Buckets.Pairs) != 1 || len(cfg.Fix.KMSKeys) != 1 || len(cfg.Waivers) != 3 || cfg.Params.AccessKeyMaxAgeDays != 90 {
		t.Errorf("ForAccount changed the organisation's settings: %+v", cfg)
	}
	if plain := checks.DefaultConfig(); plain.ForAccount("111111111111") != plain {
		t.Error("a configuration without accounts or account waivers is copied for every account")
	}
}

// TestAccountScopedConfigInEvaluation: the engine applies the account's settings from the
// snapshot's account, in a scan of one account and in an organisation scan without ConfigFor: a
// bucket ignored in one account only, a waiver of one account only.
func TestAccountScopedConfigInEvaluation(t *testing.T) {
	engine, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := checks.ParseConfig("coffer.yaml", []byte(`
waivers:
  - {account: "333333333333", check: s3-standby-other-region, resource: vault-projects-standby, reason: the vault's own, expires: 2099-01-01}
  - {account: "123456789012", check: s3-standby-other-region, resource: vault-projects-standby, reason: prod's own, expires: 2099-01-01}
accounts:
  "123456789012":
    buckets:
      ignore: [vault-scratch]
`))
	if err != nil {
		t.Fatal(err)
	}
	_, org := splitVault(t)
	type key struct{ account, check, bucket string }
	got := map[key]checks.Finding{}
	_, err = engine.EvaluateOrg(context.Background(), org, checks.OrgEvalOptions{EvalOptions: checks.EvalOptions{Config: cfg}}, func(_ checks.AccountInfo, r *checks.Report) error {
		for _, f := range r.Findings {
			got[key{f.Resource.AccountID, f.CheckID, f.Resource.Name}] = f
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The standby moved to the vault account: prod's waiver no longer reaches it.
	if f := got[key{"333333333333", "s3-standby-other-region", "vault-projects-standby"}]; f.Status != checks.StatusWaived || f.Waiver == nil || f.Waiver.Reason != "the vault's own" {
		t.Errorf("the vault account's waiver: %s %+v", f.Status, f.Waiver)
	}
	for k, f := range got {
		if k.bucket == "vault-scratch" && f.Resource.Role != "ignore" {
			t.Errorf("%s on vault-scratch: role %q, want ignore (accounts.123456789012.buckets.ignore)", k.check, f.Resource.Role)
		}
		if f.Waiver != nil && f.Waiver.Reason != "the vault's own" {
			t.Errorf("%s on %s in %s waived by %q", k.check, k.bucket, k.account, f.Waiver.Reason)
		}
	}

	// One account scanned on its own gets its settings from the same file.
	single, err := checks.LoadSnapshot("../fixtures/drifted.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		account, wantRole, wantWaiver string
	}{{"123456789012", "ignore", "prod's own"}, {"999999999999", "primary", ""}} {
		single.Account.ID = tc.account
		r, err := engine.Evaluate(context.Background(), single, checks.EvalOptions{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		waivers := []string{}
		for _, f := range r.Findings {
			if f.Resource.Name == "vault-scratch" && f.Resource.Role != tc.wantRole {
				t.Errorf("account %s: vault-scratch has role %q, want %q", tc.account, f.Resource.Role, tc.wantRole)
			}
			if f.Waiver != nil {
				waivers = append(waivers, f.CheckID+" "+f.Resource.Name+": "+f.Waiver.Reason)
			}
		}
		want := []string{}
		if tc.wantWaiver != "" {
			want = append(want, "s3-standby-other-region vault-projects-standby: "+tc.wantWaiver)
		}
		if diff := cmp.Diff(want, waivers); diff != "" {
			t.Errorf("account %s: waived findings (-want +got):\n%s", tc.account, diff)
		}
	}
}
