package reporters

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
)

// sarifDoc is the part of a SARIF log the tests look at.
type sarifDoc struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name           string `json:"name"`
				Version        string `json:"version"`
				InformationURI string `json:"informationUri"`
				Rules          []struct {
					ID                   string         `json:"id"`
					Properties           map[string]any `json:"properties"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
					Help struct {
						Text     string `json:"text"`
						Markdown string `json:"markdown"`
					} `json:"help"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		AutomationDetails struct {
			ID string `json:"id"`
		} `json:"automationDetails"`
		Invocations []struct {
			ExecutionSuccessful        bool `json:"executionSuccessful"`
			ToolExecutionNotifications []struct {
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					FullyQualifiedName string `json:"fullyQualifiedName"`
				} `json:"logicalLocations"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []struct {
				Kind          string `json:"kind"`
				Justification string `json:"justification"`
			} `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

func decodeSARIF(t *testing.T, b []byte) sarifDoc {
	t.Helper()
	var doc sarifDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(doc.Runs))
	}
	return doc
}

func TestSARIFContract(t *testing.T) {
	r := goldenReport()
	doc := decodeSARIF(t, render(t, FormatSARIF, Options{}, r))
	run := doc.Runs[0]
	if doc.Version != "2.1.0" {
		t.Errorf("version %q", doc.Version)
	}
	d := run.Tool.Driver
	if d.Name != "coffer" || d.Version != "1.2.3-test" || d.InformationURI != InformationURI {
		t.Errorf("driver = %s %s %s", d.Name, d.Version, d.InformationURI)
	}

	// Every rule, sorted by id, with GitHub's severity and tags.
	var ids []string
	for _, rule := range d.Rules {
		ids = append(ids, rule.ID)
	}
	if !slices.IsSorted(ids) || len(ids) != len(r.Rules) {
		t.Errorf("rules = %v, want all %d sorted", ids, len(r.Rules))
	}
	wantSev := map[string]string{"iam-root-mfa": "9.5", "s3-bucket-versioning": "8.0", "s3-bucket-tls-only": "5.5", "s3-bucket-mfa-delete": "2.0"}
	wantLevel := map[string]string{"iam-root-mfa": "error", "s3-bucket-versioning": "error", "s3-bucket-tls-only": "warning", "s3-bucket-mfa-delete": "note"}
	for _, rule := range d.Rules {
		if want, ok := wantSev[rule.ID]; ok {
			if got := rule.Properties["security-severity"]; got != want {
				t.Errorf("%s: security-severity %#v, want string %q", rule.ID, got, want)
			}
			if got := rule.DefaultConfiguration.Level; got != wantLevel[rule.ID] {
				t.Errorf("%s: default level %q, want %q", rule.ID, got, wantLevel[rule.ID])
			}
		}
		if rule.Help.Text == "" || rule.Help.Markdown == "" {
			t.Errorf("%s: help text or markdown missing", rule.ID)
		}
	}
	if got := fmt.Sprint(d.Rules[slices.Index(ids, "s3-bucket-tls-only")].Properties["tags"]); got != "[security s3 CIS-2.1.1 FSBP-S3.5 WS-6.2]" {
		t.Errorf("tags of s3-bucket-tls-only = %s", got)
	}

	// Results: the 7 FAIL findings; nothing else.
	if got := len(run.Results); got != 7 {
		t.Errorf("%d results, want the 7 FAIL findings", got)
	}
	uriRE := regexp.MustCompile(`^aws/123456789012/[a-z0-9-]+/[a-z0-9]+/[A-Za-z0-9._~-]+$`)
	for _, res := range run.Results {
		if ids[res.RuleIndex] != res.RuleID {
			t.Errorf("result %s: ruleIndex %d points at %s", res.RuleID, res.RuleIndex, ids[res.RuleIndex])
		}
		loc := res.Locations[0]
		arn := loc.LogicalLocations[0].FullyQualifiedName
		if uri := loc.PhysicalLocation.ArtifactLocation.URI; !uriRE.MatchString(uri) || strings.Contains(uri, "arn:") {
			t.Errorf("result %s: artifact uri %q is not aws/<account>/<region>/<service>/<name>", res.RuleID, uri)
		}
		if loc.PhysicalLocation.Region.StartLine != 1 {
			t.Errorf("result %s: startLine %d", res.RuleID, loc.PhysicalLocation.Region.StartLine)
		}
		if !strings.Contains(res.Message.Text, arn) {
			t.Errorf("result %s: message lacks the ARN %s", res.RuleID, arn)
		}
		if got, want := res.PartialFingerprints, map[string]string{"coffer/v1": Fingerprint(res.RuleID, arn)}; !cmp.Equal(got, want) {
			t.Errorf("result %s: fingerprints %v, want %v", res.RuleID, got, want)
		}
		if len(res.Suppressions) > 0 {
			t.Errorf("result %s has suppressions; GitHub would show it as an open alert", res.RuleID)
		}
	}
	if got := Fingerprint("s3-bucket-versioning", "arn:aws:s3:::b"); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(got) {
		t.Errorf("fingerprint %q is not hex sha256", got)
	}

	// ERROR and WAIVED findings and notices are execution notifications; the run still succeeded.
	inv := run.Invocations[0]
	if !inv.ExecutionSuccessful {
		t.Error("executionSuccessful false")
	}
	var levels []string
	for _, n := range inv.ToolExecutionNotifications {
		levels = append(levels, n.Level)
	}
	if !slices.Equal(levels, []string{"error", "note", "warning"}) {
		t.Errorf("notification levels %v, want [error note warning]", levels)
	}
	if msg := inv.ToolExecutionNotifications[1].Message.Text; !strings.Contains(msg, "arn:aws:s3:::team-backups-primary") || !strings.Contains(msg, "Legacy uploader <v2>") {
		t.Errorf("waiver notification %q lacks resource or reason", msg)
	}
	if msg := inv.ToolExecutionNotifications[0].Message.Text; !strings.Contains(msg, "arn:aws:kms:eu-west-1:123456789012:key/") || !strings.Contains(msg, "AccessDeniedException") {
		t.Errorf("error notification %q lacks resource or reason", msg)
	}
}

