package fix

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3ctypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/awsconv"
	"github.com/coffer-audit/coffer/checks/shellcmd"
)

// --- Block Public Access ----------------------------------------------------------------------

// bpaJSON is the four flags in the API's shape (what put-public-access-block takes).
type bpaJSON struct {
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
}

func (b bpaJSON) all() bool {
	return b.BlockPublicAcls && b.IgnorePublicAcls && b.BlockPublicPolicy && b.RestrictPublicBuckets
}

var allBlocked = bpaJSON{true, true, true, true}

// ensureAllBlocked is the read-modify-write of Block Public Access, account or bucket level: get
// returns the live flags (nil when none are configured); when all four are already on nothing is
// written, otherwise put turns them all on.
func ensureAllBlocked(what, putCall string, get func() (*bpaJSON, error), put func() error) (*execution, error) {
	ex := &execution{}
	cur, err := get()
	if err != nil {
		return ex, fmt.Errorf("get %s: %w", what, err)
	}
	if cur != nil {
		ex.Before = *cur
		if cur.all() {
			ex.After = *cur
			return ex, nil
		}
	}
	ex.call(putCall)
	if err := put(); err != nil {
		return ex, fmt.Errorf("put %s: %w", what, err)
	}
	ex.After = allBlocked
	return ex, nil
}

// ignoreCode returns nil for an API error with the given code (a "not configured" answer), err
// otherwise.
func ignoreCode(err error, code string) error {
	if awsclient.IsCode(err, code) {
		return nil
	}
	return err
}

func bpaFromSnapshot(p *checks.PublicAccessBlock) any {
	if p == nil {
		return nil
	}
	return bpaJSON{p.BlockPublicAcls, p.IgnorePublicAcls, p.BlockPublicPolicy, p.RestrictPublicBuckets}
}

func planAccountBPA(pc *planContext, f *checks.Finding) (*Change, string) {
	return &Change{
		Target:      "arn:" + pc.partition + ":s3:" + pc.snap.Account.ID + ":account/public-access-block",
		Description: "Turn on all four account-level S3 Block Public Access settings (they override every bucket policy and ACL).",
		Before:      bpaFromSnapshot(pc.snap.Account.PublicAccessBlock),
		After:       allBlocked,
		APICalls:    []string{"s3control:PutPublicAccessBlock"},
		apply: func(ctx context.Context, cl *Clients, acct string) (*execution, error) {
			api := cl.S3Control(cl.HomeRegion)
			return ensureAllBlocked("account public access block", "s3control:PutPublicAccessBlock",
				func() (*bpaJSON, error) {
					out, err := api.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(acct)})
					if err != nil {
						return nil, ignoreCode(err, "NoSuchPublicAccessBlockConfiguration")
					}
					p := out.PublicAccessBlockConfiguration
					if p == nil {
						return nil, nil
					}
					return &bpaJSON{aws.ToBool(p.BlockPublicAcls), aws.ToBool(p.IgnorePublicAcls), aws.ToBool(p.BlockPublicPolicy), aws.ToBool(p.RestrictPublicBuckets)}, nil
				},
				func() error {
					_, err := api.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{
						AccountId: aws.String(acct),
						PublicAccessBlockConfiguration: &s3ctypes.PublicAccessBlockConfiguration{
							BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
							BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
						},
					})
					return err
				})
		},
	}, ""
}

