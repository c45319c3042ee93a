package checks

import (
	"path"
	"sort"
)

// Bucket roles (DESIGN §3).
const (
	RolePrimary    = "primary"
	RoleStandby    = "standby"
	RoleIgnore     = "ignore"
	RoleTrailLogs  = "trail-logs"
	RoleAccessLogs = "access-logs"
)

// RoleTag is the bucket tag that declares a role.
const RoleTag = "coffer:role"

// StandbyForTag on a standby bucket names the primary it backs up.
const StandbyForTag = "coffer:standby-for"

// BucketRoles decides every bucket's role: coffer.yaml lists first (ignore, trail_logs, access_logs,
// standby, primary), then the coffer:role tag, then
// inference (trail destination, access-log target, replication destination), else primary.
func BucketRoles(snap *Snapshot, cfg *Config) map[string]string {
	roles, _ := bucketRoles(snap, cfg.ForAccount(snap.Account.ID), nil)
	return roles
}

// bucketRoles is BucketRoles with the buckets a primary of another account replicates to
// (replicatedTo), which inference makes standbys too. inferred marks the buckets whose role only
// the default decided.
func bucketRoles(snap *Snapshot, cfg *Config, replicatedTo map[string]bool) (roles map[string]string, inferred map[string]bool) {
	trailBuckets := map[string]bool{}
	for _, t := range snap.CloudTrail.Trails {
		trailBuckets[t.S3BucketName] = true
	}
	logTargets := map[string]bool{}
	replicaTargets := map[string]bool{}
	for name := range replicatedTo {
		replicaTargets[name] = true
	}
	for _, b := range snap.S3.Buckets {
		if b.Logging != nil && b.Logging.Enabled && b.Logging.TargetBucket != b.Name {
			logTargets[b.Logging.TargetBucket] = true
		}
		if b.Replication != nil {
			for _, r := range b.Replication.Rules {
				if r.DestinationBucket != b.Name {
					replicaTargets[r.DestinationBucket] = true
				}
			}
		}
	}
	roles = make(map[string]string, len(snap.S3.Buckets))
	inferred = map[string]bool{}
	for _, b := range snap.S3.Buckets {
		role, byDefault := decideRole(b, cfg, trailBuckets, logTargets, replicaTargets)
		roles[b.Name] = role
		if byDefault {
			inferred[b.Name] = true
		}
	}
	return roles, inferred
}

// decideRole returns the bucket's role, and whether nothing but the default decided it.
func decideRole(b Bucket, cfg *Config, trailBuckets, logTargets, replicaTargets map[string]bool) (string, bool) {
	// Ignore wins over the other lists so a glob can carve exceptions out of a broad primary list.
	for _, l := range []struct {
		role     string
		patterns []string
	}{{RoleIgnore, cfg.Buckets.Ignore}, {RoleTrailLogs, cfg.Buckets.TrailLogs}, {RoleAccessLogs, cfg.Buckets.AccessLogs}, {RoleStandby, cfg.Buckets.Standby}, {RolePrimary, cfg.Buckets.Primary}} {
		if matchAny(l.patterns, b.Name) {
			return l.role, false
		}
	}
	switch r := b.Tags[RoleTag]; r {
	case RolePrimary, RoleStandby, RoleIgnore:
		return r, false
	}
	switch {
	case trailBuckets[b.Name]:
		return RoleTrailLogs, false
	case logTargets[b.Name]:
		return RoleAccessLogs, false
	case replicaTargets[b.Name]:
		return RoleStandby, false
	}
	return RolePrimary, true
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// StandbyPairs pairs each primary with its standby: its replication destination when that is a
// standby, else coffer.yaml buckets.pairs, else a standby tagged coffer:standby-for=<primary>,
// else the only standby of the account that no primary replicates to. A standby that is already
// another primary's replication destination is never the fallback: a new primary that replicates
// nowhere has no copy, however many standbys the account holds.
func StandbyPairs(snap *Snapshot, cfg *Config, roles map[string]string) map[string]string {
	return standbyPairs(snap, cfg, roles, nil)
}

// standbyPairs is StandbyPairs in an organisation: a replication destination may be a standby of
// another account (cross.StandbyOf), and a standby of this account may be the copy of another
// account's primary, which then claims it.
func standbyPairs(snap *Snapshot, cfg *Config, roles map[string]string, cross *CrossAccount) map[string]string {
	var standbys []string
	taggedFor := map[string]string{}
	for _, b := range snap.S3.Buckets {
		if roles[b.Name] != RoleStandby {
			continue
		}
		standbys = append(standbys, b.Name)
		if p := b.Tags[StandbyForTag]; p != "" {
			taggedFor[p] = b.Name
		}
	}
	sort.Strings(standbys)
	pairs := map[string]string{}
	claimed := map[string]bool{}
	crossStandby := func(primary, dst string) bool { return cross != nil && cross.StandbyOf[primary] == dst }
	for _, b := range snap.S3.Buckets {
		if roles[b.Name] != RolePrimary || b.Replication == nil {
			continue
		}
		for _, r := range b.Replication.Rules {
			if roles[r.DestinationBucket] == RoleStandby || crossStandby(b.Name, r.DestinationBucket) {
				pairs[b.Name] = r.DestinationBucket
				claimed[r.DestinationBucket] = true
				break
			}
		}
	}
	if cross != nil {
		// Standbys of this account that back up a primary of another account.
		for primary, standby := range cross.StandbyOf {
			if _, local := roles[primary]; !local && roles[standby] == RoleStandby {
				pairs[primary] = standby
				claimed[standby] = true
			}
		}
	}
	var unclaimed []string
	for _, s := range standbys {
		if !claimed[s] {
			unclaimed = append(unclaimed, s)
		}
	}
	for _, b := range snap.S3.Buckets {
		if _, ok := pairs[b.Name]; ok || roles[b.Name] != RolePrimary {
			continue
		}
		if s, ok := cfg.Buckets.Pairs[b.Name]; ok && roles[s] == RoleStandby {
			pairs[b.Name] = s
		} else if s, ok := taggedFor[b.Name]; ok {
			pairs[b.Name] = s
		} else if len(unclaimed) == 1 && len(taggedFor) == 0 {
			pairs[b.Name] = unclaimed[0]
		}
	}
	return pairs
}
