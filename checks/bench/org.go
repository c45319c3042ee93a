package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/coffer-audit/coffer/checks"
)

// WriteOrgSnapshot writes an organisation snapshot of accounts accounts of buckets buckets each
// (LargeSnapshot's mix, every account's bucket names its own, as S3 requires), account by account.
// It is deterministic.
func WriteOrgSnapshot(w io.Writer, accounts, buckets int) error {
	base := LargeSnapshot(buckets)
	raw, err := json.Marshal(base)
	if err != nil {
		return err
	}
	ow, err := checks.NewOrgSnapshotWriter(w, checks.OrgSnapshot{CollectedAt: base.CollectedAt, CallerAccountID: accountID(0)})
	if err != nil {
		return err
	}
	for a := range accounts {
		id := accountID(a)
		text := bytes.ReplaceAll(raw, []byte(base.Account.ID), []byte(id))
		text = bytes.ReplaceAll(text, []byte(`backup-`), fmt.Appendf(nil, "a%04d-backup-", a))
		text = bytes.ReplaceAll(text, []byte(`"trail-logs`), fmt.Appendf(nil, `"a%04d-trail-logs`, a))
		var snap checks.Snapshot
		if err := json.Unmarshal(text, &snap); err != nil {
			return fmt.Errorf("account %d: %w", a, err)
		}
		if err := ow.Add(&checks.OrgAccount{ID: id, Status: checks.AccountScanned, Snapshot: &snap}); err != nil {
			return err
		}
	}
	return ow.Close()
}

func accountID(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }
