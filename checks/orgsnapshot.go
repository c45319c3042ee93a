package checks

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"
)

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// OrgSnapshotSchemaVersion is the schema of a snapshot of several accounts (an organisation scan).
// Each account's own snapshot inside it keeps SnapshotSchemaVersion, so `jq .accounts[0].snapshot`
// is a snapshot any coffer that reads version 1 can scan.
const OrgSnapshotSchemaVersion = "2"

// Account statuses of an organisation scan (DESIGN §6, §14).
const (
	// AccountScanned: coffer read the account (some reads may still have failed: see its errors).
	AccountScanned = "scanned"
	// AccountError: coffer could not read the account at all (its role could not be assumed).
	AccountError = "error"
	// AccountSkipped: the account was not to be read (suspended, or not in this shard).
	AccountSkipped = "skipped"
)

// OrgSnapshot is a snapshot of several accounts: what `coffer collect --org` writes. It is read
// account by account (ReadOrgSnapshot), so an organisation of any size is evaluated in the memory
// of its largest account.
type OrgSnapshot struct {
	SchemaVersion string    `json:"schema_version"`
	Collector     Collector `json:"collector"`
	CollectedAt   time.Time `json:"collected_at"`
	// CallerAccountID is the account whose credentials listed and assumed into the others.
	CallerAccountID string       `json:"caller_account_id,omitempty"`
	Accounts        []OrgAccount `json:"accounts"`
}

// OrgAccount is one account of an organisation snapshot: its snapshot when scanned, the reason
// when not.
type OrgAccount struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Status string `json:"status"`
	// Error says why the account was not scanned (status error or skipped).
	Error    string    `json:"error,omitempty"`
	Snapshot *Snapshot `json:"snapshot,omitempty"`
}

// Validate checks what a reader of the account relies on.
func (a *OrgAccount) Validate() error {
	if !accountIDPattern.MatchString(a.ID) {
		return fmt.Errorf("account id %q is not 12 digits", a.ID)
	}
	switch a.Status {
	case AccountScanned:
		if a.Snapshot == nil {
			return fmt.Errorf("account %s is scanned but has no snapshot", a.ID)
		}
		if a.Snapshot.SchemaVersion != SnapshotSchemaVersion {
			return fmt.Errorf("account %s: snapshot schema_version %q is not supported (this coffer reads %q)", a.ID, a.Snapshot.SchemaVersion, SnapshotSchemaVersion)
		}
		if a.Snapshot.Account.ID != a.ID {
			return fmt.Errorf("account %s holds the snapshot of account %s", a.ID, a.Snapshot.Account.ID)
		}
	case AccountError, AccountSkipped:
		if a.Snapshot != nil {
			return fmt.Errorf("account %s has status %s but a snapshot", a.ID, a.Status)
		}
	default:
		return fmt.Errorf("account %s: status %q is not scanned, error or skipped", a.ID, a.Status)
	}
	return nil
}

// AccountSource yields the accounts of a scan, one at a time, as often as asked: an organisation
// snapshot file is read again for each pass rather than held in memory.
type AccountSource interface {
	// Header is what the snapshot says about itself (its Accounts are not filled in).
	Header() OrgSnapshot
	// Each calls fn with every account in order; fn must not keep the account after it returns
	// unless it copies what it needs. An error of fn stops the pass and is returned.
	Each(fn func(*OrgAccount) error) error
}

// MemoryAccounts is an AccountSource over accounts held in memory (a live scan).
type MemoryAccounts struct {
	Snapshot OrgSnapshot
}

// Header implements AccountSource.
func (m *MemoryAccounts) Header() OrgSnapshot {
	h := m.Snapshot
	h.Accounts = nil
	return h
}

// Each implements AccountSource.
func (m *MemoryAccounts) Each(fn func(*OrgAccount) error) error {
	for i := range m.Snapshot.Accounts {
		if err := fn(&m.Snapshot.Accounts[i]); err != nil {
			return err
		}
	}
	return nil
}

