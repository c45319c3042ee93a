package checks

import (
	"fmt"
	"path"
	"time"
)

// applyWaivers turns FAIL findings matched by an unexpired waiver into WAIVED and returns notices
// for waivers that have expired (they no longer apply, and the user should know why a finding
// came back). A waiver matches by check id and by resource ARN or name, exactly or as a glob, and
// only findings of its account when it names one (the configuration of an account leaves the
// others' waivers out already: Config.ForAccount; this keeps a waiver in its account whatever
// configuration reaches the engine).
func applyWaivers(results [][]Finding, waivers []WaiverRule, now time.Time) []string {
	var notices []string
	today := now.UTC().Truncate(24 * time.Hour)
	for _, w := range waivers {
		expired := !w.expires.IsZero() && w.expires.Before(today)
		matched := 0
		for _, findings := range results {
			for i := range findings {
				f := &findings[i]
				if f.Status != StatusFail || f.CheckID != w.Check || !waiverMatches(w.Resource, f.Resource) ||
					w.Account != "" && w.Account != f.Resource.AccountID {
					continue
				}
				matched++
				if expired {
					continue
				}
				f.Status = StatusWaived
				f.Waiver = &Waiver{CheckID: w.Check, Resource: w.Resource, Reason: w.Reason, Expires: w.Expires}
			}
		}
		if expired {
			notices = append(notices, fmt.Sprintf("waiver for %s on %s expired on %s and no longer applies (%d finding(s) affected)", w.Check, w.Resource, w.Expires, matched))
		}
	}
	return notices
}

func waiverMatches(pattern string, r Resource) bool {
	if pattern == r.ARN || pattern == r.Name {
		return true
	}
	if ok, _ := path.Match(pattern, r.ARN); ok {
		return true
	}
	ok, _ := path.Match(pattern, r.Name)
	return ok
}
