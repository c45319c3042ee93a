package collect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/collect"
	"github.com/coffer-audit/coffer/fixtures/faultproxy"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/coffer-audit/coffer/fixtures/seed"
)

// TestOrg reads one organisation seeded in moto in every way an organisation scan can go. The
// scenarios share the organisation: seeding it (a fresh IAM per account, with moto's managed
// policies) costs more than most of them.
func TestOrg(t *testing.T) {
	e := newOrgEnv(t)
	for _, tc := range []struct {
		name string
		test func(*testing.T, *orgEnv)
	}{
		{"organisation", testCollectOrg},
		{"account list", testCollectOrgAccountList},
		{"member failures", testCollectOrgMemberFailures},
		{"start errors", testStartOrgErrors},
		{"isolation", testCollectOrgIsolation},
		{"emit order", testCollectOrgEmitOrder},
		{"stops", testCollectOrgStops},
		{"streams to a snapshot", testCollectOrgStreamsToSnapshot},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, e) })
	}
}

// orgEnv is an organisation in moto: moto's account manages it, "vault" and "prod" are ACTIVE
// members and "closed" is a SUSPENDED one, each holding its own buckets.
type orgEnv struct {
	srv  *motoserver.Server
	cfg  aws.Config
	opts collect.Options
	// ids are the accounts by name ("master" is the management account).
	ids map[string]string
	// buckets are the buckets seeded in each account, by account id, sorted.
	buckets map[string][]string
}

// orgBuckets are what each account holds: different names and different drift (the vault's
// standby is versioned, the others are not).
var orgBuckets = map[string][]string{
	"master": {"master-trail-logs"},
	"vault":  {"vault-standby"},
	"prod":   {"prod-db", "prod-files"},
	"closed": {"closed-old"},
}

func newOrgEnv(t *testing.T) *orgEnv {
	t.Helper()
	ctx := context.Background()
	srv := motoserver.Shared(t)
	srv.Reset(t)
	e := &orgEnv{srv: srv, cfg: srv.AWSConfig(t, "us-east-1"), opts: srv.Options(), ids: map[string]string{"master": motoserver.AccountID}, buckets: map[string][]string{}}
	members, err := seed.Organization(ctx, e.cfg, "vault", "prod", "closed")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		e.ids[m.Name] = m.ID
	}
	for name, buckets := range orgBuckets {
		cfg := e.cfg
		if name != "master" {
			cfg = seed.MemberConfig(e.cfg, e.ids[name])
		}
		s3c := awsclient.NewS3(cfg, "us-east-1", e.opts.Options)
		for _, b := range buckets {
			must[*s3.CreateBucketOutput](t, "create bucket "+b)(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}))
		}
		if name == "vault" {
			must[*s3.PutBucketVersioningOutput](t, "version the standby")(s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
				Bucket: aws.String("vault-standby"), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
			}))
		}
		e.buckets[e.ids[name]] = buckets
	}
	if err := seed.CloseAccount(ctx, e.cfg, e.ids["closed"]); err != nil {
		t.Fatal(err)
	}
	return e
}

// orgOptions are the options of an organisation collection of e, through endpoint.
func (e *orgEnv) orgOptions(endpoint string, extra ...func(*middleware.Stack) error) collect.OrgOptions {
	opts := e.opts
	opts.EndpointURL = endpoint
	opts.APIOptions = append(slices.Clone(opts.APIOptions), extra...)
	return collect.OrgOptions{Options: opts, RoleName: seed.MemberRole, SessionName: "coffer-20261207T120000Z"}
}

// roleARN is the role an organisation collection assumes in account id.
func roleARN(id string) string { return "arn:aws:iam::" + id + ":role/" + seed.MemberRole }

// collectAll runs CollectOrg and returns the header and the accounts in emit order.
func collectAll(ctx context.Context, t *testing.T, cfg aws.Config, opts collect.OrgOptions) (checks.OrgSnapshot, []*checks.OrgAccount) {
	t.Helper()
	var got []*checks.OrgAccount
	header, err := collect.CollectOrg(ctx, cfg, opts, func(a *checks.OrgAccount) error {
		got = append(got, a)
		return nil
	})
	if err != nil {
		t.Fatalf("CollectOrg: %v", err)
	}
	return header, got
}

