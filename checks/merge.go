package checks

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"reflect"
	"slices"
	"strings"
)

// `coffer merge` puts the results of an organisation scanned in shards (DESIGN §14) back
// together: JSON reports into one organisation report, snapshots into one organisation snapshot.
// Each account must come out exactly once. An account may appear in several inputs only as
//   - the same result (the same file given twice, shards that overlap): kept once;
//   - skipped as not in the input's shard (Shard.SkipReason), beside the shard that has it: the
//     placeholder is dropped. An account that every input skipped this way belongs to a shard
//     whose result is missing, and the merge refuses rather than report it as never scanned.
// Anything else (two different results of one account, inputs of different coffer versions) is
// refused: the merged result would depend on which input came first.

// DetectFile tells a JSON report from a snapshot of either schema by the first top-level key
// that only one of them has ("tool" and "findings" are a report's; "collector", "collected_at"
// and "s3" a snapshot's), reading no more of the file than up to that key: a snapshot of an
// organisation can be gigabytes.
func DetectFile(path string) (InputKind, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, unwrapPathError(err))
	}
	defer file.Close()
	dec := json.NewDecoder(bufio.NewReader(file))
	fail := func(err error) (InputKind, error) { return "", positionedError(path, dec.InputOffset(), err) }
	if tok, err := dec.Token(); err != nil {
		return fail(fmt.Errorf("not JSON: %w", err))
	} else if tok != json.Delim('{') {
		return fail(errors.New("not a coffer JSON report or snapshot: not a JSON object"))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		switch tok {
		case "tool", "findings":
			return InputReport, nil
		case "collector", "collected_at", "s3":
			return InputSnapshot, nil
		}
		if err := skipValue(dec); err != nil {
			return fail(err)
		}
	}
	return "", &SnapshotError{File: path, Msg: "neither a coffer JSON report (no tool or findings) nor a snapshot (no collector, collected_at or s3)"}
}

// skipValue reads past one JSON value token by token, holding none of it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// unwrapPathError is the cause of a failed open or read, without the path (messages name the
// file once); any other error as it is.
func unwrapPathError(err error) error {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err // the message names the file once
	}
	return err
}

// mergeEntry is one account as one input has it.
type mergeEntry struct {
	file   string
	info   AccountInfo
	digest [sha256.Size]byte // snapshots: the account as JSON, to tell equal results from different
	// findings are the account's findings (reports), sorted.
	findings []Finding
	// report is the input the account came from (reports).
	report *Report
}

// placeholder reports whether the input only says another shard has the account.
func (e *mergeEntry) placeholder() bool {
	return e.info.Status == AccountSkipped && IsNotInShard(e.info.Error)
}

// resolveAccounts picks one entry per account from what the inputs hold (in the inputs' order),
// refusing conflicts and accounts that no input has for real. same says whether two entries of
// an account are the same result.
func resolveAccounts(entries map[string][]*mergeEntry, same func(a, b *mergeEntry) bool) (map[string]*mergeEntry, error) {
	chosen := make(map[string]*mergeEntry, len(entries))
	for _, id := range SortedKeys(entries) {
		var real []*mergeEntry
		for _, e := range entries[id] {
			if !e.placeholder() {
				real = append(real, e)
			}
		}
		if len(real) == 0 {
			return nil, missingShardError(id, entries[id])
		}
		for _, e := range real[1:] {
			if !same(real[0], e) {
				return nil, fmt.Errorf("account %s is in %s (%s) and in %s (%s) with different results: give each account's result once, from one run", id, real[0].file, real[0].info.Status, e.file, e.info.Status)
			}
		}
		pick := real[0]
		for _, e := range real {
			if pick.info.Name == "" && e.info.Name != "" {
				pick.info.Name = e.info.Name
			}
		}
		chosen[id] = pick
	}
	return chosen, nil
}

func missingShardError(id string, placeholders []*mergeEntry) error {
	var files []string
	for _, e := range placeholders {
		files = append(files, e.file)
	}
	which := "its shard"
	if s, err := ParseShard(strings.TrimPrefix(placeholders[0].info.Error, notInShardPrefix)); err == nil {
		which = "shard " + Shard{Index: ShardOf(id, s.Count), Count: s.Count}.String()
	}
	return fmt.Errorf("account %s is in no input: %s skip it as not in their shard, and the result of %s is missing", id, strings.Join(files, ", "), which)
}

// sameTool refuses inputs written by different coffer versions (checks, messages and the
// snapshot's contents change between versions: a merged result would mix them). An input that
// names no tool is of any version: the report of a shard that had no account to evaluate has
// none.
func sameTool(kind, file string, got Tool, firstFile string, first Tool) error {
	if got != first && got != (Tool{}) && first != (Tool{}) {
		return fmt.Errorf("%s was written by %s %s and %s by %s %s: merge %ss of one coffer version", file, got.Name, got.Version, firstFile, first.Name, first.Version, kind)
	}
	return nil
}

// MergeReportFiles reads JSON reports — of one account, or organisation reports — and merges
// them into one organisation report (MergeReports): every account once, findings by account,
// check and resource, the summary of them all. Accounts are checked as the package comment says.
// The reports are held in memory together, as MergeReports needs them.
func MergeReportFiles(files []string) (*Report, error) {
	entries := map[string][]*mergeEntry{}
	var first *Report
	var firstFile string
	var inputs []*Report
	for _, file := range files {
		r, err := LoadReport(file)
		if err != nil {
			var se *SnapshotError
			if errors.As(err, &se) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w", file, unwrapPathError(err))
		}
		if first == nil || first.Tool == (Tool{}) {
			first, firstFile = r, file
		} else if err := sameTool("report", file, r.Tool, firstFile, first.Tool); err != nil {
			return nil, err
		}
		accounts, err := splitReport(file, r)
		if err != nil {
			return nil, err
		}
		for _, e := range accounts {
			entries[e.info.ID] = append(entries[e.info.ID], e)
		}
		inputs = append(inputs, r)
	}
	chosen, err := resolveAccounts(entries, func(a, b *mergeEntry) bool {
		return a.info.Status == b.info.Status && a.info.Error == b.info.Error && reflect.DeepEqual(a.findings, b.findings)
	})
	if err != nil {
		return nil, err
	}
	var reports []*Report
	var accounts []AccountInfo
	usedFile := map[*Report]bool{}
	for _, id := range SortedKeys(chosen) {
		e := chosen[id]
		info := e.info
		info.Summary = nil
		if info.Status != AccountSkipped {
			r := &Report{
				SchemaVersion: ReportSchemaVersion, Tool: e.report.Tool, AccountID: id, Regions: e.report.Regions,
				StartedAt: e.report.StartedAt, FinishedAt: e.report.FinishedAt, Findings: e.findings,
			}
			r.Summarize()
			s := r.Summary
			info.Summary = &s
			reports = append(reports, r)
			usedFile[e.report] = true
		}
		accounts = append(accounts, info)
	}
	if len(reports) == 0 && len(accounts) == 0 {
		return nil, errors.New("no account in the inputs")
	}
	var merged *Report
	if len(reports) == 1 && len(accounts) == 1 {
		merged = reports[0]
	} else {
		merged = MergeReports(reports, accounts)
	}
	merged.SchemaVersion, merged.Tool = ReportSchemaVersion, first.Tool
	if merged.StartedAt.IsZero() {
		merged.StartedAt, merged.FinishedAt = first.StartedAt, first.FinishedAt
	}
	// Notices are the reports' own, not the accounts': they come along once from every input that
	// gave an account, in the order of the inputs.
	merged.Notices = nil
	for _, r := range inputs {
		if usedFile[r] {
			merged.Notices = append(merged.Notices, r.Notices...)
		}
	}
	return merged, nil
}