func planBucketBPA(pc *planContext, f *checks.Finding) (*Change, string) {
	name, region := f.Resource.Name, f.Resource.Region
	var before any
	if b := pc.bucket(f); b != nil {
		before = bpaFromSnapshot(b.PublicAccessBlock)
	}
	return &Change{
		Description: "Turn on all four Block Public Access settings of the bucket.",
		Before:      before, After: allBlocked,
		APICalls: []string{"s3:PutPublicAccessBlock"},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.S3(region)
			return ensureAllBlocked("public access block of "+name, "s3:PutPublicAccessBlock",
				func() (*bpaJSON, error) {
					out, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &name})
					if err != nil {
						return nil, ignoreCode(err, "NoSuchPublicAccessBlockConfiguration")
					}
					p := out.PublicAccessBlockConfiguration
					if p == nil {
						return nil, nil
					}
					return &bpaJSON{aws.ToBool(p.BlockPublicAcls), aws.ToBool(p.IgnorePublicAcls), aws.ToBool(p.BlockPublicPolicy), aws.ToBool(p.RestrictPublicBuckets)}, nil
				},
				func() error {
					_, err := api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
						Bucket: &name,
						PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
							BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
							BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
						},
					})
					return err
				})
		},
	}, ""
}

// --- versioning and Object Lock -----------------------------------------------------------------

type versioningJSON struct {
	Status    string `json:"Status"`
	MFADelete string `json:"MFADelete,omitempty"`
}

func planVersioning(pc *planContext, f *checks.Finding) (*Change, string) {
	name, region := f.Resource.Name, f.Resource.Region
	var before any
	if b := pc.bucket(f); b != nil && b.Versioning != nil {
		before = versioningJSON{Status: b.Versioning.Status, MFADelete: b.Versioning.MFADelete}
	}
	return &Change{
		Description: "Turn versioning on (existing objects and versions are untouched).",
		Before:      before, After: versioningJSON{Status: "Enabled"},
		APICalls: []string{"s3:PutBucketVersioning"},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			ex := &execution{}
			cur, err := ensureVersioning(ctx, cl.S3(region), name, ex)
			ex.Before, ex.After = cur, versioningJSON{Status: "Enabled", MFADelete: cur.MFADelete}
			return ex, err
		},
	}, ""
}

// ensureVersioning turns versioning on unless it is on, and returns what it was. MFA Delete is not
// sent, so S3 leaves it as it is.
func ensureVersioning(ctx context.Context, api S3API, name string, ex *execution) (versioningJSON, error) {
	out, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &name})
	if err != nil {
		return versioningJSON{}, fmt.Errorf("get versioning of %s: %w", name, err)
	}
	cur := versioningJSON{Status: string(out.Status), MFADelete: string(out.MFADelete)}
	if out.Status == s3types.BucketVersioningStatusEnabled {
		return cur, nil
	}
	ex.call("s3:PutBucketVersioning")
	_, err = api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  &name,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		return cur, fmt.Errorf("put versioning of %s: %w", name, err)
	}
	return cur, nil
}

type objectLockJSON struct {
	ObjectLockEnabled string          `json:"ObjectLockEnabled,omitempty"`
	Rule              *objectLockRule `json:"Rule,omitempty"`
}

type objectLockRule struct {
	DefaultRetention retentionJSON `json:"DefaultRetention"`
}

type retentionJSON struct {
	Mode  string `json:"Mode"`
	Days  int32  `json:"Days,omitempty"`
	Years int32  `json:"Years,omitempty"`
}