func TestSARIFAutomationID(t *testing.T) {
	tests := []struct {
		account, category, want string
	}{
		{"123456789012", "", "coffer/123456789012/"},
		{"123456789012", "eu-west-1", "coffer/123456789012/eu-west-1/"},
		{"123456789012", "/nightly/part 1/", "coffer/123456789012/nightly/part_1/"},
		{"", "", "coffer/unknown-account/"},
	}
	for _, tc := range tests {
		r := goldenReport()
		r.AccountID = tc.account
		doc := decodeSARIF(t, render(t, FormatSARIF, Options{Category: tc.category}, r))
		if got := doc.Runs[0].AutomationDetails.ID; got != tc.want {
			t.Errorf("account %q category %q: id %q, want %q", tc.account, tc.category, got, tc.want)
		}
	}
}

func TestArtifactURI(t *testing.T) {
	tests := []struct {
		service string
		res     checks.Resource
		want    string
	}{
		{"s3", checks.Resource{ARN: "arn:aws:s3:::b.example", Name: "b.example", Region: "eu-west-1"}, "aws/123456789012/eu-west-1/s3/b.example"},
		{"iam", checks.Resource{ARN: "arn:aws:iam::123456789012:user/ops/a+b@c.d", Name: "a+b@c.d"}, "aws/123456789012/global/iam/a_b_c.d"},
		{"", checks.Resource{ARN: "arn:aws:kms:us-east-1:123456789012:key/k1"}, "aws/123456789012/us-east-1/kms/key_k1"},
		{"s3", checks.Resource{Name: ".."}, "aws/123456789012/global/s3/__"},
		{"s3", checks.Resource{Name: "naïve name/with:colon"}, "aws/123456789012/global/s3/na__ve_name_with_colon"},
	}
	for _, tc := range tests {
		if got := artifactURI(fixtureAccount, tc.service, tc.res); got != tc.want {
			t.Errorf("artifactURI(%s, %+v) = %q, want %q", tc.service, tc.res, got, tc.want)
		}
	}
}

