package reporters

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/coffer-audit/coffer/checks"
)

// StreamWriter writes an organisation's report account by account (DESIGN §14), so that an
// organisation of any size is written in the memory of its largest account: the accounts'
// findings are written as they come and only their envelopes (times, tool, notices) are kept. The
// document is the one the format's Reporter writes for checks.MergeReports of the same reports
// and accounts (parsed, they are equal; JSON puts findings before summary), provided the accounts
// come in account id order, as MergeReports sorts them. A stream of a single account with at most
// one account listed is that account's report, byte for byte, as MergeReports returns it.
type StreamWriter interface {
	// Account adds the report of one account (what checks.Engine.EvaluateOrg emits). The writer
	// does not keep or modify it, except the first until a second comes.
	Account(r *checks.Report) error
	// Close ends the document with what is known only at the end: the accounts and their status
	// (what EvaluateOrg returns), and the times, tool, regions, summary and notices of the account
	// reports. It does not close the underlying writer.
	Close(accounts []checks.AccountInfo) error
}

// streams maps the formats that can be streamed to their constructor.
var streams = map[string]func(io.Writer, Options) StreamWriter{
	FormatJSON: func(w io.Writer, o Options) StreamWriter { return &jsonStream{base: streamBase{w: w}} },
	FormatSARIF: func(w io.Writer, o Options) StreamWriter {
		return &sarifStream{base: streamBase{w: w}, sarif: &SARIF{Options: o}}
	},
}

