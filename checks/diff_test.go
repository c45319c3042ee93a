package checks

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func diffFinding(check, name string, sev Severity, st Status) Finding {
	return Finding{
		CheckID: check, Title: check + " title", Severity: sev, Status: st, Message: check + " on " + name,
		Resource: Resource{ARN: "arn:aws:s3:::" + name, Type: "AWS::S3::Bucket", Name: name, Region: "us-east-1", Role: "primary"},
	}
}

func reportOf(account string, fs ...Finding) *Report {
	return &Report{SchemaVersion: ReportSchemaVersion, AccountID: account, Findings: fs}
}

// brief is a FindingChange reduced to what the cases below assert.
type brief struct {
	Check, Name   string
	Before, After Status
}

func briefs(fcs []FindingChange) []brief {
	out := []brief{}
	for _, fc := range fcs {
		out = append(out, brief{fc.CheckID, fc.Resource.Name, fc.Before, fc.After})
	}
	return out
}

func TestDiffReports(t *testing.T) {
	const (
		ver  = "s3-bucket-versioning"
		lock = "s3-bucket-object-lock"
		tls  = "s3-bucket-tls-only"
	)
	tests := []struct {
		name                    string
		old, new                []Finding
		wantNew, wantResolved   []brief
		wantChanged             []brief
		wantUnchanged, wantExit int
	}{
		{
			name:          "unchanged",
			old:           []Finding{diffFinding(ver, "a", SeverityHigh, StatusFail), diffFinding(tls, "a", SeverityMedium, StatusPass)},
			new:           []Finding{diffFinding(ver, "a", SeverityHigh, StatusFail), diffFinding(tls, "a", SeverityMedium, StatusPass)},
			wantUnchanged: 2,
		},
		{
			name:          "added: a failing finding appears with a new resource",
			old:           []Finding{diffFinding(ver, "a", SeverityHigh, StatusPass)},
			new:           []Finding{diffFinding(ver, "a", SeverityHigh, StatusPass), diffFinding(ver, "b", SeverityHigh, StatusFail)},
			wantNew:       []brief{{ver, "b", "", StatusFail}},
			wantUnchanged: 1, wantExit: 1,
		},
		{
			name:     "added: a passing finding starts failing",
			old:      []Finding{diffFinding(ver, "a", SeverityHigh, StatusPass)},
			new:      []Finding{diffFinding(ver, "a", SeverityHigh, StatusFail)},
			wantNew:  []brief{{ver, "a", StatusPass, StatusFail}},
			wantExit: 1,
		},
		{
			name:     "added: a waiver expired (WAIVED → FAIL is new to the gate)",
			old:      []Finding{diffFinding(ver, "a", SeverityHigh, StatusWaived)},
			new:      []Finding{diffFinding(ver, "a", SeverityHigh, StatusFail)},
			wantNew:  []brief{{ver, "a", StatusWaived, StatusFail}},
			wantExit: 1,
		},
		{
			name:         "removed: the failing resource went away",
			old:          []Finding{diffFinding(ver, "a", SeverityHigh, StatusFail), diffFinding(ver, "b", SeverityHigh, StatusPass)},
			new:          []Finding{diffFinding(ver, "b", SeverityHigh, StatusPass)},
			wantResolved: []brief{{ver, "a", StatusFail, ""}}, wantUnchanged: 1,
		},
		{
			name:         "resolved: fixed in place",
			old:          []Finding{diffFinding(lock, "a", SeverityHigh, StatusFail)},
			new:          []Finding{diffFinding(lock, "a", SeverityHigh, StatusPass)},
			wantResolved: []brief{{lock, "a", StatusFail, StatusPass}},
		},
		{
			name: "changed: statuses that are neither new failures nor resolved",
			old: []Finding{
				diffFinding(ver, "a", SeverityHigh, StatusFail), diffFinding(ver, "b", SeverityHigh, StatusPass),
				diffFinding(ver, "c", SeverityHigh, StatusError), diffFinding(tls, "a", SeverityMedium, StatusFail),
			},
			new: []Finding{
				diffFinding(ver, "a", SeverityHigh, StatusError), diffFinding(ver, "b", SeverityHigh, StatusError),
				diffFinding(ver, "c", SeverityHigh, StatusPass), diffFinding(tls, "a", SeverityMedium, StatusWaived),
			},
			// Most severe first, then check id and ARN.
			wantChanged: []brief{{ver, "a", StatusFail, StatusError}, {ver, "b", StatusPass, StatusError}, {ver, "c", StatusError, StatusPass}, {tls, "a", StatusFail, StatusWaived}},
		},
		{
			name:          "a compliant resource coming or going is not a change",
			old:           []Finding{diffFinding(ver, "gone", SeverityHigh, StatusPass)},
			new:           []Finding{diffFinding(ver, "new", SeverityHigh, StatusPass)},
			wantUnchanged: 2,
		},
		{
			name:     "new failures are ordered by severity",
			old:      nil,
			new:      []Finding{diffFinding(tls, "a", SeverityMedium, StatusFail), diffFinding(ver, "a", SeverityHigh, StatusFail), diffFinding("s3-bucket-not-public", "a", SeverityCritical, StatusFail)},
			wantNew:  []brief{{"s3-bucket-not-public", "a", "", StatusFail}, {ver, "a", "", StatusFail}, {tls, "a", "", StatusFail}},
			wantExit: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := DiffReports(reportOf("123456789012", tc.old...), reportOf("123456789012", tc.new...))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want []brief
			}{{"new", briefs(d.NewFailures), tc.wantNew}, {"resolved", briefs(d.Resolved), tc.wantResolved}, {"changed", briefs(d.Changed), tc.wantChanged}} {
				if c.want == nil {
					c.want = []brief{}
				}
				if diff := cmp.Diff(c.want, c.got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", c.what, diff)
				}
			}
			want := DiffSummary{New: len(tc.wantNew), Resolved: len(tc.wantResolved), Changed: len(tc.wantChanged), Unchanged: tc.wantUnchanged}
			if diff := cmp.Diff(want, d.Summary); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if got := d.ExitCode(SeverityLow); got != tc.wantExit {
				t.Errorf("exit code %d, want %d", got, tc.wantExit)
			}
		})
	}
}