func planObjectLock(pc *planContext, f *checks.Finding) (*Change, string) {
	name, region := f.Resource.Name, f.Resource.Region
	days, minDays := pc.fix.ObjectLockDays, pc.cfg.Params.ObjectLockMinDays
	if days < minDays {
		return nil, fmt.Sprintf("fix.object_lock.days (%d) is below params.object_lock_min_days (%d); raise it in coffer.yaml", days, minDays)
	}
	before := map[string]any{}
	if b := pc.bucket(f); b != nil {
		if b.Versioning != nil {
			before["versioning"] = versioningJSON{Status: b.Versioning.Status}
		}
		if ol := b.ObjectLock; ol != nil {
			before["object_lock"] = objectLockFromSnapshot(ol)
			if r := ol.DefaultRetention; r != nil && strings.EqualFold(r.Mode, "COMPLIANCE") {
				return nil, "the bucket's default retention is in COMPLIANCE mode; coffer never changes COMPLIANCE settings, raise the retention by hand"
			}
		}
	}
	want := objectLockJSON{ObjectLockEnabled: "Enabled", Rule: &objectLockRule{DefaultRetention: retentionJSON{Mode: "GOVERNANCE", Days: int32(days)}}}
	return &Change{
		Description: fmt.Sprintf("Turn versioning on if needed, then Object Lock with a default retention of %d days in GOVERNANCE mode (never COMPLIANCE). Note S3 can add Object Lock to an existing bucket only while versioning is on.", days),
		Before:      before,
		After:       map[string]any{"versioning": versioningJSON{Status: "Enabled"}, "object_lock": want},
		APICalls:    []string{"s3:PutBucketVersioning (if off)", "s3:PutObjectLockConfiguration"},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.S3(region)
			ex := &execution{}
			before := map[string]any{}
			after := map[string]any{}
			ex.Before, ex.After = before, after
			cur, err := api.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &name})
			var live objectLockJSON
			switch {
			case awsclient.IsCode(err, "ObjectLockConfigurationNotFoundError"):
			case err != nil:
				return ex, fmt.Errorf("get object lock configuration of %s: %w", name, err)
			default:
				live = objectLockFromAPI(cur.ObjectLockConfiguration)
			}
			before["object_lock"] = live
			if live.ObjectLockEnabled == "Enabled" && live.Rule != nil && retentionDays(live.Rule.DefaultRetention) >= minDays {
				after["object_lock"] = live
				return ex, nil
			}
			if live.Rule != nil && strings.EqualFold(live.Rule.DefaultRetention.Mode, "COMPLIANCE") {
				after["object_lock"] = live
				return ex, preconditionf("the default retention of %s is in COMPLIANCE mode; coffer never changes COMPLIANCE settings", name)
			}
			v, err := ensureVersioning(ctx, api, name, ex)
			before["versioning"] = v
			if err != nil {
				return ex, err
			}
			after["versioning"] = versioningJSON{Status: "Enabled", MFADelete: v.MFADelete}
			ex.call("s3:PutObjectLockConfiguration")
			_, err = api.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
				Bucket: &name,
				ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
					ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
					Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{
						Mode: s3types.ObjectLockRetentionModeGovernance, Days: aws.Int32(int32(days)),
					}},
				},
			})
			if err != nil {
				after["object_lock"] = live
				return ex, fmt.Errorf("put object lock configuration of %s: %w", name, err)
			}
			after["object_lock"] = want
			return ex, nil
		},
	}, ""
}

func objectLockFromSnapshot(ol *checks.ObjectLock) objectLockJSON {
	out := objectLockJSON{}
	if ol.Enabled {
		out.ObjectLockEnabled = "Enabled"
	}
	if r := ol.DefaultRetention; r != nil {
		out.Rule = &objectLockRule{DefaultRetention: retentionJSON{Mode: r.Mode, Days: r.Days, Years: r.Years}}
	}
	return out
}

func objectLockFromAPI(c *s3types.ObjectLockConfiguration) objectLockJSON {
	out := objectLockJSON{}
	if c == nil {
		return out
	}
	out.ObjectLockEnabled = string(c.ObjectLockEnabled)
	if c.Rule != nil && c.Rule.DefaultRetention != nil {
		r := c.Rule.DefaultRetention
		out.Rule = &objectLockRule{DefaultRetention: retentionJSON{Mode: string(r.Mode), Days: aws.ToInt32(r.Days), Years: aws.ToInt32(r.Years)}}
	}
	return out
}

// retentionDays counts a year as 365 days, as the check does.
func retentionDays(r retentionJSON) int {
	return int(r.Days) + 365*int(r.Years)
}

// --- ownership and encryption -------------------------------------------------------------------