// SingleAccount is the AccountSource of a one-account snapshot (schema version 1).
func SingleAccount(snap *Snapshot) *MemoryAccounts {
	return &MemoryAccounts{Snapshot: OrgSnapshot{
		SchemaVersion: OrgSnapshotSchemaVersion, Collector: snap.Collector, CollectedAt: snap.CollectedAt,
		CallerAccountID: snap.Account.ID,
		Accounts:        []OrgAccount{{ID: snap.Account.ID, Status: AccountScanned, Snapshot: snap}},
	}}
}

// SnapshotFile is an AccountSource that reads a snapshot file once per pass: an organisation
// snapshot (version 2) account by account, or a one-account snapshot (version 1).
type SnapshotFile struct {
	path   string
	header OrgSnapshot
	single *Snapshot
}

// OpenSnapshot opens a snapshot file of either version and reads its header (for version 2 a
// first pass checks every account, so that a bad file fails before anything is evaluated).
func OpenSnapshot(path string) (*SnapshotFile, error) {
	version, err := probeSchemaVersion(path)
	if err != nil {
		return nil, err
	}
	if version != OrgSnapshotSchemaVersion {
		snap, err := LoadSnapshot(path)
		if err != nil {
			return nil, err
		}
		src := SingleAccount(snap)
		return &SnapshotFile{path: path, header: src.Header(), single: snap}, nil
	}
	f := &SnapshotFile{path: path}
	seen := map[string]bool{}
	header, err := readOrgSnapshot(path, func(a *OrgAccount) error {
		if seen[a.ID] {
			return fmt.Errorf("account %s appears twice", a.ID)
		}
		seen[a.ID] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.header = header
	return f, nil
}

// Header implements AccountSource.
func (f *SnapshotFile) Header() OrgSnapshot { return f.header }

// Single returns the snapshot of a version 1 file, nil for an organisation snapshot.
func (f *SnapshotFile) Single() *Snapshot { return f.single }

// Each implements AccountSource.
func (f *SnapshotFile) Each(fn func(*OrgAccount) error) error {
	if f.single != nil {
		return SingleAccount(f.single).Each(fn)
	}
	_, err := readOrgSnapshot(f.path, fn)
	return err
}

// probeSchemaVersion reads the schema_version of a snapshot file without decoding the rest of it
// into memory (an organisation snapshot can be hundreds of megabytes).
func probeSchemaVersion(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read snapshot: %w", err)
	}
	defer file.Close()
	dec := json.NewDecoder(bufio.NewReader(file))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", nil // not an object: the full parse names the problem
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", nil
		}
		if key == "schema_version" {
			var v string
			if err := dec.Decode(&v); err != nil {
				return "", nil
			}
			return v, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", nil
		}
	}
	return "", nil
}

// readOrgSnapshot streams an organisation snapshot: the header fields, and fn for each account as
// it is decoded. Decoding is strict (unknown fields are errors) and errors name the position.
func readOrgSnapshot(path string, fn func(*OrgAccount) error) (OrgSnapshot, error) {
	var header OrgSnapshot
	file, err := os.Open(path)
	if err != nil {
		return header, fmt.Errorf("read snapshot: %w", err)
	}
	defer file.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(file, 1<<20))
	dec.DisallowUnknownFields()
	fail := func(err error) (OrgSnapshot, error) {
		var se *SnapshotError
		if errors.As(err, &se) {
			return header, err
		}
		return header, positionedError(path, dec.InputOffset(), err)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fail(errors.New("not a coffer snapshot: not a JSON object"))
	}
	sawAccounts := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, _ := tok.(string)
		switch key {
		case "schema_version":
			err = dec.Decode(&header.SchemaVersion)
			if err == nil && header.SchemaVersion != OrgSnapshotSchemaVersion {
				err = fmt.Errorf("snapshot schema_version %q is not supported here", header.SchemaVersion)
			}
		case "collector":
			err = dec.Decode(&header.Collector)
		case "collected_at":
			err = dec.Decode(&header.CollectedAt)
		case "caller_account_id":
			err = dec.Decode(&header.CallerAccountID)
		case "accounts":
			sawAccounts = true
			err = streamAccounts(dec, fn)
		default:
			err = fmt.Errorf("unknown field %q", key)
		}
		if err != nil {
			return fail(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail(errors.New("unexpected data after the snapshot"))
	}
	if header.SchemaVersion == "" || !sawAccounts {
		return fail(errors.New("an organisation snapshot needs schema_version and accounts"))
	}
	return header, nil
}

