package checks

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
)

// Sharding splits an organisation scan over several processes, on a scheduler users already run
// (a CI matrix, a Kubernetes Indexed Job), and `coffer merge` puts the results back together
// (DESIGN §14). Each account belongs to exactly one shard, decided by its id alone: not by the
// list of accounts, so that shards agree without talking to each other and an account stays in
// its shard when others join or leave the organisation.

// JobCompletionIndexEnv is the variable a Kubernetes Indexed Job sets in each pod to the pod's
// index, 0 to completions-1.
const JobCompletionIndexEnv = "JOB_COMPLETION_INDEX"

// ShardOf is the shard, 1 to n, of an account in a scan split n ways: the FNV-1a 64-bit hash of
// the account id's text, modulo n, plus one. It is part of coffer's contract: shards of one run
// must all be computed with it, so it never changes (TestShardOfIsStable pins it). n < 1 is
// treated as 1.
func ShardOf(accountID string, n int) int {
	if n <= 1 {
		return 1
	}
	h := fnv.New64a()
	h.Write([]byte(accountID))
	return int(h.Sum64()%uint64(n)) + 1
}

// Shard is the part of an organisation one process scans: shard Index of Count, 1-based as in
// `--shard 2/4` (a CI matrix lists 1..N as people count). The zero Shard is the whole
// organisation.
type Shard struct {
	Index int
	Count int
}

// Whole reports whether the shard is the whole organisation (no sharding).
func (s Shard) Whole() bool { return s.Count <= 1 }

// Includes reports whether the shard scans the account.
func (s Shard) Includes(accountID string) bool {
	return s.Whole() || ShardOf(accountID, s.Count) == s.Index
}

// String is the shard as --shard takes it ("2/4"); "all" for the zero Shard.
func (s Shard) String() string {
	if s.Count == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// notInShardPrefix starts SkipReason; IsNotInShard recognises it.
const notInShardPrefix = "not in shard "

// SkipReason is the Error of an account a shard lists as skipped because another shard scans it.
// A shard that lists the whole organisation this way lets `coffer merge` notice a shard whose
// result is missing: an account every input skipped for this reason was scanned by none.
func (s Shard) SkipReason() string { return notInShardPrefix + s.String() }

// IsNotInShard reports whether an account's Error is a Shard's SkipReason.
func IsNotInShard(reason string) bool { return strings.HasPrefix(reason, notInShardPrefix) }

var (
	shardSpecRE = regexp.MustCompile(`^([0-9]+)/([0-9]+)$`)
	digitsRE    = regexp.MustCompile(`^[0-9]+$`)
)

// ParseShard reads the value of --shard: "I/N", shard I of N, I from 1 to N. Digits only: a
// scheduler's 0-based index goes through ShardFromEnv, so that "0/4" is an error rather than a
// silent off-by-one that would scan one shard twice and another never.
func ParseShard(spec string) (Shard, error) {
	m := shardSpecRE.FindStringSubmatch(strings.TrimSpace(spec))
	if m == nil {
		return Shard{}, fmt.Errorf("shard %q is not I/N (shard I of N, counted from 1, like 2/4)", spec)
	}
	i, errI := strconv.Atoi(m[1])
	n, errN := strconv.Atoi(m[2])
	if errI != nil || errN != nil {
		return Shard{}, fmt.Errorf("shard %q: number out of range", spec)
	}
	if n < 1 {
		return Shard{}, fmt.Errorf("shard %q: N must be at least 1", spec)
	}
	if i < 1 || i > n {
		return Shard{}, fmt.Errorf("shard %q: I must be from 1 to %d (shards are counted from 1)", spec, n)
	}
	return Shard{Index: i, Count: n}, nil
}

// ShardFromEnv is the shard of a pod of a Kubernetes Indexed Job with count completions: the Job
// sets JOB_COMPLETION_INDEX to 0..count-1, which is shard index+1 of count. env looks variables up
// (os.Getenv; tests pass their own).
func ShardFromEnv(count int, env func(string) string) (Shard, error) {
	if count < 1 {
		return Shard{}, fmt.Errorf("shard count %d: must be at least 1", count)
	}
	raw := env(JobCompletionIndexEnv)
	if raw == "" {
		return Shard{}, fmt.Errorf("a shard count needs %s, the index a Kubernetes Indexed Job gives each pod (completionMode: Indexed); elsewhere use --shard I/N", JobCompletionIndexEnv)
	}
	idx, err := strconv.Atoi(raw)
	if err != nil || !digitsRE.MatchString(raw) {
		return Shard{}, fmt.Errorf("%s=%q is not an index from 0", JobCompletionIndexEnv, raw)
	}
	if idx >= count {
		return Shard{}, fmt.Errorf("%s=%d is not below the shard count %d: does the Job's completions match it?", JobCompletionIndexEnv, idx, count)
	}
	return Shard{Index: idx + 1, Count: count}, nil
}

// ShardFromFlags is the shard of a command line: --shard I/N (spec) or --shard-count N (count,
// with JOB_COMPLETION_INDEX from env), at most one of them; neither is the whole organisation.
// Errors name the flag.
func ShardFromFlags(spec string, count int, env func(string) string) (Shard, error) {
	switch {
	case spec != "" && count != 0:
		return Shard{}, fmt.Errorf("--shard and --shard-count: give one (--shard-count reads the index from %s)", JobCompletionIndexEnv)
	case spec != "":
		s, err := ParseShard(spec)
		if err != nil {
			return Shard{}, fmt.Errorf("--shard: %w", err)
		}
		return s, nil
	case count != 0:
		s, err := ShardFromEnv(count, env)
		if err != nil {
			return Shard{}, fmt.Errorf("--shard-count: %w", err)
		}
		return s, nil
	}
	return Shard{}, nil
}