func planOwnership(pc *planContext, f *checks.Finding) (*Change, string) {
	name, region := f.Resource.Name, f.Resource.Region
	var before any
	if b := pc.bucket(f); b != nil && b.Ownership != nil {
		before = ownershipJSON(b.Ownership.ObjectOwnership)
	}
	want := ownershipJSON(string(s3types.ObjectOwnershipBucketOwnerEnforced))
	return &Change{
		Description: "Set Object Ownership to BucketOwnerEnforced, which disables ACLs (S3 refuses while the bucket ACL grants access to others).",
		Before:      before, After: want,
		APICalls: []string{"s3:PutBucketOwnershipControls"},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.S3(region)
			ex := &execution{}
			out, err := api.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: &name})
			switch {
			case awsclient.IsCode(err, "OwnershipControlsNotFoundError"):
			case err != nil:
				return ex, fmt.Errorf("get ownership controls of %s: %w", name, err)
			case out.OwnershipControls != nil:
				cur := ""
				for _, r := range out.OwnershipControls.Rules {
					cur = string(r.ObjectOwnership)
				}
				ex.Before = ownershipJSON(cur)
				if cur == string(s3types.ObjectOwnershipBucketOwnerEnforced) {
					ex.After = ex.Before
					return ex, nil
				}
			}
			ex.call("s3:PutBucketOwnershipControls")
			_, err = api.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
				Bucket: &name,
				OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{
					{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced},
				}},
			})
			if err != nil {
				return ex, fmt.Errorf("put ownership controls of %s: %w", name, err)
			}
			ex.After = want
			return ex, nil
		},
	}, ""
}

func ownershipJSON(o string) any {
	if o == "" {
		return map[string]any{"Rules": []any{}}
	}
	return map[string]any{"Rules": []any{map[string]string{"ObjectOwnership": o}}}
}

func encryptionFromSnapshot(e *checks.Encryption) any {
	if e == nil {
		return nil
	}
	rules := make([]any, 0, len(e.Rules))
	for _, r := range e.Rules {
		def := map[string]any{"SSEAlgorithm": r.Algorithm}
		if r.KMSKeyID != "" {
			def["KMSMasterKeyID"] = r.KMSKeyID
		}
		rules = append(rules, map[string]any{"ApplyServerSideEncryptionByDefault": def, "BucketKeyEnabled": r.BucketKeyEnabled})
	}
	return map[string]any{"Rules": rules}
}

func encryptionFromAPI(c *s3types.ServerSideEncryptionConfiguration) (any, []checks.EncryptionRule) {
	if c == nil {
		return nil, nil
	}
	var rules []checks.EncryptionRule
	for _, r := range c.Rules {
		er := checks.EncryptionRule{BucketKeyEnabled: aws.ToBool(r.BucketKeyEnabled)}
		if d := r.ApplyServerSideEncryptionByDefault; d != nil {
			er.Algorithm = string(d.SSEAlgorithm)
			er.KMSKeyID = aws.ToString(d.KMSMasterKeyID)
		}
		rules = append(rules, er)
	}
	return encryptionFromSnapshot(&checks.Encryption{Rules: rules}), rules
}

// liveEncryption reads the default encryption; no configuration gives no rules.
func liveEncryption(ctx context.Context, api S3API, name string) (any, []checks.EncryptionRule, error) {
	out, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &name})
	switch {
	case awsclient.IsCode(err, "ServerSideEncryptionConfigurationNotFoundError"):
		return nil, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("get encryption of %s: %w", name, err)
	}
	before, rules := encryptionFromAPI(out.ServerSideEncryptionConfiguration)
	return before, rules, nil
}