func streamAccounts(dec *json.Decoder, fn func(*OrgAccount) error) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return errors.New("accounts is not a list")
	}
	for dec.More() {
		var a OrgAccount
		if err := dec.Decode(&a); err != nil {
			return err
		}
		if err := a.Validate(); err != nil {
			return err
		}
		if err := fn(&a); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// positionedError turns a decoding error at offset into a SnapshotError with line and column
// (read from the file again: the stream keeps no text behind it).
func positionedError(path string, offset int64, err error) error {
	offset, msg := jsonErrorAt(err, offset, offset)
	data, rerr := readPrefix(path, offset)
	if rerr != nil {
		return &SnapshotError{File: path, Msg: msg}
	}
	line, col := LineCol(data, int64(len(data)))
	return &SnapshotError{File: path, Line: line, Column: col, Msg: msg}
}

func readPrefix(path string, n int64) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, n))
	return data, err
}

// WriteOrgSnapshot writes an organisation snapshot account by account: next is called until it
// returns false, and each account is encoded and released before the next is asked for.
func WriteOrgSnapshot(w io.Writer, header OrgSnapshot, next func() (*OrgAccount, bool, error)) error {
	ow, err := NewOrgSnapshotWriter(w, header)
	if err != nil {
		return err
	}
	for {
		a, ok, err := next()
		if err != nil {
			return err
		}
		if !ok {
			return ow.Close()
		}
		if err := ow.Add(a); err != nil {
			return err
		}
	}
}

// OrgSnapshotWriter writes an organisation snapshot as its accounts arrive (a collection emits
// them one by one), holding none of them.
type OrgSnapshotWriter struct {
	bw *bufio.Writer
	n  int
}

// NewOrgSnapshotWriter writes the header; Add each account, then Close.
func NewOrgSnapshotWriter(w io.Writer, header OrgSnapshot) (*OrgSnapshotWriter, error) {
	head := struct {
		SchemaVersion   string    `json:"schema_version"`
		Collector       Collector `json:"collector"`
		CollectedAt     time.Time `json:"collected_at"`
		CallerAccountID string    `json:"caller_account_id,omitempty"`
	}{OrgSnapshotSchemaVersion, header.Collector, header.CollectedAt, header.CallerAccountID}
	raw, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode snapshot header: %w", err)
	}
	ow := &OrgSnapshotWriter{bw: bufio.NewWriterSize(w, 1<<20)}
	ow.bw.Write(raw[:len(raw)-2]) // drop "\n}": the accounts follow
	ow.bw.WriteString(",\n  \"accounts\": [")
	return ow, nil
}

// Add writes one account.
func (ow *OrgSnapshotWriter) Add(a *OrgAccount) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	raw, err := json.MarshalIndent(a, "    ", "  ")
	if err != nil {
		return fmt.Errorf("encode account %s: %w", a.ID, err)
	}
	if ow.n > 0 {
		ow.bw.WriteString(",")
	}
	ow.n++
	ow.bw.WriteString("\n    ")
	_, err = ow.bw.Write(raw)
	return err
}

// Close ends the document and flushes it.
func (ow *OrgSnapshotWriter) Close() error {
	ow.bw.WriteString("\n  ]\n}\n")
	return ow.bw.Flush()
}