// summary is what a test compares of an emitted account: id, name, status, error, buckets.
type summary struct {
	ID, Name, Status, Error string
	Buckets                 []string
}

func summarize(accounts []*checks.OrgAccount) []summary {
	out := make([]summary, 0, len(accounts))
	for _, a := range accounts {
		s := summary{ID: a.ID, Name: a.Name, Status: a.Status, Error: a.Error}
		if a.Snapshot != nil {
			for _, b := range a.Snapshot.S3.Buckets {
				s.Buckets = append(s.Buckets, b.Name)
			}
		}
		out = append(out, s)
	}
	return out
}

// bySortedID sorts summaries by account id: the order emit must follow.
func bySortedID(list []summary) []summary {
	slices.SortFunc(list, func(a, b summary) int { return strings.Compare(a.ID, b.ID) })
	return list
}

// testCollectOrg reads a whole organisation from moto: every ACTIVE account with its own buckets
// and nothing of the others', names from ListAccounts, the suspended account skipped, in
// account-id order; the caller's account read with the caller's keys (never through a role of
// its own), every member through its role with the session name given, and nothing but reads.
func testCollectOrg(t *testing.T, e *orgEnv) {
	ctx := context.Background()
	rec := &motoserver.Recorder{}
	opts := e.orgOptions(e.srv.URL, rec.Option)
	var mu sync.Mutex
	var events []collect.OrgProgress
	opts.Progress = func(p collect.OrgProgress) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, p)
	}
	header, got := collectAll(ctx, t, e.cfg, opts)

	if header.SchemaVersion != checks.OrgSnapshotSchemaVersion || header.CallerAccountID != motoserver.AccountID ||
		header.Collector != (checks.Collector{Name: "coffer", Version: "test"}) || header.CollectedAt.IsZero() || len(header.Accounts) != 0 {
		t.Errorf("header %+v", header)
	}
	want := bySortedID([]summary{
		{ID: e.ids["master"], Name: "master", Status: checks.AccountScanned, Buckets: orgBuckets["master"]},
		{ID: e.ids["vault"], Name: "vault", Status: checks.AccountScanned, Buckets: orgBuckets["vault"]},
		{ID: e.ids["prod"], Name: "prod", Status: checks.AccountScanned, Buckets: orgBuckets["prod"]},
		{ID: e.ids["closed"], Name: "closed", Status: checks.AccountSkipped, Error: "the account is SUSPENDED in the organisation"},
	})
	if diff := cmp.Diff(want, summarize(got)); diff != "" {
		t.Fatalf("accounts in emit order (-want +got):\n%s", diff)
	}
	for _, a := range got {
		if err := a.Validate(); err != nil {
			t.Errorf("account %s: %v", a.ID, err)
		}
		if a.Snapshot == nil {
			continue
		}
		if len(a.Snapshot.Errors) != 0 {
			t.Errorf("account %s: collection errors %+v", a.ID, a.Snapshot.Errors)
		}
		vault := a.ID == e.ids["vault"]
		if v := a.Snapshot.S3.Buckets[0].Versioning.Status; (v == "Enabled") != vault {
			t.Errorf("account %s: %s versioning %q: the vault's drift must be its own", a.ID, a.Snapshot.S3.Buckets[0].Name, v)
		}
	}

	t.Run("credentials", func(t *testing.T) {
		calls := rec.Calls()
		assumed := rec.AssumedRoles()
		var roles []string
		accountOf := func(key string) string {
			if key == motoserver.AccessKeyID {
				return motoserver.AccountID
			}
			if arn, ok := assumed[key]; ok {
				return strings.Split(arn, ":")[4]
			}
			return "unknown key " + key
		}
		signers := map[string]map[string]bool{} // operation → accounts whose keys signed it
		for _, c := range calls {
			if in, ok := c.Input.(*sts.AssumeRoleInput); ok {
				roles = append(roles, aws.ToString(in.RoleArn))
				if s := aws.ToString(in.RoleSessionName); s != "coffer-20261207T120000Z" {
					t.Errorf("session name %q", s)
				}
			}
			if signers[c.Op] == nil {
				signers[c.Op] = map[string]bool{}
			}
			signers[c.Op][accountOf(c.AccessKeyID)] = true
		}
		slices.Sort(roles)
		if diff := cmp.Diff(slices.Sorted(slices.Values([]string{roleARN(e.ids["vault"]), roleARN(e.ids["prod"])})), roles); diff != "" {
			t.Errorf("roles assumed, once each, never the caller's nor the suspended account's (-want +got):\n%s", diff)
		}
		for _, op := range []string{"STS:AssumeRole", "Organizations:ListAccounts"} {
			if diff := cmp.Diff(map[string]bool{motoserver.AccountID: true}, signers[op]); diff != "" {
				t.Errorf("%s signed by (-want +got):\n%s", op, diff)
			}
		}
		// Every account's reads were signed by that account's own credentials: the three
		// accounts read list their buckets, each with its own key.
		wantList := map[string]bool{e.ids["master"]: true, e.ids["vault"]: true, e.ids["prod"]: true}
		if diff := cmp.Diff(wantList, signers["S3:ListBuckets"]); diff != "" {
			t.Errorf("S3:ListBuckets signed by the keys of (-want +got):\n%s", diff)
		}
	})

	t.Run("IAM policies", func(t *testing.T) {
		// What only the caller's keys call is what docs/iam/coffer-org-caller-policy.json allows,
		// exactly; the member roles call nothing more than a one-account scan (whose actions
		// cmd/coffer's TestScanPolicyIsExactlyWhatCollectCalls holds to coffer-scan-policy.json).
		memberOps, callerOnly := map[string]bool{}, map[string]bool{}
		for _, c := range rec.Calls() {
			if c.AccessKeyID != motoserver.AccessKeyID {
				memberOps[c.Op] = true
			}
		}
		for _, c := range rec.Calls() {
			if c.AccessKeyID == motoserver.AccessKeyID && !memberOps[c.Op] {
				svc, op, _ := strings.Cut(c.Op, ":")
				callerOnly[strings.ToLower(svc)+":"+op] = true
			}
		}
		caller := readPolicy(t, "coffer-org-caller-policy.json")
		if diff := cmp.Diff(slices.Sorted(maps.Keys(callerOnly)), caller.actions()); diff != "" {
			t.Errorf("coffer-org-caller-policy.json (-what only the caller calls +what it allows):\n%s", diff)
		}
		for _, st := range caller.Statement {
			wantResource := "*"
			if slices.Contains(st.Action, "sts:AssumeRole") {
				wantResource = "arn:aws:iam::*:role/CofferAudit"
			}
			if st.Effect != "Allow" || st.Resource != wantResource {
				t.Errorf("statement %s: %s on %s, want Allow on %s", st.Sid, st.Effect, st.Resource, wantResource)
			}
		}
		if memberOps["STS:AssumeRole"] || memberOps["Organizations:ListAccounts"] {
			t.Errorf("a member role called the caller's operations: %v", slices.Sorted(maps.Keys(memberOps)))
		}

		trust := readPolicy(t, "coffer-member-role-trust-policy.json")
		if len(trust.Statement) != 1 {
			t.Fatalf("trust policy: %d statements, want 1", len(trust.Statement))
		}
		st := trust.Statement[0]
		if st.Effect != "Allow" || !slices.Equal(st.Action, []string{"sts:AssumeRole"}) || !regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:root$`).MatchString(st.Principal["AWS"]) ||
			st.Condition["StringEquals"]["sts:ExternalId"] == "" {
			t.Errorf("trust policy statement %+v: want Allow sts:AssumeRole to the caller's account, on condition of sts:ExternalId", st)
		}
	})

	t.Run("read only", func(t *testing.T) {
		for _, op := range rec.Operations() {
			if !motoserver.ReadOnly(op) && op != "STS:AssumeRole" {
				t.Errorf("mutating call %s", op)
			}
		}
		if n := rec.Counts()["Organizations:ListAccounts"]; n != 1 {
			t.Errorf("ListAccounts called %d times, want 1", n)
		}
	})

	t.Run("progress", func(t *testing.T) {
		finished := map[string]int{}
		last := 0
		for _, p := range events {
			if p.Accounts != 3 || p.AccountsFinished < last || p.AccountsFinished > 3 || p.Done > p.Total {
				t.Errorf("progress event %+v after %d accounts finished", p, last)
			}
			last = p.AccountsFinished
			if p.Finished {
				finished[p.AccountID]++
				if p.Total == 0 || p.Done != p.Total {
					t.Errorf("account %s finished at %d/%d", p.AccountID, p.Done, p.Total)
				}
			}
		}
		if diff := cmp.Diff(map[string]int{e.ids["master"]: 1, e.ids["vault"]: 1, e.ids["prod"]: 1}, finished); diff != "" {
			t.Errorf("finished events per account (-want +got):\n%s", diff)
		}
		if last != 3 {
			t.Errorf("progress ended at %d of 3 accounts", last)
		}
	})
}

// testCollectOrgAccountList reads the accounts named instead of the organisation's: no
// Organizations call, duplicates read once, no names, and the caller's account (named too) read
// with its own keys.
func testCollectOrgAccountList(t *testing.T, e *orgEnv) {
	ctx := context.Background()
	rec := &motoserver.Recorder{}
	opts := e.orgOptions(e.srv.URL, rec.Option)
	opts.Accounts = []string{e.ids["prod"], motoserver.AccountID, e.ids["prod"]}
	_, got := collectAll(ctx, t, e.cfg, opts)
	want := bySortedID([]summary{
		{ID: e.ids["master"], Status: checks.AccountScanned, Buckets: orgBuckets["master"]},
		{ID: e.ids["prod"], Status: checks.AccountScanned, Buckets: orgBuckets["prod"]},
	})
	if diff := cmp.Diff(want, summarize(got)); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
	counts := rec.Counts()
	if counts["Organizations:ListAccounts"] != 0 || counts["STS:AssumeRole"] != 1 {
		t.Errorf("ListAccounts %d times, AssumeRole %d times; want 0 and 1", counts["Organizations:ListAccounts"], counts["STS:AssumeRole"])
	}

	t.Run("only the caller needs no role", func(t *testing.T) {
		opts := e.orgOptions(e.srv.URL)
		opts.RoleName = ""
		opts.Accounts = []string{motoserver.AccountID}
		_, got := collectAll(ctx, t, e.cfg, opts)
		if len(got) != 1 || got[0].Status != checks.AccountScanned {
			t.Errorf("accounts %+v", summarize(got))
		}
	})
}

// TestCollectOrgMemberFailures: a member whose role cannot be assumed — denied, or throttled past
// the retries — is an error account naming the role and the AWS error code; the other accounts
// are read as usual.
func testCollectOrgMemberFailures(t *testing.T, e *orgEnv) {
	tests := []struct {
		name string
		kind faultproxy.Kind
		code string
	}{
		{"denied", faultproxy.Deny, "AccessDenied"},
		{"throttled beyond retries", faultproxy.Throttle, "Throttling"},
		{"failing", faultproxy.ServerError, "InternalFailure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := faultproxy.Start(t, e.srv.URL, faultproxy.Options{Rules: []faultproxy.Rule{
				{Service: "sts", Operation: "AssumeRole", BodyContains: roleARN(e.ids["vault"]), Kind: tc.kind, Rate: 1},
			}})
			cfg := e.cfg
			cfg.RetryMaxAttempts = 2 // throttled beyond retries, quickly
			_, got := collectAll(ctx, t, cfg, e.orgOptions(p.URL))
			wantErr := fmt.Sprintf("assume role %s: STS AssumeRole: %s: ", roleARN(e.ids["vault"]), tc.code)
			for i, s := range summarize(got) {
				if s.ID == e.ids["vault"] {
					if s.Status != checks.AccountError || !strings.HasPrefix(s.Error, wantErr) {
						t.Errorf("vault: status %s, error %q; want error starting %q", s.Status, s.Error, wantErr)
					}
					if err := got[i].Validate(); err != nil {
						t.Error(err)
					}
					continue
				}
				if s.ID != e.ids["closed"] && (s.Status != checks.AccountScanned || !slices.Equal(s.Buckets, e.buckets[s.ID])) {
					t.Errorf("account %s: %+v, want it scanned with its buckets", s.ID, s)
				}
			}
			if len(got) != 4 {
				t.Errorf("%d accounts emitted, want 4", len(got))
			}
			if n := p.Stats()["sts"].Faults[tc.kind]; n != cfg.RetryMaxAttempts && tc.kind != faultproxy.Deny || tc.kind == faultproxy.Deny && n != 1 {
				t.Errorf("%d faults on the vault's AssumeRole (%s)", n, p)
			}
		})
	}
}

// TestStartOrgErrors: what makes the whole run meaningless is an error before anything is read.
func testStartOrgErrors(t *testing.T, e *orgEnv) {
	ctx := context.Background()
	tests := []struct {
		name  string
		rules []faultproxy.Rule
		opts  func(*collect.OrgOptions)
		want  string
	}{
		{"no role name", nil, func(o *collect.OrgOptions) { o.RoleName = "" }, "a role name is needed to read account"},
		{"role ARN for a name", nil, func(o *collect.OrgOptions) { o.RoleName = "arn:aws:iam::1:role/x" }, "not an ARN"},
		{"bad account id", nil, func(o *collect.OrgOptions) { o.Accounts = []string{"12345"} }, `account id "12345" is not 12 digits`},
		{"bad session name", nil, func(o *collect.OrgOptions) { o.SessionName = "has space" }, "role session name"},
		{"bad external id", nil, func(o *collect.OrgOptions) { o.ExternalID = "x" }, "external id"},
		{"caller without credentials", []faultproxy.Rule{{Service: "sts", Operation: "GetCallerIdentity", Kind: faultproxy.Deny, Rate: 1}}, nil, "get caller identity"},
		{"ListAccounts denied", []faultproxy.Rule{{Operation: "ListAccounts", Kind: faultproxy.Deny, Rate: 1}}, nil, "organizations:ListAccounts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := faultproxy.Start(t, e.srv.URL, faultproxy.Options{Rules: tc.rules})
			rec := &motoserver.Recorder{}
			opts := e.orgOptions(p.URL, rec.Option)
			if tc.opts != nil {
				tc.opts(&opts)
			}
			emitted := 0
			_, err := collect.CollectOrg(ctx, e.cfg, opts, func(*checks.OrgAccount) error { emitted++; return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
			if emitted != 0 || rec.Counts()["STS:AssumeRole"] != 0 || rec.Counts()["S3:ListBuckets"] != 0 {
				t.Errorf("read accounts before failing: %d emitted, calls %v", emitted, rec.Counts())
			}
		})
	}
}

// TestStartOrgNotInOrganisation: an account outside any organisation cannot list one.
func TestStartOrgNotInOrganisation(t *testing.T) {
	srv := motoserver.Shared(t)
	srv.Reset(t)
	e := &orgEnv{srv: srv, cfg: srv.AWSConfig(t, "us-east-1"), opts: srv.Options()}
	_, err := collect.CollectOrg(context.Background(), e.cfg, e.orgOptions(srv.URL), func(*checks.OrgAccount) error { return nil })
	// Moto answers an empty list where AWS says AWSOrganizationsNotInUseException.
	if err == nil || !strings.Contains(err.Error(), "returned no account") {
		t.Errorf("err = %v, want one saying the organisation lists no account", err)
	}
}

// TestCollectOrgIsolation: an account whose S3 hangs does not hold up the others. The caller's S3
// calls are held by the proxy until every member has finished, so the run can only complete if
// the members are read while the caller's account waits; emit order is still account-id order.
func testCollectOrgIsolation(t *testing.T, e *orgEnv) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a safety net: a hang fails, not blocks
	defer cancel()
	p := faultproxy.Start(t, e.srv.URL, faultproxy.Options{Rules: []faultproxy.Rule{
		{Service: "s3", AccessKeyID: motoserver.AccessKeyID, Kind: faultproxy.Hold, Rate: 1},
	}})
	opts := e.orgOptions(p.URL)
	var order []string
	members := map[string]bool{e.ids["vault"]: true, e.ids["prod"]: true}
	opts.Progress = func(pr collect.OrgProgress) {
		if !pr.Finished {
			return
		}
		order = append(order, pr.AccountID)
		if delete(members, pr.AccountID); len(members) == 0 {
			p.Release()
		}
	}
	_, got := collectAll(ctx, t, e.cfg, opts)
	if len(order) != 3 || order[2] != motoserver.AccountID {
		t.Errorf("accounts finished in order %v, want the caller's (held) last", order)
	}
	var ids []string
	for _, a := range got {
		ids = append(ids, a.ID)
		if a.Status == checks.AccountScanned && !slices.Equal(summarize([]*checks.OrgAccount{a})[0].Buckets, e.buckets[a.ID]) {
			t.Errorf("account %s read wrong", a.ID)
		}
	}
	if !slices.IsSorted(ids) || len(ids) != 4 {
		t.Errorf("emitted %v, want the 4 accounts in id order", ids)
	}
}

// syntheticAccounts are account ids outside any organisation: moto lets a role of any account be
// assumed, so they are empty accounts to read. Listed out of order on purpose.
var syntheticAccounts = []string{"100000000004", "100000000001", "100000000003", "100000000005", "100000000002"}

// TestCollectOrgEmitOrder: emit follows account-id order whatever order the accounts finish in,
// and collection runs at most 2×AccountConcurrency accounts ahead of emit (what bounds memory).
// The first account's AssumeRole is held until every account that may start meanwhile has
// finished, so it finishes last.
func testCollectOrgEmitOrder(t *testing.T, e *orgEnv) {
	tests := []struct {
		name        string
		concurrency int // 0: the default
		// others is how many accounts finish while the first is held: all of them when the
		// window allows, else the window less the held one.
		others int
	}{
		{"default concurrency", 0, 4},
		{"window smaller than the organisation", 2, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a safety net
			defer cancel()
			first := slices.Min(syntheticAccounts)
			p := faultproxy.Start(t, e.srv.URL, faultproxy.Options{Rules: []faultproxy.Rule{
				{Operation: "AssumeRole", BodyContains: roleARN(first), Kind: faultproxy.Hold, Rate: 1},
			}})
			opts := e.orgOptions(p.URL)
			opts.Accounts = syntheticAccounts
			opts.AccountConcurrency = tc.concurrency

			var mu sync.Mutex
			started, emitted := map[string]bool{first: true}, map[string]bool{}
			var finished []string
			maxAhead := 0
			ahead := func() {
				n := 0
				for id := range started {
					if !emitted[id] {
						n++
					}
				}
				maxAhead = max(maxAhead, n)
			}
			opts.Progress = func(pr collect.OrgProgress) {
				mu.Lock()
				defer mu.Unlock()
				started[pr.AccountID] = true
				ahead()
				if pr.Finished {
					finished = append(finished, pr.AccountID)
					if len(finished) == tc.others {
						p.Release()
					}
				}
			}
			var order []string
			_, err := collect.CollectOrg(ctx, e.cfg, opts, func(a *checks.OrgAccount) error {
				mu.Lock()
				defer mu.Unlock()
				if a.Status != checks.AccountScanned {
					t.Errorf("account %s: %s %s", a.ID, a.Status, a.Error)
				}
				order = append(order, a.ID)
				emitted[a.ID] = true
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := slices.Sorted(slices.Values(syntheticAccounts)); !slices.Equal(order, want) {
				t.Errorf("emit order %v, want %v", order, want)
			}
			if len(finished) != len(syntheticAccounts) || finished[tc.others] != first {
				t.Errorf("finish order %v, want %s after %d others", finished, first, tc.others)
			}
			window := 2 * collect.DefaultAccountConcurrency
			if tc.concurrency > 0 {
				window = 2 * tc.concurrency
			}
			if maxAhead > window {
				t.Errorf("%d accounts were collecting or waiting to be emitted at once, want at most %d", maxAhead, window)
			}
		})
	}
}

// testCollectOrgStops: an emit error or the end of ctx stops the run and is returned; Skip
// leaves accounts to another shard, listed as skipped with its reason.
func testCollectOrgStops(t *testing.T, e *orgEnv) {
	errFull := errors.New("disk full")
	tests := []struct {
		name     string
		skip     func(string) string
		emit     func(cancel context.CancelFunc, n int) error
		want     error
		emitted  int
		accounts int // Progress's count of accounts to read
	}{
		{"emit fails", nil, func(_ context.CancelFunc, n int) error {
			if n == 2 {
				return errFull
			}
			return nil
		}, errFull, 2, 5},
		{"cancelled", nil, func(cancel context.CancelFunc, _ int) error { cancel(); return nil }, context.Canceled, 1, 5},
		{"shard", func(id string) string {
			if id < "100000000003" {
				return ""
			}
			return "not in shard 1/2"
		}, func(context.CancelFunc, int) error { return nil }, nil, 5, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := e.orgOptions(e.srv.URL)
			opts.Accounts = syntheticAccounts
			opts.Skip = tc.skip
			var mu sync.Mutex
			accounts := map[int]bool{}
			opts.Progress = func(p collect.OrgProgress) {
				mu.Lock()
				defer mu.Unlock()
				accounts[p.Accounts] = true
			}
			n := 0
			_, err := collect.CollectOrg(ctx, e.cfg, opts, func(a *checks.OrgAccount) error {
				n++
				if tc.skip != nil {
					want := checks.AccountScanned
					if r := tc.skip(a.ID); r != "" {
						want = checks.AccountSkipped
					}
					if a.Status != want || a.Status == checks.AccountSkipped && a.Error != "not in shard 1/2" {
						t.Errorf("account %s: %s %q", a.ID, a.Status, a.Error)
					}
				}
				return tc.emit(cancel, n)
			})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if n != tc.emitted {
				t.Errorf("emitted %d accounts, want %d", n, tc.emitted)
			}
			if !accounts[tc.accounts] || len(accounts) != 1 {
				t.Errorf("progress counted accounts %v, want %d", accounts, tc.accounts)
			}
		})
	}
}

// TestCollectOrgStreamsToSnapshot: the run's iterator feeds checks.WriteOrgSnapshot, which pulls
// one account at a time, and the file reads back as the organisation.
func testCollectOrgStreamsToSnapshot(t *testing.T, e *orgEnv) {
	ctx := context.Background()
	run, err := collect.StartOrg(ctx, e.cfg, e.orgOptions(e.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "org.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	next, stop := iter.Pull2(run.All(ctx))
	defer stop()
	err = checks.WriteOrgSnapshot(f, run.Header(), func() (*checks.OrgAccount, bool, error) {
		a, err, ok := next()
		return a, ok && err == nil, err
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	src, err := checks.OpenSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if h := src.Header(); h.CallerAccountID != motoserver.AccountID || !h.CollectedAt.Equal(run.Header().CollectedAt) {
		t.Errorf("header read back %+v", h)
	}
	var got []*checks.OrgAccount
	if err := src.Each(func(a *checks.OrgAccount) error { got = append(got, a); return nil }); err != nil {
		t.Fatal(err)
	}
	want := bySortedID([]summary{
		{ID: e.ids["master"], Name: "master", Status: checks.AccountScanned, Buckets: orgBuckets["master"]},
		{ID: e.ids["vault"], Name: "vault", Status: checks.AccountScanned, Buckets: orgBuckets["vault"]},
		{ID: e.ids["prod"], Name: "prod", Status: checks.AccountScanned, Buckets: orgBuckets["prod"]},
		{ID: e.ids["closed"], Name: "closed", Status: checks.AccountSkipped, Error: "the account is SUSPENDED in the organisation"},
	})
	if diff := cmp.Diff(want, summarize(got)); diff != "" {
		t.Errorf("snapshot read back (-want +got):\n%s", diff)
	}
}

// iamPolicy is the shape of the policies in docs/iam (Action as a string or a list).
type iamPolicy struct {
	Version   string
	Statement []struct {
		Sid       string
		Effect    string
		Principal map[string]string
		Action    stringOrList
		Resource  string
		Condition map[string]map[string]string
	}
}

// actions are the policy's actions, sorted.
func (p iamPolicy) actions() []string {
	var out []string
	for _, st := range p.Statement {
		out = append(out, st.Action...)
	}
	slices.Sort(out)
	return out
}

type stringOrList []string

func (s *stringOrList) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*s = []string{one}
		return nil
	}
	return json.Unmarshal(data, (*[]string)(s))
}

// readPolicy reads docs/iam/name strictly (unknown fields are errors).
func readPolicy(t *testing.T, name string) iamPolicy {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "iam", name))
	if err != nil {
		t.Fatal(err)
	}
	var p iamPolicy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if p.Version != "2012-10-17" {
		t.Errorf("%s: Version %q", name, p.Version)
	}
	return p
}