func planDefaultEncryption(pc *planContext, f *checks.Finding) (*Change, string) {
	name, region := f.Resource.Name, f.Resource.Region
	var before any
	if b := pc.bucket(f); b != nil {
		before = encryptionFromSnapshot(b.Encryption)
	}
	want := encryptionFromSnapshot(&checks.Encryption{Rules: []checks.EncryptionRule{{Algorithm: "AES256"}}})
	return &Change{
		Description: "Encrypt new objects with SSE-S3 by default (existing objects keep their encryption).",
		Before:      before, After: want,
		APICalls: []string{"s3:PutBucketEncryption"},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.S3(region)
			ex := &execution{}
			cur, rules, err := liveEncryption(ctx, api, name)
			ex.Before = cur
			if err != nil {
				return ex, err
			}
			for _, r := range rules {
				if r.Algorithm != "" {
					ex.After = cur
					return ex, nil
				}
			}
			ex.call("s3:PutBucketEncryption")
			_, err = api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
				Bucket: &name,
				ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{
					{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}},
				}},
			})
			if err != nil {
				return ex, fmt.Errorf("put encryption of %s: %w", name, err)
			}
			ex.After = want
			return ex, nil
		},
	}, ""
}

func planBucketCMK(pc *planContext, f *checks.Finding) (*Change, string) {
	name, region := f.Resource.Name, f.Resource.Region
	b := pc.bucket(f)
	var before any
	var use *checks.Key
	note := ""
	if b != nil && b.Encryption != nil {
		before = encryptionFromSnapshot(b.Encryption)
		// Keep the bucket's own customer-managed key when it is (or this plan makes it) usable:
		// switching keys is not the user's intent when only the Bucket Key is missing.
		for _, r := range b.Encryption.Rules {
			if r.Algorithm != "aws:kms" && r.Algorithm != "aws:kms:dsse" {
				continue
			}
			k := pc.keys.find(r.KMSKeyID, region)
			if k != nil && k.Manager == "CUSTOMER" && k.Region == region && (k.State == "Enabled" || pc.healing[k.ARN]) {
				use = k
				note = "keeps the bucket's customer-managed key"
			}
		}
	}
	if use == nil {
		k, why := pc.configuredKey(region, "bucket "+name)
		if k == nil {
			return nil, why
		}
		use = k
	}
	want := encryptionFromSnapshot(&checks.Encryption{Rules: []checks.EncryptionRule{{Algorithm: "aws:kms", KMSKeyID: use.ARN, BucketKeyEnabled: true}}})
	wantJSON, _ := json.Marshal(want)
	ch := &Change{
		Description: fmt.Sprintf("Encrypt new objects with SSE-KMS and key %s, with an S3 Bucket Key (existing objects keep their encryption).", use.ARN),
		Before:      before, After: want,
		APICalls:    []string{"s3:PutBucketEncryption"},
		Commands:    []string{shellcmd.Command("aws", "s3api", "put-bucket-encryption", "--bucket", name, "--region", region, "--server-side-encryption-configuration", string(wantJSON))},
		needsKey:    use.ARN,
		ownCommands: true,
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.S3(region)
			ex := &execution{}
			cur, rules, err := liveEncryption(ctx, api, name)
			ex.Before = cur
			if err != nil {
				return ex, err
			}
			for _, r := range rules {
				same := pc.keys.find(r.KMSKeyID, region) == use
				if same && (r.Algorithm == "aws:kms:dsse" || (r.Algorithm == "aws:kms" && r.BucketKeyEnabled)) {
					ex.After = cur
					return ex, nil
				}
			}
			ex.call("s3:PutBucketEncryption")
			_, err = api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
				Bucket: &name,
				ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
					ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(use.ARN)},
					BucketKeyEnabled:                   aws.Bool(true),
				}}},
			})
			if err != nil {
				return ex, fmt.Errorf("put encryption of %s: %w", name, err)
			}
			ex.After = want
			return ex, nil
		},
	}
	if note != "" {
		ch.Notes = append(ch.Notes, note)
	}
	return ch, ""
}

// --- bucket policy --------------------------------------------------------------------------------