func TestDiffExitCodeFailOn(t *testing.T) {
	d, err := DiffReports(reportOf("123456789012"), reportOf("123456789012", diffFinding("s3-bucket-tls-only", "a", SeverityMedium, StatusFail)))
	if err != nil {
		t.Fatal(err)
	}
	for sev, want := range map[Severity]int{SeverityLow: 1, SeverityMedium: 1, SeverityHigh: 0, SeverityCritical: 0} {
		if got := d.ExitCode(sev); got != want {
			t.Errorf("--fail-on %s: exit %d, want %d", sev, got, want)
		}
	}
}

func TestDiffDifferentAccounts(t *testing.T) {
	_, err := DiffReports(reportOf("111111111111"), reportOf("222222222222"))
	var mismatch *AccountMismatchError
	if !errors.As(err, &mismatch) || mismatch.Old != "111111111111" || mismatch.New != "222222222222" {
		t.Fatalf("DiffReports of two accounts: err = %v, want *AccountMismatchError", err)
	}
	a, b := diffSnapshot(), diffSnapshot()
	b.Account.ID = "222222222222"
	if _, err := DiffSnapshots(a, b); !errors.As(err, &mismatch) {
		t.Fatalf("DiffSnapshots of two accounts: err = %v, want *AccountMismatchError", err)
	}
}

func TestDetectInput(t *testing.T) {
	tests := []struct {
		name, data string
		want       InputKind
		wantErr    string
	}{
		{"report", `{"schema_version":"1","findings":[]}`, InputReport, ""},
		{"snapshot", `{"schema_version":"1","collected_at":"2026-01-01T00:00:00Z","s3":{"buckets":[]}}`, InputSnapshot, ""},
		{"snapshot without time", `{"s3":{}}`, InputSnapshot, ""},
		{"neither", `{"hello":"world"}`, "", "neither a coffer JSON report"},
		{"both", `{"findings":[],"s3":{}}`, "", "neither a coffer JSON report"},
		{"not an object", `[1,2]`, "", "not a JSON object"},
		{"broken", "{\n  \"findings\": [,\n", "", "2:"},
	}
	for _, tc := range tests {
		got, err := DetectInput([]byte(tc.data))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: DetectInput = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestDiffSetConfig(t *testing.T) {
	d, _ := DiffReports(reportOf("123456789012"), reportOf("123456789012"))
	d.SetConfig(nil)
	if d.Config == nil || d.Summary.Config != 0 {
		t.Errorf("SetConfig(nil): %v, %d", d.Config, d.Summary.Config)
	}
	d.SetConfig([]ConfigChange{{Type: "bucket"}})
	if d.Summary.Config != 1 {
		t.Errorf("Summary.Config = %d", d.Summary.Config)
	}
}