// splitReport turns one report into its accounts' entries: a report of one account is that
// account, scanned (its findings without resource.account_id are of its account_id); an
// organisation report has its accounts list, and every finding must be of one of them.
func splitReport(file string, r *Report) ([]*mergeEntry, error) {
	bad := func(format string, args ...any) error {
		return &SnapshotError{File: file, Msg: fmt.Sprintf(format, args...)}
	}
	if len(r.Accounts) == 0 {
		if !accountIDPattern.MatchString(r.AccountID) {
			return nil, bad("account_id %q is not an account id (12 digits), and the report lists no accounts", r.AccountID)
		}
		e := &mergeEntry{file: file, report: r, info: AccountInfo{ID: r.AccountID, Status: AccountScanned}}
		for i, f := range r.Findings {
			if f.Resource.AccountID == "" {
				f.Resource.AccountID = r.AccountID
			} else if f.Resource.AccountID != r.AccountID {
				return nil, bad("findings[%d] (%s on %s) is of account %s in the report of account %s", i, f.CheckID, f.Resource.ARN, f.Resource.AccountID, r.AccountID)
			}
			e.findings = append(e.findings, f)
		}
		slices.SortStableFunc(e.findings, CompareFindings)
		return []*mergeEntry{e}, nil
	}
	byID := make(map[string]*mergeEntry, len(r.Accounts))
	out := make([]*mergeEntry, 0, len(r.Accounts))
	for i, a := range r.Accounts {
		if !accountIDPattern.MatchString(a.ID) {
			return nil, bad("accounts[%d]: id %q is not an account id (12 digits)", i, a.ID)
		}
		switch a.Status {
		case AccountScanned, AccountError, AccountSkipped:
		default:
			return nil, bad("accounts[%d] (%s): status %q is not scanned, error or skipped", i, a.ID, a.Status)
		}
		if byID[a.ID] != nil {
			return nil, bad("account %s is listed twice", a.ID)
		}
		e := &mergeEntry{file: file, report: r, info: a}
		byID[a.ID] = e
		out = append(out, e)
	}
	for i, f := range r.Findings {
		e := byID[f.Resource.AccountID]
		if e == nil {
			return nil, bad("findings[%d] (%s on %s) is of account %q, which the report's accounts do not list", i, f.CheckID, f.Resource.ARN, f.Resource.AccountID)
		}
		if e.info.Status == AccountSkipped {
			return nil, bad("findings[%d] (%s on %s) is of account %s, which the report says was skipped", i, f.CheckID, f.Resource.ARN, e.info.ID)
		}
		e.findings = append(e.findings, f)
	}
	for _, e := range out {
		slices.SortStableFunc(e.findings, CompareFindings)
	}
	return out, nil
}

// SnapshotMerge is the plan of a merge of snapshots (MergeSnapshots): which input gives each
// account. Write streams the merged snapshot.
type SnapshotMerge struct {
	files  []string
	header OrgSnapshot
	// from is, for each account, the input whose copy goes out.
	from map[string]int
}

// Header is the merged snapshot's header: the collector of the inputs (all the same), the
// earliest collection time (the organisation is as of its oldest part), and the caller account
// when every input has the same.
func (m *SnapshotMerge) Header() OrgSnapshot { return m.header }

// Accounts is how many accounts the merged snapshot holds.
func (m *SnapshotMerge) Accounts() int { return len(m.from) }

// MergeSnapshots reads snapshots — of one account (schema 1) or of an organisation (schema 2) —
// once through, account by account, and decides which input gives each account, checking them as
// the package comment says; only what identifies each account is kept. Nothing is written: Write
// streams the merged snapshot, so a refused merge leaves no file behind.
func MergeSnapshots(files []string) (*SnapshotMerge, error) {
	m := &SnapshotMerge{files: files, from: map[string]int{}}
	entries := map[string][]*mergeEntry{}
	fileIndex := map[*mergeEntry]int{}
	var firstFile string
	callers := map[string]bool{}
	for i, file := range files {
		index := func(a *OrgAccount) error {
			digest, err := accountDigest(a)
			if err != nil {
				return err
			}
			e := &mergeEntry{file: file, info: AccountInfo{ID: a.ID, Name: a.Name, Status: a.Status, Error: a.Error}, digest: digest}
			for _, other := range entries[a.ID] {
				if fileIndex[other] == i {
					return fmt.Errorf("account %s appears twice", a.ID)
				}
			}
			entries[a.ID] = append(entries[a.ID], e)
			fileIndex[e] = i
			return nil
		}
		header, err := eachAccountOf(file, index)
		if err != nil {
			return nil, err
		}
		if err := sameTool("snapshot", file, Tool(header.Collector), firstFile, Tool(m.header.Collector)); err != nil {
			return nil, err
		}
		if m.header.Collector == (Collector{}) {
			m.header.Collector, firstFile = header.Collector, file
		}
		if i == 0 || header.CollectedAt.Before(m.header.CollectedAt) {
			m.header.CollectedAt = header.CollectedAt
		}
		callers[header.CallerAccountID] = true
	}
	if len(callers) == 1 {
		for caller := range callers {
			m.header.CallerAccountID = caller
		}
	}
	m.header.SchemaVersion = OrgSnapshotSchemaVersion
	m.header.Accounts = nil
	chosen, err := resolveAccounts(entries, func(a, b *mergeEntry) bool { return a.digest == b.digest })
	if err != nil {
		return nil, err
	}
	if len(chosen) == 0 {
		return nil, errors.New("no account in the inputs")
	}
	for id, e := range chosen {
		m.from[id] = fileIndex[e]
	}
	return m, nil
}