func planTLSOnly(pc *planContext, f *checks.Finding) (*Change, string) {
	name, region := f.Resource.Name, f.Resource.Region
	arn := f.Resource.ARN
	current := ""
	if b := pc.bucket(f); b != nil && b.Policy != nil {
		if b.Policy.ParseError != "" {
			return nil, "the bucket policy could not be parsed (" + b.Policy.ParseError + "); coffer will not rewrite a policy it cannot read"
		}
		current = b.Policy.Text
	}
	// A policy the merge cannot carry over exactly (duplicate keys…) is refused here, so the
	// finding is listed as not fixed with the reason instead of becoming a change.
	after, err := checks.TLSOnlyPolicy(arn, current)
	if err != nil {
		return nil, err.Error()
	}
	return &Change{
		Description: "Add a statement (Sid " + checks.TLSOnlySid + ") denying requests without TLS to the bucket policy; every existing statement is kept.",
		Before:      parseJSON(checks.DecodePolicyText(current)), After: parseJSON(after),
		APICalls: []string{"s3:PutBucketPolicy"},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.S3(region)
			ex := &execution{}
			live := ""
			out, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &name})
			switch {
			case awsclient.IsCode(err, "NoSuchBucketPolicy"):
			case err != nil:
				return ex, fmt.Errorf("get policy of %s: %w", name, err)
			default:
				live = checks.DecodePolicyText(aws.ToString(out.Policy))
			}
			ex.Before = parseJSON(live)
			merged, err := checks.TLSOnlyPolicy(arn, live)
			if err != nil {
				return refusedMerge(ex, live, fmt.Sprintf("merge TLS-only statement into policy of %s", name), err)
			}
			if live != "" && sameJSON(merged, live) {
				ex.After = ex.Before
				return ex, nil
			}
			ex.call("s3:PutBucketPolicy")
			if _, err := api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &name, Policy: aws.String(merged)}); err != nil {
				ex.After = ex.Before
				return ex, fmt.Errorf("put policy of %s: %w", name, err)
			}
			ex.After = parseJSON(merged)
			return ex, nil
		},
	}, ""
}

// --- lifecycle ------------------------------------------------------------------------------------

func lifecycleJSON(rules []checks.LifecycleRule) any {
	out := make([]any, 0, len(rules))
	for _, r := range rules {
		out = append(out, checks.LifecycleRuleJSON(r))
	}
	return map[string]any{"Rules": out}
}

func planLifecycleArchive(pc *planContext, f *checks.Finding) (*Change, string) {
	days := pc.cfg.Params.ArchiveAfterDays
	classes := pc.cfg.Params.ArchiveClasses
	if len(classes) == 0 {
		classes = checks.DefaultParams().ArchiveClasses
	}
	class := classes[0]
	return planLifecycle(pc, f, lifecycleFix{
		description: fmt.Sprintf("Add lifecycle rule %q moving current versions of the whole bucket to %s after %d days; every existing rule is kept.", checks.ArchiveRuleID, class, days),
		satisfied:   func(rules []checks.LifecycleRule) bool { return archives(rules, classes, days) },
		add:         []map[string]any{checks.ArchiveRule(days, class)},
	})
}

func planLifecycleHygiene(pc *planContext, f *checks.Finding) (*Change, string) {
	abort := pc.cfg.Params.AbortMultipartMaxDays
	return planLifecycle(pc, f, lifecycleFix{
		description: fmt.Sprintf("Add lifecycle rule %q moving noncurrent versions to GLACIER after 30 days (never expiring them) and aborting incomplete multipart uploads after %d days; every existing rule is kept.", checks.HygieneRuleID, abort),
		satisfied:   func(rules []checks.LifecycleRule) bool { return tidies(rules, abort) },
		add:         []map[string]any{checks.HygieneRule(abort)},
	})
}

type lifecycleFix struct {
	description string
	// satisfied mirrors the check on the live rules, so a fix already in place is not rewritten.
	satisfied func([]checks.LifecycleRule) bool
	// add is coffer's rule, merged into the existing ones (checks.MergeLifecycle).
	add []map[string]any
}