// bigReport has n FAIL findings spread over three checks.
func bigReport(n int) *checks.Report {
	r := goldenReport()
	r.Findings = r.Findings[:0:0]
	ids := []string{"s3-bucket-acls-disabled", "s3-bucket-tls-only", "s3-bucket-versioning"}
	for i := range n {
		id := ids[i%len(ids)]
		name := fmt.Sprintf("bucket-%06d", i)
		r.Findings = append(r.Findings, checks.Finding{
			CheckID: id, Title: id, Severity: checks.SeverityMedium, Status: checks.StatusFail,
			Resource: checks.Resource{ARN: "arn:aws:s3:::" + name, Type: "AWS::S3::Bucket", Name: name, Region: "us-east-1", Role: "primary"},
			Message:  "Bucket " + name + " is not compliant.",
			Remediation: checks.Remediation{Summary: "Fix it.", Fix: checks.FixAuto,
				Commands: []string{"aws s3api put-something --bucket " + name}},
		})
	}
	r.Findings = append(r.Findings, checks.Finding{CheckID: "kms-key-rotation", Title: "k", Severity: checks.SeverityMedium,
		Status: checks.StatusError, Resource: checks.Resource{ARN: "arn:aws:kms:us-east-1:123456789012:key/k"}, Message: "denied"})
	r.Summarize()
	return r
}

func TestSARIFLimitAndSplit(t *testing.T) {
	r := bigReport(MaxSARIFResults + 1)
	var buf bytes.Buffer
	err := (&SARIF{}).Write(&buf, r)
	if err == nil || !strings.Contains(err.Error(), "25001 results exceed GitHub's limit of 25000") || !errors.Is(err, ErrSARIFLimit) {
		t.Fatalf("error = %v, want the results limit named, wrapping ErrSARIFLimit", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes despite the error", buf.Len())
	}

	// The split itself is tested at a small scale: 301 results in parts of at most 100.
	r = bigReport(301)
	parts := SplitSARIF(r, 100)
	if len(parts) != 4 {
		t.Fatalf("%d parts, want 4", len(parts))
	}
	seen := map[string]bool{}
	for i, p := range parts {
		doc := decodeSARIF(t, render(t, FormatSARIF, Options{Category: fmt.Sprintf("part-%d", i+1)}, p))
		if n := len(doc.Runs[0].Results); n > 100 {
			t.Errorf("part %d has %d results", i+1, n)
		}
		if got := len(doc.Runs[0].Tool.Driver.Rules); got != len(r.Rules) {
			t.Errorf("part %d has %d rules, want all %d", i+1, got, len(r.Rules))
		}
		for _, f := range p.Findings {
			key := f.CheckID + "|" + f.Resource.ARN
			if seen[key] {
				t.Errorf("%s in two parts", key)
			}
			seen[key] = true
		}
		if wantErr := i == 0; (len(doc.Runs[0].Invocations[0].ToolExecutionNotifications) > 0) != wantErr {
			t.Errorf("part %d: notifications present = %v, want %v", i+1, !wantErr, wantErr)
		}
	}
	if len(seen) != len(r.Findings) {
		t.Errorf("parts hold %d findings, want %d", len(seen), len(r.Findings))
	}
	// Whole checks stay together when they fit: 3 checks of 101/100/100, parts of 201.
	parts = SplitSARIF(r, 201)
	for i, p := range parts {
		var ids []string
		for _, f := range p.Findings {
			if f.Status == checks.StatusFail && !slices.Contains(ids, f.CheckID) {
				ids = append(ids, f.CheckID)
			}
		}
		want := [][]string{{"s3-bucket-acls-disabled", "s3-bucket-tls-only"}, {"s3-bucket-versioning"}}[i]
		if !slices.Equal(ids, want) {
			t.Errorf("part %d holds checks %v, want %v", i+1, ids, want)
		}
	}
	if got := SplitSARIF(goldenReport(), 0); len(got) != 1 {
		t.Errorf("a small report split into %d parts", len(got))
	}
	if got := len(SplitSARIF(bigReport(10), 3)); got != 4 {
		t.Errorf("10 results by 3: %d parts, want 4", got)
	}
}

func TestSARIFSizeLimit(t *testing.T) {
	golden := render(t, FormatSARIF, Options{}, goldenReport())
	size, err := gzipSize(golden)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&SARIF{gzipLimit: size}).Write(io.Discard, goldenReport()); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}

	var buf bytes.Buffer
	err = (&SARIF{gzipLimit: size - 1}).Write(&buf, goldenReport())
	if want := fmt.Sprintf("sarif: %d bytes gzip-compressed exceed GitHub's upload limit of %d", size, size-1); err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrSARIFLimit) {
		t.Fatalf("error = %v, want %q", err, want)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes despite the error", buf.Len())
	}
}

// TestOutputFilesSplitSARIFBeyondWhatGitHubShows: a SARIF log with more failing results than
// GitHub shows is written as NAME.part-N.sarif files of at most SARIFResultsPerFile results, each
// in its own automation category (else one upload would replace the other); every other format,
// and a SARIF log that fits, is the one file asked for.
func TestOutputFilesSplitSARIFBeyondWhatGitHubShows(t *testing.T) {
	big := bigReport(SARIFResultsPerFile + 1)
	small := goldenReport()
	tests := []struct {
		name, format, path string
		report             *checks.Report
		category           string
		wantPaths          []string
		wantCategories     []string
	}{
		{"split", FormatSARIF, "out/coffer.sarif", big, "", []string{"out/coffer.part-1.sarif", "out/coffer.part-2.sarif"}, []string{"part-1", "part-2"}},
		{"split keeps the category", "SARIF", "coffer.sarif", big, "eu-west-1", []string{"coffer.part-1.sarif", "coffer.part-2.sarif"}, []string{"eu-west-1/part-1", "eu-west-1/part-2"}},
		{"split without .sarif", FormatSARIF, "results", big, "", []string{"results.part-1.sarif", "results.part-2.sarif"}, []string{"part-1", "part-2"}},
		{"fits", FormatSARIF, "coffer.sarif", small, "nightly", []string{"coffer.sarif"}, []string{"nightly"}},
		{"other format never splits", FormatJSON, "coffer.json", big, "", []string{"coffer.json"}, []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := OutputFiles(tc.format, tc.path, tc.report, Options{Category: tc.category})
			var paths, categories []string
			for _, f := range files {
				paths = append(paths, f.Path)
				categories = append(categories, f.Options.Category)
			}
			if !slices.Equal(paths, tc.wantPaths) || !slices.Equal(categories, tc.wantCategories) {
				t.Fatalf("files %v in categories %q, want %v in %q", paths, categories, tc.wantPaths, tc.wantCategories)
			}
			if notice := SplitNotice(files); (notice != "") != (len(files) > 1) {
				t.Errorf("notice %q for %d files", notice, len(files))
			}
			if len(files) == 1 {
				if files[0].Report != tc.report {
					t.Error("a file that is not split must hold the report itself")
				}
				return
			}
			total := 0
			ids := map[string]bool{}
			for _, f := range files {
				doc := decodeSARIF(t, render(t, FormatSARIF, f.Options, f.Report))
				n := len(doc.Runs[0].Results)
				if n > SARIFResultsPerFile {
					t.Errorf("%s has %d results", f.Path, n)
				}
				total += n
				ids[doc.Runs[0].AutomationDetails.ID] = true
			}
			if total != SARIFResultsPerFile+1 || len(ids) != len(files) {
				t.Errorf("%d results in %d automation ids, want %d in %d", total, len(ids), SARIFResultsPerFile+1, len(files))
			}
			want := fmt.Sprintf("%d failing results exceed the %d GitHub shows per run; SARIF split into %s..2.sarif", SARIFResultsPerFile+1, SARIFResultsPerFile, strings.TrimSuffix(tc.wantPaths[0], ".sarif"))
			if notice := SplitNotice(files); !strings.HasPrefix(notice, want) {
				t.Errorf("notice %q, want it to start with %q", notice, want)
			}
		})
	}
}

