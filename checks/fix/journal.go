package fix

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// JournalSchemaVersion is the version of the journal's JSON shape.
const JournalSchemaVersion = "1"

// Journal records every change as it happens: the live configuration before and after, the calls
// made and the outcome. The file is rewritten atomically (temporary file + rename) after every
// step, so it is complete whenever coffer stops, and a user can undo by hand from the "before"
// values. It holds configurations only, never credentials.
type Journal struct {
	path string
	now  func() time.Time

	mu  sync.Mutex
	doc journalDoc
}

type journalDoc struct {
	SchemaVersion string         `json:"schema_version"`
	Tool          string         `json:"tool"`
	Account       string         `json:"account"`
	StartedAt     time.Time      `json:"started_at"`
	FinishedAt    *time.Time     `json:"finished_at"`
	Entries       []JournalEntry `json:"entries"`
}

// JournalEntry is one change.
type JournalEntry struct {
	N        int    `json:"n"`
	Check    string `json:"check"`
	Resource string `json:"resource"`
	Target   string `json:"target"`
	Region   string `json:"region"`
	// APICalls are the mutating calls made (or attempted), in order; none when the live
	// configuration was already right.
	APICalls []string `json:"api_calls"`
	// Commands are the AWS CLI equivalent of the change.
	Commands []string `json:"commands"`
	Before   any      `json:"before"`
	After    any      `json:"after"`
	// Outcome is started, applied, unchanged, failed or skipped.
	Outcome    string     `json:"outcome"`
	Error      string     `json:"error,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// CreateJournal starts a journal file for account and writes it once, so an unwritable path fails
// before any change is made. now is the clock (time.Now when nil).
func CreateJournal(path, account string, now func() time.Time) (*Journal, error) {
	if now == nil {
		now = time.Now
	}
	j := &Journal{path: path, now: now, doc: journalDoc{
		SchemaVersion: JournalSchemaVersion, Tool: "coffer", Account: account,
		StartedAt: now().UTC(), Entries: []JournalEntry{},
	}}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.flush(); err != nil {
		return nil, err
	}
	return j, nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// begin records that change c is starting and returns its entry index.
func (j *Journal) begin(c *Change) (int, error) {
	if j == nil {
		return -1, nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.doc.Entries = append(j.doc.Entries, JournalEntry{
		N: c.N, Check: c.CheckID, Resource: c.Resource.ARN, Target: c.Target, Region: c.region,
		APICalls: []string{}, Commands: c.Commands, Outcome: OutcomeStarted, StartedAt: j.now().UTC(),
	})
	return len(j.doc.Entries) - 1, j.flush()
}

// end records the outcome of the change begun at entry i.
func (j *Journal) end(i int, o Outcome) error {
	if j == nil || i < 0 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	e := &j.doc.Entries[i]
	e.APICalls = nonNil(o.Calls)
	e.Before, e.After = o.Before, o.After
	e.Outcome, e.Error = o.Outcome, o.Error
	t := j.now().UTC()
	e.FinishedAt = &t
	return j.flush()
}

// skip records a change that was not attempted.
func (j *Journal) skip(c *Change, o Outcome) error {
	i, err := j.begin(c)
	if err != nil {
		return err
	}
	return j.end(i, o)
}

// finish stamps the end time.
func (j *Journal) finish() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	t := j.now().UTC()
	j.doc.FinishedAt = &t
	return j.flush()
}

// flush writes the journal atomically; the caller holds mu.
func (j *Journal) flush() error {
	data, err := json.MarshalIndent(j.doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode journal: %w", err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(j.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(j.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write journal %s: %w", j.path, err)
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if werr != nil || serr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write journal %s: %w", j.path, firstErr(werr, serr, cerr))
	}
	if err := os.Rename(tmp.Name(), j.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write journal %s: %w", j.path, err)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