func planLifecycle(pc *planContext, f *checks.Finding, lf lifecycleFix) (*Change, string) {
	name, region := f.Resource.Name, f.Resource.Region
	var before any
	b := pc.bucket(f)
	if b == nil {
		b = &checks.Bucket{Name: name}
	}
	if b.Lifecycle != nil {
		before = lifecycleJSON(b.Lifecycle.Rules)
	}
	// Refused, like the printed command, when the snapshot does not hold the whole configuration.
	after, err := checks.RewriteLifecycle(b, lf.add...)
	if err != nil {
		return nil, err.Error()
	}
	return &Change{
		Description: lf.description,
		Before:      before, After: parseJSON(after),
		APICalls: []string{"s3:PutBucketLifecycleConfiguration"},
		rewrites: "lifecycle",
		after: func(prev any) (any, error) {
			rules, err := lifecycleRulesOf(prev)
			if err != nil {
				return nil, err
			}
			merged, err := checks.MergeLifecycle(rules, lf.add...)
			return parseJSON(merged), err
		},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.S3(region)
			ex := &execution{}
			live := &checks.Lifecycle{}
			var minSize s3types.TransitionDefaultMinimumObjectSize
			out, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &name})
			switch {
			case awsclient.IsCode(err, "NoSuchLifecycleConfiguration"):
			case err != nil:
				return ex, fmt.Errorf("get lifecycle of %s: %w", name, err)
			default:
				live = awsconv.LifecycleConfiguration(out.Rules, out.TransitionDefaultMinimumObjectSize)
				minSize = out.TransitionDefaultMinimumObjectSize
				// The minimum object size is passed through as it was (below): only what the
				// rules rewritten from the model would lose refuses the change.
				live.UnmodeledFields = slices.DeleteFunc(live.UnmodeledFields, func(f string) bool { return f == awsconv.MinimumObjectSizeField })
				ex.Before = lifecycleJSON(live.Rules)
			}
			if lf.satisfied(live.Rules) {
				ex.After = ex.Before
				return ex, nil
			}
			// The live configuration may hold what the snapshot's did not: RewriteLifecycle
			// refuses then too, before anything is written.
			merged, err := checks.RewriteLifecycle(&checks.Bucket{Name: name, Lifecycle: live}, lf.add...)
			if err != nil {
				return ex, preconditionf("merge lifecycle rules of %s: %v", name, err)
			}
			var cfg struct{ Rules []s3types.LifecycleRule }
			if err := json.Unmarshal([]byte(merged), &cfg); err != nil {
				return ex, fmt.Errorf("convert lifecycle of %s: %w", name, err)
			}
			ex.call("s3:PutBucketLifecycleConfiguration")
			_, err = api.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
				Bucket:                             &name,
				LifecycleConfiguration:             &s3types.BucketLifecycleConfiguration{Rules: cfg.Rules},
				TransitionDefaultMinimumObjectSize: minSize, // kept as it was ("" lets S3 use its default)
			})
			if err != nil {
				ex.After = ex.Before
				return ex, fmt.Errorf("put lifecycle of %s: %w", name, err)
			}
			ex.After = parseJSON(merged)
			return ex, nil
		},
	}, ""
}

// lifecycleRulesOf reads back a lifecycle configuration in the S3 API's JSON form (a change's
// Before or After).
func lifecycleRulesOf(v any) ([]checks.LifecycleRule, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var cfg struct{ Rules []s3types.LifecycleRule }
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("read lifecycle configuration: %w", err)
	}
	rules := make([]checks.LifecycleRule, 0, len(cfg.Rules))
	for _, r := range cfg.Rules {
		rules = append(rules, awsconv.LifecycleRule(r))
	}
	return rules, nil
}

// effective: an Enabled rule over the whole bucket.
func effective(r checks.LifecycleRule) bool {
	f := r.Filter
	return r.Status == "Enabled" && f.Prefix == "" && len(f.Tags) == 0 && f.ObjectSizeGreaterThan == 0 && f.ObjectSizeLessThan == 0
}