// multitoolPath finds the Microsoft SARIF multitool: $COFFER_SARIF_MULTITOOL, else the copy that
// scripts/install-sarif-multitool.sh puts under the repository's node_modules.
func multitoolPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("COFFER_SARIF_MULTITOOL"); p != "" {
		return p
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "node_modules", "@microsoft", "sarif-multitool-linux", "Sarif.Multitool")
}

// TestSARIFMultitool validates SARIF logs with GitHub's rules in the Microsoft SARIF multitool and
// fails on any error-level result; a deliberately broken log proves errors are detected.
func TestSARIFMultitool(t *testing.T) {
	bin := multitoolPath(t)
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("SARIF multitool not found or not executable at %s (%v): run `make tools` (scripts/install-sarif-multitool.sh) or set COFFER_SARIF_MULTITOOL", bin, err)
	}
	golden := render(t, FormatSARIF, Options{}, goldenReport())
	broken := bytes.Replace(golden, []byte(`"ruleIndex": 2`), []byte(`"ruleIndex": 99`), 1)
	if bytes.Equal(broken, golden) {
		t.Fatal("could not break the golden SARIF")
	}
	longName, _ := longNameReport(t, "team-backups-primary")
	tests := []struct {
		name       string
		content    []byte
		wantErrors bool
	}{
		{"golden", golden, false},
		{"1 MB bucket name", render(t, FormatSARIF, Options{}, longName), false},
		{"split part", render(t, FormatSARIF, Options{Category: "part-2"}, SplitSARIF(bigReport(30), 10)[1]), false},
		{"empty scan", render(t, FormatSARIF, Options{}, &checks.Report{SchemaVersion: "1",
			Tool: checks.Tool{Name: "coffer", Version: "dev"}, AccountID: fixtureAccount}), false},
		{"organisation", render(t, FormatSARIF, Options{Category: "nightly"}, orgReport()), false},
		{"organisation, streamed", func() []byte {
			reports, accounts := orgReports()
			return stream(t, FormatSARIF, Options{}, reports, accounts)
		}(), false},
		{"organisation, streamed into files: the last, with the organisation run", func() []byte {
			reports, accounts := manyAccountReports(45)
			dir := t.TempDir()
			names, _ := streamFiles(t, dir, Options{Category: "nightly"}, reports, accounts)
			b, err := os.ReadFile(filepath.Join(dir, names[len(names)-1]))
			if err != nil || len(names) < 2 {
				t.Fatalf("%v: files %v", err, names)
			}
			return b
		}(), false},
		{"broken control", broken, true},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := runMultitool(t, bin, filepath.Join(dir, fmt.Sprintf("%d.sarif", i)), tc.content)
			if tc.wantErrors && len(errs) == 0 {
				t.Error("multitool found no error in a broken log: is the validation harness working?")
			}
			if !tc.wantErrors {
				for _, e := range errs {
					t.Error(e)
				}
			}
		})
	}
}

