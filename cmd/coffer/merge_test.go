package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
	"github.com/coffer-audit/coffer/reporters"
	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The organisation of these tests is made of the sample accounts in fixtures/, each under its own
// account id and with its buckets renamed (bucket names are unique across AWS, and the evaluation
// of an organisation pairs buckets by name). Shards are of 3: with the ids below, shard 1 holds
// 111111111111, 222222222222 and the suspended 555555555555; shard 2 888888888888 and the
// unreadable 202020202020; shard 3 123456789012 and, in fixtureOrg(t, vaultSameShard), the vault
// account its primary replicates to.
const (
	shards         = 3
	prodID         = "123456789012"
	vaultSameShard = "777777777777" // shard 3, with prod
	vaultElsewhere = "333333333333" // shard 2: the pair crosses shards
)

var fixedNow = time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC)

// renamedFixture is a sample snapshot as the snapshot of account id, its buckets prefixed with
// prefix everywhere they are named (ARNs, policies, replication, logging, trails, tags).
func renamedFixture(t *testing.T, file, id, prefix string) *checks.Snapshot {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := checks.ParseSnapshot(file, data)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if prefix != "" {
		var names []string
		for _, b := range snap.S3.Buckets {
			names = append(names, regexp.QuoteMeta(b.Name))
		}
		// Longest first: one pass, so vault-access-logs-eu-west-1 is renamed once, as itself.
		slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
		text = regexp.MustCompile(strings.Join(names, "|")).ReplaceAllString(text, prefix+"$0")
	}
	text = strings.ReplaceAll(text, snap.Account.ID, id)
	out, err := checks.ParseSnapshot(file, []byte(text))
	if err != nil {
		t.Fatalf("%s as account %s: %v", file, id, err)
	}
	return out
}

// fixtureOrg is an organisation of seven accounts: prod (the drifted sample) whose
// vault-projects-standby moved to the vault account vaultID (paired across accounts), copies of
// the compliant, workshop and drifted samples, an account coffer could not read and a suspended
// one.
func fixtureOrg(t *testing.T, vaultID string) *checks.MemoryAccounts {
	t.Helper()
	prod := renamedFixture(t, "../../fixtures/drifted.json", prodID, "")
	vault := &checks.Snapshot{SchemaVersion: prod.SchemaVersion, Collector: prod.Collector, CollectedAt: prod.CollectedAt,
		Regions: prod.Regions, Account: checks.Account{ID: vaultID, Partition: "aws", HomeRegion: "us-east-1"}}
	var kept []checks.Bucket
	for _, b := range prod.S3.Buckets {
		switch b.Name {
		case "vault-projects-standby":
			delete(b.Tags, checks.RoleTag)
			vault.S3.Buckets = append(vault.S3.Buckets, b)
			continue
		case "vault-projects":
			b.Replication.Rules[0].DestinationAccount = vaultID
		}
		kept = append(kept, b)
	}
	prod.S3.Buckets = kept
	return &checks.MemoryAccounts{Snapshot: checks.OrgSnapshot{
		SchemaVersion: checks.OrgSnapshotSchemaVersion, Collector: prod.Collector, CollectedAt: prod.CollectedAt, CallerAccountID: prodID,
		Accounts: []checks.OrgAccount{
			{ID: "888888888888", Name: "workshop", Status: checks.AccountScanned, Snapshot: renamedFixture(t, "../../fixtures/workshop-as-built.json", "888888888888", "ws-")},
			{ID: prodID, Name: "prod", Status: checks.AccountScanned, Snapshot: prod},
			{ID: "111111111111", Name: "compliant", Status: checks.AccountScanned, Snapshot: renamedFixture(t, "../../fixtures/compliant.json", "111111111111", "ok-")},
			{ID: vaultID, Name: "vault", Status: checks.AccountScanned, Snapshot: vault},
			{ID: "202020202020", Name: "denied", Status: checks.AccountError, Error: "AssumeRole failed (AccessDenied: not authorized)"},
			{ID: "222222222222", Name: "staging", Status: checks.AccountScanned, Snapshot: renamedFixture(t, "../../fixtures/drifted.json", "222222222222", "stg-")},
			{ID: "555555555555", Name: "old", Status: checks.AccountSkipped, Error: "SUSPENDED"},
		},
	}}
}