func archives(rules []checks.LifecycleRule, classes []string, maxDays int) bool {
	for _, r := range rules {
		if !effective(r) {
			continue
		}
		for _, t := range r.Transitions {
			if t.Date == "" && slices.Contains(classes, t.StorageClass) && int(t.Days) <= maxDays {
				return true
			}
		}
	}
	return false
}

func tidies(rules []checks.LifecycleRule, abortMax int) bool {
	noncurrent, aborts := false, false
	for _, r := range rules {
		if !effective(r) {
			continue
		}
		if len(r.NoncurrentTransitions) > 0 || r.NoncurrentExpiration != nil {
			noncurrent = true
		}
		if d := r.AbortIncompleteMultipartUploadDays; d != nil && int(*d) <= abortMax {
			aborts = true
		}
	}
	return noncurrent && aborts
}

// --- access logging ---------------------------------------------------------------------------------

type loggingJSON struct {
	LoggingEnabled *loggingEnabled `json:"LoggingEnabled,omitempty"`
}

type loggingEnabled struct {
	TargetBucket string `json:"TargetBucket"`
	TargetPrefix string `json:"TargetPrefix"`
}

func planAccessLogging(pc *planContext, f *checks.Finding) (*Change, string) {
	name, region := f.Resource.Name, f.Resource.Region
	if !pc.fix.LogBucketConfigured {
		return nil, "set fix.log_bucket in coffer.yaml for --fix to turn logging on"
	}
	target := pc.fix.LogBucket
	if target == name {
		return nil, fmt.Sprintf("fix.log_bucket is %s itself; a bucket must not log to itself, pick another log bucket", name)
	}
	lb := pc.buckets[target]
	switch {
	case lb == nil:
		return nil, fmt.Sprintf("fix.log_bucket %s is not a bucket of this account", target)
	case lb.Region != region:
		return nil, fmt.Sprintf("fix.log_bucket %s is in %s but %s is in %s; S3 delivers access logs only within a region", target, lb.Region, name, region)
	}
	var before any
	if b := pc.bucket(f); b != nil && b.Logging != nil {
		before = loggingJSON{}
		if b.Logging.Enabled {
			before = loggingJSON{LoggingEnabled: &loggingEnabled{TargetBucket: b.Logging.TargetBucket, TargetPrefix: b.Logging.TargetPrefix}}
		}
	}
	want := loggingJSON{LoggingEnabled: &loggingEnabled{TargetBucket: target, TargetPrefix: name + "/"}}
	return &Change{
		Description: fmt.Sprintf("Deliver server access logs to %s under %s/ (the log bucket's policy must let logging.s3.amazonaws.com write).", target, name),
		Before:      before, After: want,
		APICalls: []string{"s3:PutBucketLogging"},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.S3(region)
			ex := &execution{}
			out, err := api.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: &name})
			if err != nil {
				return ex, fmt.Errorf("get logging of %s: %w", name, err)
			}
			var keyFormat *s3types.TargetObjectKeyFormat
			cur := loggingJSON{}
			if le := out.LoggingEnabled; le != nil {
				cur.LoggingEnabled = &loggingEnabled{TargetBucket: aws.ToString(le.TargetBucket), TargetPrefix: aws.ToString(le.TargetPrefix)}
				keyFormat = le.TargetObjectKeyFormat
			}
			ex.Before = cur
			if le := cur.LoggingEnabled; le != nil && le.TargetBucket != "" && le.TargetBucket != name {
				ex.After = cur
				return ex, nil
			}
			ex.call("s3:PutBucketLogging")
			_, err = api.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{
				Bucket: &name,
				BucketLoggingStatus: &s3types.BucketLoggingStatus{LoggingEnabled: &s3types.LoggingEnabled{
					TargetBucket: aws.String(target), TargetPrefix: aws.String(name + "/"),
					TargetObjectKeyFormat: keyFormat, // the log key layout the user chose stays
				}},
			})
			if err != nil {
				ex.After = cur
				return ex, fmt.Errorf("put logging of %s: %w", name, err)
			}
			ex.After = want
			return ex, nil
		},
	}, ""
}
