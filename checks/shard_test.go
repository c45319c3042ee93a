package checks_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
)

// fnv1a64 is FNV-1a written out from its definition, so that the test says what ShardOf's
// documentation promises rather than calling the same library twice.
func fnv1a64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// TestShardOfIsStable pins ShardOf: shards of one run computed by two coffer versions must agree,
// so the function is a contract, not an implementation detail.
func TestShardOfIsStable(t *testing.T) {
	for _, tc := range []struct {
		account string
		n, want int
	}{
		{"111111111111", 4, 2},
		{"123456789012", 4, 4},
		{"333333333333", 3, 2},
		{"444444444444", 3, 3},
		{"000000000001", 16, 3},
		{"999999999999", 7, 3},
		{"123456789012", 1, 1},
		{"123456789012", 0, 1},
	} {
		if got := checks.ShardOf(tc.account, tc.n); got != tc.want {
			t.Errorf("ShardOf(%s, %d) = %d, want %d: changing ShardOf splits organisations differently between coffer versions", tc.account, tc.n, got, tc.want)
		}
		if tc.n > 1 {
			if want := int(fnv1a64(tc.account)%uint64(tc.n)) + 1; checks.ShardOf(tc.account, tc.n) != want {
				t.Errorf("ShardOf(%s, %d) is not FNV-1a 64 mod n + 1 (%d)", tc.account, tc.n, want)
			}
		}
	}
}

// TestShardsPartition: every account is in exactly one shard of N, and the shards are of about
// the same size (so N machines take about the same time).
func TestShardsPartition(t *testing.T) {
	const accounts = 20000
	for _, n := range []int{1, 2, 3, 7, 16} {
		sizes := make([]int, n+1)
		for i := 0; i < accounts; i++ {
			id := fmt.Sprintf("%012d", 100000000000+i*7919)
			in := 0
			for k := 1; k <= n; k++ {
				if (checks.Shard{Index: k, Count: n}).Includes(id) {
					in++
					sizes[k]++
				}
			}
			if in != 1 {
				t.Fatalf("account %s is in %d of %d shards, want exactly 1", id, in, n)
			}
		}
		for k := 1; k <= n; k++ {
			if want := accounts / n; sizes[k] < want*9/10 || sizes[k] > want*11/10 {
				t.Errorf("shard %d/%d holds %d of %d accounts, want %d ±10%%", k, n, sizes[k], accounts, want)
			}
		}
	}
	if !(checks.Shard{}).Includes("123456789012") {
		t.Error("the zero Shard (no --shard) does not include every account")
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want checks.Shard
		err  string
	}{
		{spec: "1/1", want: checks.Shard{Index: 1, Count: 1}},
		{spec: "2/4", want: checks.Shard{Index: 2, Count: 4}},
		{spec: "4/4", want: checks.Shard{Index: 4, Count: 4}},
		{spec: " 3/4\n", want: checks.Shard{Index: 3, Count: 4}},
		{spec: "0/4", err: "counted from 1"},
		{spec: "5/4", err: "from 1 to 4"},
		{spec: "1/0", err: "at least 1"},
		{spec: "4", err: "not I/N"},
		{spec: "", err: "not I/N"},
		{spec: "a/4", err: "not I/N"},
		{spec: "-1/4", err: "not I/N"},
		{spec: "+1/4", err: "not I/N"},
		{spec: "1/4/8", err: "not I/N"},
		{spec: "1 / 4", err: "not I/N"},
		{spec: "1/99999999999999999999", err: "out of range"},
	} {
		got, err := checks.ParseShard(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseShard(%q) = %v, %v; want an error with %q", tc.spec, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
		}
		if got.String() != strings.TrimSpace(tc.spec) {
			t.Errorf("Shard %v prints as %q, want %q (what --shard takes)", got, got, strings.TrimSpace(tc.spec))
		}
	}
}

func TestShardFromEnv(t *testing.T) {
	for _, tc := range []struct {
		count int
		index string
		want  checks.Shard
		err   string
	}{
		{count: 4, index: "0", want: checks.Shard{Index: 1, Count: 4}},
		{count: 4, index: "3", want: checks.Shard{Index: 4, Count: 4}},
		{count: 1, index: "0", want: checks.Shard{Index: 1, Count: 1}},
		{count: 4, index: "4", err: "not below the shard count 4"},
		{count: 4, index: "", err: "completionMode: Indexed"},
		{count: 4, index: "-1", err: "not an index"},
		{count: 4, index: "+1", err: "not an index"},
		{count: 4, index: " 1", err: "not an index"},
		{count: 4, index: "one", err: "not an index"},
		{count: 0, index: "0", err: "at least 1"},
		{count: -2, index: "0", err: "at least 1"},
	} {
		env := func(name string) string {
			if name == checks.JobCompletionIndexEnv {
				return tc.index
			}
			return ""
		}
		got, err := checks.ShardFromEnv(tc.count, env)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ShardFromEnv(%d, %q) = %v, %v; want an error with %q", tc.count, tc.index, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ShardFromEnv(%d, %q) = %v, %v; want %v", tc.count, tc.index, got, err, tc.want)
		}
	}
}

// TestShardFromFlags: the two flags name the same shards (--shard-count 4 in pod 1 is --shard
// 2/4), exclude each other, and neither means the whole organisation.
func TestShardFromFlags(t *testing.T) {
	env := func(string) string { return "1" }
	for _, tc := range []struct {
		spec  string
		count int
		want  checks.Shard
		err   string
	}{
		{want: checks.Shard{}},
		{spec: "2/4", want: checks.Shard{Index: 2, Count: 4}},
		{count: 4, want: checks.Shard{Index: 2, Count: 4}},
		{spec: "2/4", count: 4, err: "give one"},
		{spec: "9/4", err: "--shard: "},
		{count: 1, err: "--shard-count: "},
		{count: -1, err: "--shard-count: "},
	} {
		got, err := checks.ShardFromFlags(tc.spec, tc.count, env)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ShardFromFlags(%q, %d) = %v, %v; want an error with %q", tc.spec, tc.count, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ShardFromFlags(%q, %d) = %v, %v; want %v", tc.spec, tc.count, got, err, tc.want)
		}
	}
	if s := (checks.Shard{Index: 2, Count: 4}); !checks.IsNotInShard(s.SkipReason()) || checks.IsNotInShard("SUSPENDED") {
		t.Errorf("IsNotInShard does not tell %q from another reason", s.SkipReason())
	}
}