// shardOf is the part of org that shard s scans. listAll lists the other accounts as skipped
// (Shard.SkipReason), as a shard that knows the whole organisation does.
func shardOf(org *checks.MemoryAccounts, s checks.Shard, listAll bool) *checks.MemoryAccounts {
	part := &checks.MemoryAccounts{Snapshot: org.Header()}
	for _, a := range org.Snapshot.Accounts {
		switch {
		case s.Includes(a.ID):
			part.Snapshot.Accounts = append(part.Snapshot.Accounts, a)
		case listAll:
			part.Snapshot.Accounts = append(part.Snapshot.Accounts, checks.OrgAccount{ID: a.ID, Name: a.Name, Status: checks.AccountSkipped, Error: s.SkipReason()})
		}
	}
	return part
}

var (
	mergeEngineOnce *checks.Engine
)

func mergeEngine(t *testing.T) *checks.Engine {
	t.Helper()
	if mergeEngineOnce == nil {
		e, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: policies.FS})
		if err != nil {
			t.Fatal(err)
		}
		mergeEngineOnce = e
	}
	return mergeEngineOnce
}

// scanToJSON evaluates src as `coffer scan` does (EvaluateOrg, MergeReports) with a fixed clock
// and writes the JSON report with the JSON reporter.
func scanToJSON(t *testing.T, src checks.AccountSource, file string) {
	t.Helper()
	opts := checks.OrgEvalOptions{EvalOptions: checks.EvalOptions{Tool: checks.Tool{Name: "coffer", Version: toolVersion()}, Now: func() time.Time { return fixedNow }}}
	var reports []*checks.Report
	accounts, err := mergeEngine(t).EvaluateOrg(context.Background(), src, opts, func(_ checks.AccountInfo, r *checks.Report) error {
		reports = append(reports, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (reporters.JSON{}).Write(&buf, checks.MergeReports(reports, accounts)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMergeShardReportsIsTheSingleRun: an organisation scanned in 3 shards and merged gives the
// report of one scan of it — the same file, byte for byte: findings (sorted by account, check,
// ARN), accounts and their summaries, the summary — whether each shard lists only its accounts or
// the others as skipped, and when a shard's file is given twice. The pair of buckets across
// accounts lies within one shard (see TestMergeSnapshotsPairsAcrossShards for pairs that do not).
func TestMergeShardReportsIsTheSingleRun(t *testing.T) {
	org := fixtureOrg(t, vaultSameShard)
	dir := t.TempDir()
	single := filepath.Join(dir, "single.json")
	scanToJSON(t, org, single)
	want, err := os.ReadFile(single)
	if err != nil {
		t.Fatal(err)
	}
	for _, listAll := range []bool{false, true} {
		t.Run(fmt.Sprintf("others listed %v", listAll), func(t *testing.T) {
			var files []string
			for k := 1; k <= shards; k++ {
				s := checks.Shard{Index: k, Count: shards}
				part := shardOf(org, s, listAll)
				if n := len(part.Snapshot.Accounts); n == 0 {
					t.Fatalf("shard %s is empty: the test would not merge what it means to", s)
				}
				file := filepath.Join(dir, fmt.Sprintf("all-%v-shard-%d.json", listAll, k))
				scanToJSON(t, part, file)
				files = append(files, file)
			}
			if checks.ShardOf(prodID, shards) != checks.ShardOf(vaultSameShard, shards) {
				t.Fatal("prod and its vault account are no longer in one shard")
			}
			for _, inputs := range [][]string{files, {files[2], files[0], files[1]}, append(slices.Clone(files), files[0])} {
				out := filepath.Join(dir, "merged.json")
				r := runCLI(t, append([]string{"merge", "-o", out}, inputs...)...)
				if r.code != exitOK {
					t.Fatalf("merge %v: exit %d\n%s", inputs, r.code, r.stderr)
				}
				got, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("merge of %d shard files differs from the single run:\n%s", len(inputs), cmp.Diff(string(want), string(got)))
				}
			}
		})
	}

	// The merged report is what DESIGN §6 says an organisation report is, and what
	// docs/report.schema.json publishes.
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile("../../docs/report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("the merged report does not match docs/report.schema.json:\n%v", err)
	}
	rep, err := checks.LoadReport(single)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Accounts) != 7 || !slices.IsSortedFunc(rep.Accounts, func(a, b checks.AccountInfo) int { return strings.Compare(a.ID, b.ID) }) {
		t.Errorf("accounts %+v: want all 7, by id", rep.Accounts)
	}
	if !slices.IsSortedFunc(rep.Findings, checks.CompareFindings) {
		t.Error("findings are not sorted by account, check and ARN")
	}
	for _, a := range rep.Accounts {
		if (a.Summary == nil) != (a.Status == checks.AccountSkipped) {
			t.Errorf("account %s (%s) summary %+v", a.ID, a.Status, a.Summary)
		}
	}
}

// writeShardSnapshot writes src as `coffer collect --org` does.
func writeShardSnapshot(t *testing.T, src *checks.MemoryAccounts, file string) {
	t.Helper()
	var buf bytes.Buffer
	i := 0
	err := checks.WriteOrgSnapshot(&buf, src.Header(), func() (*checks.OrgAccount, bool, error) {
		if i == len(src.Snapshot.Accounts) {
			return nil, false, nil
		}
		i++
		return &src.Snapshot.Accounts[i-1], true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMergeSnapshotsPairsAcrossShards: shards that collect (coffer collect --shard) and a merge
// of their snapshots give one organisation snapshot whose scan is the scan of the whole
// organisation — also when a primary and its standby are in accounts of different shards, which
// a shard's own evaluation cannot pair. Inputs are organisation snapshots and a snapshot of one
// account (schema 1).
func TestMergeSnapshotsPairsAcrossShards(t *testing.T) {
	org := fixtureOrg(t, vaultElsewhere)
	if checks.ShardOf(prodID, shards) == checks.ShardOf(vaultElsewhere, shards) {
		t.Fatal("prod and its vault account are in one shard: the pair would not cross shards")
	}
	dir := t.TempDir()
	var files []string
	for k := 1; k <= shards; k++ {
		part := shardOf(org, checks.Shard{Index: k, Count: shards}, true)
		file := filepath.Join(dir, fmt.Sprintf("shard-%d.snapshot.json", k))
		writeShardSnapshot(t, part, file)
		files = append(files, file)
	}
	// prod alone, as `coffer collect` of that one account writes it.
	prodFile := filepath.Join(dir, "prod.snapshot.json")
	var buf bytes.Buffer
	if err := checks.WriteSnapshot(&buf, org.Snapshot.Accounts[1].Snapshot); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prodFile, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	files = append(files, prodFile)

	out := filepath.Join(dir, "org.snapshot.json")
	if r := runCLI(t, append([]string{"merge", "-o", out}, files...)...); r.code != exitOK {
		t.Fatalf("merge: exit %d\n%s", r.code, r.stderr)
	}
	merged, err := checks.OpenSnapshot(out)
	if err != nil {
		t.Fatalf("the merged snapshot does not read back: %v", err)
	}
	if h := merged.Header(); h.SchemaVersion != checks.OrgSnapshotSchemaVersion || h.Collector != org.Snapshot.Collector || !h.CollectedAt.Equal(org.Snapshot.CollectedAt) || h.CallerAccountID != prodID {
		t.Errorf("merged header %+v", h)
	}
	got := map[string]checks.OrgAccount{}
	err = merged.Each(func(a *checks.OrgAccount) error {
		if _, twice := got[a.ID]; twice {
			t.Errorf("account %s is in the merged snapshot twice", a.ID)
		}
		got[a.ID] = *a
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range org.Snapshot.Accounts {
		if diff := cmp.Diff(a, got[a.ID]); diff != "" {
			t.Errorf("account %s in the merged snapshot (-want +got):\n%s", a.ID, diff)
		}
	}
	if len(got) != len(org.Snapshot.Accounts) {
		t.Errorf("%d accounts merged, want %d", len(got), len(org.Snapshot.Accounts))
	}

	wantFile, gotFile := filepath.Join(dir, "single.json"), filepath.Join(dir, "merged.json")
	scanToJSON(t, org, wantFile)
	scanToJSON(t, merged, gotFile)
	want, _ := os.ReadFile(wantFile)
	gotReport, _ := os.ReadFile(gotFile)
	if !bytes.Equal(want, gotReport) {
		t.Errorf("the scan of the merged snapshot differs from the scan of the organisation:\n%s", cmp.Diff(string(want), string(gotReport)))
	}
	if !strings.Contains(string(gotReport), `"role": "standby"`) || !strings.Contains(string(gotReport), vaultElsewhere) {
		t.Error("the standby in the vault account is not judged as a standby")
	}
}

// TestMergeRefuses: what cannot be merged into one faithful result is refused with exit code 2,
// a message naming the file or account, and no output file.
func TestMergeRefuses(t *testing.T) {
	org := fixtureOrg(t, vaultSameShard)
	dir := t.TempDir()
	var reports, snapshots []string
	for k := 1; k <= shards; k++ {
		part := shardOf(org, checks.Shard{Index: k, Count: shards}, true)
		file := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		scanToJSON(t, part, file)
		reports = append(reports, file)
		snap := filepath.Join(dir, fmt.Sprintf("shard-%d.snapshot.json", k))
		writeShardSnapshot(t, part, snap)
		snapshots = append(snapshots, snap)
	}
	// derive writes a copy of file with edit applied to its text.
	derive := func(file, name string, edit func(string) string) string {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name)
		changed := edit(string(data))
		if changed == string(data) {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if err := os.WriteFile(out, []byte(changed), 0o600); err != nil {
			t.Fatal(err)
		}
		return out
	}
	otherResult := derive(reports[0], "shard-1-rerun.json", func(s string) string { return strings.Replace(s, `"status": "PASS"`, `"status": "FAIL"`, 1) })
	otherVersion := derive(reports[1], "shard-2-newer.json", func(s string) string {
		return strings.Replace(s, `"version": "`+toolVersion()+`"`, `"version": "9.9.9"`, 1)
	})
	reportV2 := derive(reports[1], "report-v2.json", func(s string) string {
		return strings.Replace(s, `"schema_version": "1"`, `"schema_version": "2"`, 1)
	})
	strayFinding := derive(reports[1], "stray.json", func(s string) string {
		return strings.Replace(s, `"account_id": "888888888888"`, `"account_id": "999999999999"`, 1)
	})
	snapRerun := derive(snapshots[0], "shard-1-rerun.snapshot.json", func(s string) string {
		return strings.ReplaceAll(s, "ok-vault-primary", "ok-vault-primary-2")
	})
	snapOtherCollector := derive(snapshots[1], "shard-2-newer.snapshot.json", func(s string) string {
		return regexp.MustCompile(`"version": "[^"]*"`).ReplaceAllString(s, `"version": "9.9.9"`)
	})
	notJSON := filepath.Join(dir, "broken.json")
	os.WriteFile(notJSON, []byte("{\n  \"schema_version\": \"1\",\n  oops\n}\n"), 0o600)
	notCoffer := filepath.Join(dir, "other.json")
	os.WriteFile(notCoffer, []byte(`{"name": "package.json", "version": "1.0.0"}`), 0o600)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a shard's result is missing", []string{reports[0], reports[2]}, "the result of shard 2/3 is missing"},
		{"a snapshot shard is missing", []string{snapshots[1], snapshots[2]}, "the result of shard 1/3 is missing"},
		{"one account, two results", []string{reports[0], reports[1], reports[2], otherResult}, "with different results"},
		{"different coffer versions", []string{reports[0], otherVersion, reports[2]}, "shard-2-newer.json was written by coffer 9.9.9"},
		{"one account, two snapshots", []string{snapshots[0], snapRerun, snapshots[1], snapshots[2]}, "with different results"},
		{"snapshots of different coffer versions", []string{snapshots[0], snapOtherCollector, snapshots[2]}, "merge snapshots of one coffer version"},
		{"a report of an unknown schema", []string{reports[0], reportV2, reports[2]}, `report-v2.json: report schema_version "2" is not supported`},
		{"a finding of an account the report does not list", []string{reports[0], strayFinding, reports[2]}, "stray.json: findings["},
		{"reports and snapshots", []string{reports[0], snapshots[1]}, "merge reports with reports"},
		{"not JSON", []string{reports[0], notJSON}, "broken.json:3:"},
		{"not a coffer file", []string{notCoffer}, "other.json: neither a coffer JSON report"},
		{"a file that is not there", []string{reports[0], filepath.Join(dir, "nope.json")}, "nope.json: no such file"},
		{"--fail-on on snapshots", append([]string{"--fail-on", "high"}, snapshots...), "--fail-on gates a merge of reports"},
		{"a bad --fail-on", append([]string{"--fail-on", "severe"}, reports...), "--fail-on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out", "merged.json")
			r := runCLI(t, append([]string{"merge", "-o", out}, tc.args...)...)
			t.Log(r.stderr)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused merge wrote its output")
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) > 0 {
				t.Errorf("a refused merge left %v behind", entries)
			}
		})
	}
	if r := runCLI(t, append([]string{"merge"}, reports...)...); r.code != exitUsage || !strings.Contains(r.stderr, "-o OUT is required") {
		t.Errorf("merge without -o: exit %d, %s", r.code, r.stderr)
	}
	if r := runCLI(t, "merge", "-o", filepath.Join(dir, "x.json")); r.code != exitUsage {
		t.Errorf("merge of nothing: exit %d", r.code)
	}
}

// TestMergeGate: with --fail-on the merged report is the organisation's gate (scan's exit codes);
// without, a merge that wrote its file exits 0 whatever the findings.
func TestMergeGate(t *testing.T) {
	org := fixtureOrg(t, vaultSameShard)
	dir := t.TempDir()
	var files []string
	for k := 1; k <= shards; k++ {
		file := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		scanToJSON(t, shardOf(org, checks.Shard{Index: k, Count: shards}, false), file)
		files = append(files, file)
	}
	for _, tc := range []struct {
		flags []string
		want  int
	}{{nil, exitOK}, {[]string{"--fail-on", "low"}, exitFindings}, {[]string{"--fail-on", "CRITICAL"}, exitFindings}} {
		var stdout bytes.Buffer
		args := append(append([]string{"merge", "-o", "-"}, tc.flags...), files...)
		code := run(context.Background(), args, strings.NewReader(""), &stdout, io.Discard)
		if code != tc.want {
			t.Errorf("merge %v: exit %d, want %d", tc.flags, code, tc.want)
		}
		var rep struct {
			Accounts []json.RawMessage `json:"accounts"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || len(rep.Accounts) != 7 {
			t.Errorf("merge -o - wrote no organisation report to stdout (%v)", err)
		}
	}
}