// accountDigest is a hash of what coffer read of the account: equal digests are the same result.
// The account's name is left out: a snapshot of one account has none.
func accountDigest(a *OrgAccount) ([sha256.Size]byte, error) {
	h := sha256.New()
	result := struct {
		Status, Error string
		Snapshot      *Snapshot
	}{a.Status, a.Error, a.Snapshot}
	if err := json.NewEncoder(h).Encode(result); err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("encode account %s: %w", a.ID, err)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d, nil
}

// eachAccountOf reads a snapshot file of either schema account by account: an organisation
// snapshot streamed and checked as it goes (readOrgSnapshot), a snapshot of one account read
// whole and dropped after fn, so that a merge of many single-account snapshots holds one at a
// time. Errors name the file.
func eachAccountOf(file string, fn func(*OrgAccount) error) (OrgSnapshot, error) {
	fileErr := func(err error) error {
		var se *SnapshotError
		if errors.As(err, &se) {
			return err
		}
		return fmt.Errorf("%s: %w", file, unwrapPathError(err))
	}
	version, err := probeSchemaVersion(file)
	if err != nil {
		return OrgSnapshot{}, fileErr(err)
	}
	if version == OrgSnapshotSchemaVersion {
		header, err := readOrgSnapshot(file, fn)
		if err != nil {
			return OrgSnapshot{}, fileErr(err)
		}
		return header, nil
	}
	snap, err := LoadSnapshot(file)
	if err != nil {
		return OrgSnapshot{}, fileErr(err)
	}
	src := SingleAccount(snap)
	if err := src.Each(fn); err != nil {
		return OrgSnapshot{}, fileErr(err)
	}
	return src.Header(), nil
}

// Write streams the merged organisation snapshot to w: the inputs are read again in their order
// and each account goes out as it is read, from the input MergeSnapshots chose for it, so memory
// holds one account at a time. An input that changed since MergeSnapshots read it is an error.
func (m *SnapshotMerge) Write(w io.Writer) error {
	written := map[string]bool{}
	var readErr error
	accounts := func(yield func(*OrgAccount) bool) {
		for i, file := range m.files {
			stop := errors.New("stop")
			_, err := eachAccountOf(file, func(a *OrgAccount) error {
				if from, ok := m.from[a.ID]; !ok || from != i || written[a.ID] {
					return nil
				}
				written[a.ID] = true
				if !yield(a) {
					return stop
				}
				return nil
			})
			if err != nil {
				if !errors.Is(err, stop) {
					readErr = err
				}
				return
			}
		}
	}
	next, done := iter.Pull(accounts)
	defer done()
	err := WriteOrgSnapshot(w, m.header, func() (*OrgAccount, bool, error) {
		a, ok := next()
		if !ok && readErr != nil {
			return nil, false, readErr
		}
		return a, ok, nil
	})
	if err != nil {
		return err
	}
	if len(written) != len(m.from) {
		return fmt.Errorf("%d of %d accounts were written: an input changed while it was merged", len(written), len(m.from))
	}
	return nil
}