// runMultitool runs `Sarif.Multitool validate --rule-kind "Sarif;Gh"` on content and returns its
// error-level findings; warnings and notes are logged.
func runMultitool(t *testing.T, bin, in string, content []byte) []string {
	t.Helper()
	if err := os.WriteFile(in, content, 0o644); err != nil {
		t.Fatal(err)
	}
	out := in + ".validation.json"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// "Gh" selects the GitHub Advanced Security rules (GH1xxx/GH2xxx; 5.7.0 also calls them Ghas).
	cmd := exec.CommandContext(ctx, bin, "validate", "--rule-kind", "Sarif;Gh", "--output", out, in)
	// The multitool is a self-contained .NET program: it needs no .NET runtime, but it aborts
	// without libicu unless globalization is invariant, which its English messages do not need.
	cmd.Env = append(os.Environ(), "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1", "DOTNET_CLI_TELEMETRY_OPTOUT=1")
	console, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("multitool failed: %v\n%s", err, console)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("multitool wrote no output: %v\n%s", err, console)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID  string `json:"ruleId"`
				Level   string `json:"level"`
				Message struct {
					Arguments []string `json:"arguments"`
				} `json:"message"`
			} `json:"results"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(raw, &log); err != nil {
		t.Fatalf("read multitool output: %v", err)
	}
	if len(log.Runs) == 0 || len(log.Runs[0].Invocations) == 0 || !log.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Fatalf("multitool did not run successfully:\n%s", console)
	}
	var errs []string
	for _, res := range log.Runs[0].Results {
		level := res.Level
		if level == "" {
			level = "warning" // SARIF's default level
		}
		line := fmt.Sprintf("%s (%s): %v", res.RuleID, level, res.Message.Arguments)
		if res.Level == "error" {
			errs = append(errs, line)
		} else {
			t.Log(line)
		}
	}
	return errs
}

// TestSARIFBaselineState: after `scan --baseline` every result says whether it is new or was in the
// baseline; without a baseline no result claims either.
func TestSARIFBaselineState(t *testing.T) {
	states := func(r *checks.Report) map[string]string {
		var doc struct {
			Runs []struct {
				Results []struct {
					RuleID        string  `json:"ruleId"`
					BaselineState *string `json:"baselineState"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(render(t, FormatSARIF, Options{}, r), &doc); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, res := range doc.Runs[0].Results {
			state := "(absent)"
			if res.BaselineState != nil {
				state = *res.BaselineState
			}
			out[res.RuleID+" "+state] = state
		}
		return out
	}
	baselined := states(goldenReport())
	if _, ok := baselined["iam-user-mfa unchanged"]; !ok || baselined["iam-root-mfa new"] != "new" || len(baselined) != 7 {
		t.Errorf("baselined states = %v, want iam-user-mfa unchanged and every other result new", baselined)
	}
	plain := goldenReport()
	plain.Baselined = false
	for key, state := range states(plain) {
		if state != "(absent)" {
			t.Errorf("%s: baselineState without a baseline", key)
		}
	}
}

// manyAccounts is an organisation of n accounts, each with goldenReport's findings, the first
// one too many to fit one run, and a skipped account.
func manyAccounts(n int) *checks.Report {
	return checks.MergeReports(manyAccountReports(n))
}

// manyAccountReports are the reports and accounts of manyAccounts, as EvaluateOrg emits them.
func manyAccountReports(n int) ([]*checks.Report, []checks.AccountInfo) {
	var reports []*checks.Report
	var accounts []checks.AccountInfo
	for i := range n {
		id := fmt.Sprintf("%012d", 600000000000+i)
		r := accountCopy(goldenReport(), id)
		if i == 0 {
			big := bigReport(SARIFResultsPerFile + 10)
			for _, f := range big.Findings {
				f.Resource.AccountID = id
				r.Findings = append(r.Findings, f)
			}
			slices.SortFunc(r.Findings, compareFindings)
		}
		r.Summarize()
		reports = append(reports, r)
		accounts = append(accounts, checks.AccountInfo{ID: id, Status: checks.AccountScanned})
	}
	accounts = append(accounts, checks.AccountInfo{ID: "999999999999", Status: checks.AccountSkipped, Error: "suspended"})
	return reports, accounts
}