// StreamFormats lists the formats NewStream writes, sorted.
func StreamFormats() []string {
	names := make([]string, 0, len(streams))
	for name := range streams {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// NewStream returns a writer of format to w account by account. The formats for people group
// across accounts and have size limits, so they need the whole report; JUnit's totals come first.
func NewStream(format string, w io.Writer, opts Options) (StreamWriter, error) {
	ctor, ok := streams[strings.ToLower(strings.TrimSpace(format))]
	if !ok {
		return nil, fmt.Errorf("format %q cannot be written account by account (formats that can: %s)", format, strings.Join(StreamFormats(), ", "))
	}
	return ctor(w, opts), nil
}

// streamBase is what the streams share: the first report held back (the stream of a single
// account is that account's report), the envelopes of the reports written, the summary of their
// findings.
type streamBase struct {
	w         io.Writer
	bw        *bufio.Writer
	first     *checks.Report // held until a second account comes
	started   bool           // the document's head is written
	envelopes []*checks.Report
	summary   checks.Summary
	closed    bool
}

// add takes one account's report and returns the reports to write now: none for the first, the
// first and this one for the second, this one after.
func (s *streamBase) add(r *checks.Report) ([]*checks.Report, error) {
	if s.closed {
		return nil, fmt.Errorf("stream: account %s after Close", r.AccountID)
	}
	if r == nil {
		return nil, errNilReport
	}
	if !s.started && s.first == nil {
		s.first = r
		return nil, nil
	}
	out := []*checks.Report{r}
	if s.first != nil {
		out = []*checks.Report{s.first, r}
		s.first = nil
	}
	s.take(out)
	return out, nil
}

// release returns the report held back, to be written now (Close of a stream that is not one
// account's report).
func (s *streamBase) release() []*checks.Report {
	if s.first == nil {
		return nil
	}
	out := []*checks.Report{s.first}
	s.first = nil
	s.take(out)
	return out
}

// take keeps the envelopes and counts the findings of reports about to be written.
func (s *streamBase) take(out []*checks.Report) {
	if s.bw == nil {
		s.bw = bufio.NewWriterSize(s.w, 1<<16)
	}
	for _, r := range out {
		env := *r
		env.Findings = nil
		s.envelopes = append(s.envelopes, &env)
		for i := range r.Findings {
			addToSummary(&s.summary, &r.Findings[i])
		}
	}
}

// org is the organisation report of the accounts written, without findings, with the summary of
// their findings: checks.MergeReports of the envelopes, so that every field is derived as there.
func (s *streamBase) org(accounts []checks.AccountInfo) *checks.Report {
	org := *checks.MergeReports(s.envelopes, accounts)
	org.Summary = s.summary
	if org.Summary.BySeverity == nil {
		org.Summary.BySeverity = map[string]int{}
	}
	return &org
}

// single reports whether the stream is one account's report: at most one report came, and at most
// one account is listed (MergeReports returns such a report as it is).
func (s *streamBase) single(accounts []checks.AccountInfo) bool {
	return !s.started && len(accounts) <= 1
}

func addToSummary(s *checks.Summary, f *checks.Finding) {
	if s.BySeverity == nil {
		s.BySeverity = map[string]int{}
	}
	switch f.Status {
	case checks.StatusPass:
		s.Pass++
	case checks.StatusFail:
		s.Fail++
		s.BySeverity[f.Severity.String()]++
	case checks.StatusError:
		s.Error++
	case checks.StatusWaived:
		s.Waived++
	}
}

// jsonStream writes the JSON report: {"findings": [...], then the envelope of MergeReports}.
type jsonStream struct {
	base streamBase
	enc  *json.Encoder
	n    int // findings written
}

func (s *jsonStream) Account(r *checks.Report) error {
	reports, err := s.base.add(r)
	if err != nil || len(reports) == 0 {
		return err
	}
	return s.write(reports)
}

func (s *jsonStream) write(reports []*checks.Report) error {
	bw := s.base.bw
	if !s.base.started {
		s.base.started = true
		bw.WriteString("{\n  \"findings\": [")
		s.enc = newFindingEncoder(bw)
	}
	for _, r := range reports {
		for _, f := range sortedFindings(r) {
			if s.n > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n    ")
			if err := encodeFinding(s.enc, f); err != nil {
				return err
			}
			s.n++
		}
	}
	// bufio.Writer keeps its first error and returns it from every later call.
	_, err := bw.Write(nil)
	return err
}

func (s *jsonStream) Close(accounts []checks.AccountInfo) error {
	if s.base.closed {
		return nil
	}
	s.base.closed = true
	if s.base.single(accounts) {
		return s.writeSingle(accounts)
	}
	if first := s.base.release(); first != nil {
		if err := s.write(first); err != nil {
			return err
		}
	}
	if !s.base.started {
		// No account had a report (all skipped): the envelope alone, with its empty findings.
		return JSON{}.Write(s.base.w, s.base.org(accounts))
	}
	env, err := jsonEnvelope(s.base.org(accounts))
	if err != nil {
		return err
	}
	bw := s.base.bw
	if s.n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("],\n  ")
	bw.Write(env[len("{\n  "):])
	return bw.Flush()
}

func (s *jsonStream) writeSingle(accounts []checks.AccountInfo) error {
	var reports []*checks.Report
	if s.base.first != nil {
		reports = append(reports, s.base.first)
	}
	return JSON{}.Write(s.base.w, checks.MergeReports(reports, accounts))
}

// jsonEnvelope is the JSON report of r without its findings member: {"schema_version": …}.
func jsonEnvelope(r *checks.Report) ([]byte, error) {
	cp := *r
	cp.Findings = nil
	var buf bytes.Buffer
	if err := encodeIndented(&buf, &cp, ""); err != nil {
		return nil, fmt.Errorf("encode json report: %w", err)
	}
	head, tail, ok := bytes.Cut(buf.Bytes(), []byte(`"findings": []`))
	if !ok {
		return nil, fmt.Errorf("encode json report: no findings list in the envelope")
	}
	if rest, ok := bytes.CutPrefix(tail, []byte(",")); ok {
		// "findings": [], "notices": … → "notices": …
		tail = bytes.TrimLeft(rest, " \n")
	} else {
		// …, "findings": [] } → … }
		head = bytes.TrimRight(head, " \n")
		head = bytes.TrimSuffix(head, []byte(","))
	}
	return append(head, tail...), nil
}

// sarifStream writes an organisation's SARIF log: the runs of each account as it comes, the
// organisation run at the end.
type sarifStream struct {
	base  streamBase
	sarif *SARIF
	runs  int  // runs written into the current log
	open  bool // the current log's head is written
	// next, when set, is called to end the current log and start another in the writer it
	// returns, when an account's runs would take the current one beyond MaxSARIFRuns (a log
	// split into files, SARIFFiles). Without it the log is one, whatever its runs.
	next func() (io.Writer, error)
}

// sarifHead and sarifTail are the log around its runs, as encodeSARIF lays out any log.
var sarifHead, sarifTail = func() (string, string) {
	log := sarif.NewReport()
	log.AddRun(sarif.NewRunWithInformationURI("coffer", InformationURI))
	b, err := encodeSARIF(log)
	if err != nil {
		panic(err)
	}
	s := b.String()
	i := strings.Index(s, "\"runs\": [\n")
	j := strings.LastIndex(s, "\n  ]")
	if i < 0 || j < i {
		panic("sarif: the log's runs are not where expected")
	}
	return s[:i+len("\"runs\": [\n")], s[j:]
}()

func (s *sarifStream) Account(r *checks.Report) error {
	reports, err := s.base.add(r)
	if err != nil || len(reports) == 0 {
		return err
	}
	return s.write(reports)
}

func (s *sarifStream) write(reports []*checks.Report) error {
	// The stream is no longer a single account's report, whether or not these accounts have runs.
	s.base.started = true
	for _, r := range reports {
		if len(r.Findings) == 0 {
			// An account without findings has no run in the whole log either (runsOf).
			continue
		}
		cp := *r
		cp.Notices, cp.Accounts = nil, nil // notices go to the organisation run
		// All of an account's runs are known before any is written, so that they go into one
		// file of a split.
		runs := s.sarif.accountRuns(&cp)
		if err := s.fit(len(runs)); err != nil {
			return err
		}
		if err := s.writeRuns(runs); err != nil {
			return err
		}
	}
	return nil
}

// fit makes room for n runs that must stay together: when the log is split into files (next) and
// they would take the current file beyond MaxSARIFRuns, the current file ends and the next one
// starts. A file with no run yet takes them however many they are, as sarifOrgFiles does.
func (s *sarifStream) fit(n int) error {
	if s.next == nil || s.runs == 0 || s.runs+n <= MaxSARIFRuns {
		return nil
	}
	bw := s.base.bw
	bw.WriteString(sarifTail)
	if err := bw.Flush(); err != nil {
		return err
	}
	w, err := s.next()
	if err != nil {
		return err
	}
	s.base.w = w
	bw.Reset(w)
	s.runs, s.open = 0, false
	return nil
}

// writeRuns encodes runs as a log of their own and writes its runs into the stream's log.
func (s *sarifStream) writeRuns(runs []sarifRun) error {
	for _, run := range runs {
		if n := run.results(); n > MaxSARIFResults {
			return fmt.Errorf("sarif: account %s: %d results exceed GitHub's limit of %d per run: %w", run.report.AccountID, n, MaxSARIFResults, ErrSARIFLimit)
		}
	}
	texts, skeleton, err := s.sarif.encodeRuns(runs)
	if err != nil {
		return err
	}
	var log bytes.Buffer
	if err := texts.write(&log, skeleton.Bytes()); err != nil {
		return err
	}
	body, ok := bytes.CutPrefix(log.Bytes(), []byte(sarifHead))
	if ok {
		body, ok = bytes.CutSuffix(body, []byte(sarifTail))
	}
	if !ok {
		return fmt.Errorf("sarif: a run's log is not laid out as expected")
	}
	bw := s.base.bw
	if !s.open {
		s.open = true
		bw.WriteString(sarifHead)
	}
	if s.runs > 0 {
		bw.WriteString(",\n")
	}
	bw.Write(body)
	s.runs += len(runs)
	_, err = bw.Write(nil)
	return err
}

func (s *sarifStream) Close(accounts []checks.AccountInfo) error {
	if s.base.closed {
		return nil
	}
	s.base.closed = true
	if s.base.single(accounts) {
		var reports []*checks.Report
		if s.base.first != nil {
			reports = append(reports, s.base.first)
		}
		return s.sarif.Write(s.base.w, checks.MergeReports(reports, accounts))
	}
	if first := s.base.release(); first != nil {
		if err := s.write(first); err != nil {
			return err
		}
	}
	org := s.base.org(accounts)
	if !s.open {
		// No account had a run: the log is the organisation's alone.
		return s.sarif.Write(s.base.w, org)
	}
	if run := orgRun(org, s.sarif.Options.Category); run != nil {
		if err := s.fit(1); err != nil {
			return err
		}
		if err := s.writeRuns([]sarifRun{*run}); err != nil {
			return err
		}
	}
	s.base.bw.WriteString(sarifTail)
	return s.base.bw.Flush()
}

// PendingFile is a file being written that is at no path until it is committed, as
// checks/atomicfile.File is: what SARIFFiles writes each file of a split log to.
type PendingFile interface {
	io.Writer
	// Close ends the writing; the file is still at no path.
	Close() error
	// CommitAs puts the complete file at path, which is in the folder of the path it was
	// created for.
	CommitAs(path string) error
	// Abort drops the file; it does nothing once the file is committed.
	Abort()
}

// SARIFFiles writes an organisation's SARIF log account by account into the files OutputFiles
// names for the whole report (sarifFiles): path itself when the log fits in one file, else
// NAME.part-N.sarif files of at most MaxSARIFRuns runs, an account's runs all in one file and in
// their category wherever they land. As the stream it is, it keeps the memory of one account
// (StreamWriter); nothing is at any of the paths until Commit, and Abort leaves none.
//
// It differs from the split of the whole report in where the organisation run goes (the
// notices and the accounts not scanned): the whole split puts it in the first file, but a stream
// knows it only at Close, when the first file is long complete, and whether there will be one at
// all only then, so it cannot keep a place for it either without splitting logs that fit. It goes
// in the last file, or in a file of its own when the last is full; files are otherwise filled as
// the whole split fills them, so their boundaries can be an account off those of the whole split.
// GitHub does not mind: each run is uploaded under its category, whichever file holds it.
type SARIFFiles struct {
	stream sarifStream
	path   string
	create func(path string) (PendingFile, error)
	files  []PendingFile // files[0] was created for path, the others for their part's path
	notice string
	closed bool
	err    error // the first error of Account or Close: the files are not to be committed
}

var _ StreamWriter = (*SARIFFiles)(nil)

// NewSARIFFiles starts writing the SARIF log asked for at path, the first file through create
// (called with the path each file is for; atomicfile.Create fits).
func NewSARIFFiles(path string, opts Options, create func(path string) (PendingFile, error)) (*SARIFFiles, error) {
	first, err := create(path)
	if err != nil {
		return nil, err
	}
	s := &SARIFFiles{path: path, create: create, files: []PendingFile{first}}
	s.stream = sarifStream{base: streamBase{w: first}, sarif: &SARIF{Options: opts}, next: s.next}
	return s, nil
}

// next ends the current file and starts the next part.
func (s *SARIFFiles) next() (io.Writer, error) {
	if err := s.files[len(s.files)-1].Close(); err != nil {
		return nil, err
	}
	f, err := s.create(sarifPartPath(s.path, len(s.files)+1))
	if err != nil {
		return nil, err
	}
	s.files = append(s.files, f)
	return f, nil
}

// Account implements StreamWriter.
func (s *SARIFFiles) Account(r *checks.Report) error {
	if s.err != nil {
		return s.err
	}
	s.err = s.stream.Account(r)
	return s.err
}

// Close implements StreamWriter: it ends the last file, which is still at no path (Commit).
func (s *SARIFFiles) Close(accounts []checks.AccountInfo) error {
	if s.closed || s.err != nil {
		return s.err
	}
	s.closed = true
	s.err = s.close(accounts)
	return s.err
}

func (s *SARIFFiles) close(accounts []checks.AccountInfo) error {
	if s.stream.base.single(accounts) {
		// One account's report, kept whole since it came: its files are the whole report's,
		// split by results beyond what GitHub shows.
		s.stream.base.closed = true
		var reports []*checks.Report
		if s.stream.base.first != nil {
			reports = append(reports, s.stream.base.first)
		}
		return s.writeWhole(checks.MergeReports(reports, accounts))
	}
	if err := s.stream.Close(accounts); err != nil {
		return err
	}
	if len(s.files) > 1 {
		s.notice = orgSplitNotice(s.paths()[0], len(s.files))
	}
	return s.files[len(s.files)-1].Close()
}

// writeWhole writes the files sarifFiles names for r.
func (s *SARIFFiles) writeWhole(r *checks.Report) error {
	files := sarifFiles(s.path, r, s.stream.sarif.Options)
	for i, file := range files {
		if i > 0 {
			if _, err := s.next(); err != nil {
				return err
			}
		}
		if err := (&SARIF{Options: file.Options}).Write(s.files[i], file.Report); err != nil {
			return err
		}
	}
	s.notice = SplitNotice(files)
	return s.files[len(s.files)-1].Close()
}

// paths are where the files go: path, or the parts' paths when there are several.
func (s *SARIFFiles) paths() []string {
	if len(s.files) == 1 {
		return []string{s.path}
	}
	out := make([]string, len(s.files))
	for i := range s.files {
		out[i] = sarifPartPath(s.path, i+1)
	}
	return out
}

// Commit puts every file at its path, after Close. The first file was written for path and
// goes to NAME.part-1.sarif when there are several. On error, the files not committed yet are
// dropped.
func (s *SARIFFiles) Commit() error {
	if !s.closed || s.err != nil {
		return fmt.Errorf("sarif: commit %s: the log was not completed", s.path)
	}
	for i, path := range s.paths() {
		if err := s.files[i].CommitAs(path); err != nil {
			s.Abort()
			return err
		}
	}
	return nil
}

// Abort drops every file not committed.
func (s *SARIFFiles) Abort() {
	for _, f := range s.files {
		f.Abort()
	}
}

// Notice is what SplitNotice says of the files, after Close: "" when the log is one file.
func (s *SARIFFiles) Notice() string {
	return s.notice
}