// TestSARIFOrganisationRuns: an organisation's log has a run per account (parts of accounts
// beyond what GitHub shows), each with its own automation category, and an organisation run for
// what is not an account's; split into files, no file has more runs than GitHub takes, an
// account's runs stay together and keep their category whatever file they land in.
func TestSARIFOrganisationRuns(t *testing.T) {
	type run struct {
		ID      string
		Results int
	}
	runsOf := func(b []byte) []run {
		var doc struct {
			Runs []struct {
				AutomationDetails struct {
					ID string `json:"id"`
				} `json:"automationDetails"`
				Results []any `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		var out []run
		for _, r := range doc.Runs {
			out = append(out, run{r.AutomationDetails.ID, len(r.Results)})
		}
		return out
	}
	small := runsOf(render(t, FormatSARIF, Options{Category: "nightly"}, manyAccounts(3)))
	var ids []string
	total := 0
	for _, r := range small {
		ids = append(ids, r.ID)
		total += r.Results
		if r.Results > SARIFResultsPerFile {
			t.Errorf("run %s has %d results; GitHub shows %d", r.ID, r.Results, SARIFResultsPerFile)
		}
	}
	wantIDs := []string{"coffer/600000000000/nightly/part-1/", "coffer/600000000000/nightly/part-2/",
		"coffer/600000000001/nightly/", "coffer/600000000002/nightly/", "coffer/organisation/nightly/"}
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("runs of an organisation (-want +got):\n%s", diff)
	}
	if want := SARIFResultsPerFile + 10 + 3*7; total != want {
		t.Errorf("%d results in all, want %d (every FAIL finding)", total, want)
	}
	if r := small[len(small)-1]; r.Results != 0 {
		t.Errorf("the organisation run has %d results, want none", r.Results)
	}

	files := OutputFiles(FormatSARIF, "out/coffer.sarif", manyAccounts(30), Options{Category: "nightly"})
	if len(files) != 2 {
		t.Fatalf("%d files, want 2 (32 runs)", len(files))
	}
	if notice, want := SplitNotice(files), "the accounts' runs exceed the 20 GitHub takes per SARIF file; SARIF split into out/coffer.part-1..2.sarif"; !strings.HasPrefix(notice, want) {
		t.Errorf("SplitNotice = %q, want it to start with %q", notice, want)
	}
	seen := map[string]string{}
	for i, f := range files {
		if want := fmt.Sprintf("out/coffer.part-%d.sarif", i+1); f.Path != want {
			t.Errorf("file %d is %s, want %s", i, f.Path, want)
		}
		runs := runsOf(render(t, FormatSARIF, f.Options, f.Report))
		if len(runs) > MaxSARIFRuns {
			t.Errorf("%s has %d runs, GitHub takes %d", f.Path, len(runs), MaxSARIFRuns)
		}
		for _, r := range runs {
			if other, dup := seen[r.ID]; dup {
				t.Errorf("category %s in %s and %s: the second upload would replace the first", r.ID, other, f.Path)
			}
			seen[r.ID] = f.Path
		}
	}
	for _, id := range []string{"coffer/600000000000/nightly/part-2/", "coffer/600000000001/nightly/", "coffer/600000000029/nightly/", "coffer/organisation/nightly/"} {
		if seen[id] == "" {
			t.Errorf("no run %s in the files", id)
		}
	}
	if seen["coffer/600000000000/nightly/part-1/"] != seen["coffer/600000000000/nightly/part-2/"] {
		t.Error("an account's parts are in different files")
	}
}
