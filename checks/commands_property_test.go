package checks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-audit/coffer/checks/shellcmd"
	"github.com/coffer-audit/coffer/checks/shellcmd/shelltest"
	"github.com/coffer-audit/coffer/policies"
)

// The property: whatever the account holds, every command coffer prints is one simple command whose
// words, as a real shell parser reads them, are exactly the words the template meant — or a comment
// saying why it is not printed. Names and values are drawn from a hostile alphabet.

// hostileAlphabet holds every printable ASCII character, quotes, backslashes, the pieces of
// substitutions and expansions, control characters and Unicode.
var hostileAlphabet = func() []string {
	var out []string
	for c := byte(0x20); c < 0x7f; c++ {
		out = append(out, string(c))
	}
	return append(out, "$(", "`", "${IFS}", "$'", "'\\''", "\\", "\n", "\r", "\t", "\x00", "\x1b[2J",
		"\u202e", "\u2028", "é", "日本", "🙂", "*", "?", "[a]", "{a,b}", "~", "!!", ";", "|", "&", "<", ">", "#")
}()

// hostileString draws a string from the alphabet; now and then a long one (about 1 KB).
func hostileString(rng *rand.Rand) string {
	n := 1 + rng.IntN(12)
	if rng.IntN(10) == 0 {
		n = 250 + rng.IntN(100)
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(hostileAlphabet[rng.IntN(len(hostileAlphabet))])
	}
	return b.String()
}

var (
	propertyEngineOnce sync.Once
	propertyEngine     *Engine
	propertyEngineErr  error
)

func builtInEngine(t testing.TB) *Engine {
	t.Helper()
	propertyEngineOnce.Do(func() {
		propertyEngine, propertyEngineErr = NewEngine(context.Background(), EngineOptions{BuiltIn: policies.FS})
	})
	if propertyEngineErr != nil {
		t.Fatalf("load built-in policies: %v", propertyEngineErr)
	}
	return propertyEngine
}

func loadFixture(t testing.TB, name string) *Snapshot {
	t.Helper()
	snap, err := LoadSnapshot("../fixtures/" + name + ".json")
	if err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	return snap
}

// renameEverywhere gives names found in the snapshot hostile suffixes, consistently: every string
// of the snapshot (ARNs, references, policy documents) gets the same replacement, so buckets still
// pair, policies still attach and keys are still referenced — and the checks still fail, now on
// hostile names.
func renameEverywhere(snap *Snapshot, suffix func() string) {
	var names []string
	for _, b := range snap.S3.Buckets {
		names = append(names, b.Name)
	}
	for _, u := range snap.IAM.Users {
		names = append(names, u.Name)
		for _, p := range u.InlinePolicies {
			names = append(names, p.Name)
		}
	}
	for _, r := range snap.IAM.Roles {
		names = append(names, r.Name)
	}
	for _, p := range snap.IAM.Policies {
		if !p.AWSManaged { // AWS-managed policies are known by name (AmazonS3FullAccess)
			names = append(names, p.Name)
		}
	}
	for _, tr := range snap.CloudTrail.Trails {
		names = append(names, tr.Name)
	}
	for _, k := range snap.KMS.Keys {
		names = append(names, k.ID)
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) }) // longest first
	names = slices.Compact(names)
	var pairs []string
	for _, n := range names {
		if len(n) >= 3 {
			pairs = append(pairs, n, n+suffix())
		}
	}
	replacer := strings.NewReplacer(pairs...)
	mapStrings(reflect.ValueOf(snap).Elem(), func(s string) string { return replacer.Replace(s) })
	// A policy path is where IAM accepts almost any printable character.
	path := suffix()
	for i := range snap.IAM.Policies {
		if p := snap.IAM.Policies[i]; !p.AWSManaged {
			withPath := strings.Replace(p.ARN, ":policy/", ":policy/"+path+"/", 1)
			mapStrings(reflect.ValueOf(snap).Elem(), func(s string) string { return strings.ReplaceAll(s, p.ARN, withPath) })
		}
	}
}

// ageCredentials makes every access key and password a year old and unused since, and gives the
// root user access keys: the drift moto cannot seed, so the credential checks print commands too.
func ageCredentials(snap *Snapshot) {
	old := snap.CollectedAt.AddDate(-1, 0, 0)
	for i := range snap.IAM.Users {
		u := &snap.IAM.Users[i]
		u.PasswordEnabled, u.PasswordLastUsed = true, &old
		for j := range u.AccessKeys {
			k := &u.AccessKeys[j]
			k.Status, k.CreateDate, k.LastUsedDate = "Active", &old, &old
		}
	}
	if snap.Account.Summary == nil {
		snap.Account.Summary = map[string]int32{}
	}
	snap.Account.Summary["AccountAccessKeysPresent"] = 1
}

// scramble replaces a random share of every string field of the snapshot, whatever it means.
func scramble(snap *Snapshot, rng *rand.Rand, share float64) {
	mapStrings(reflect.ValueOf(snap).Elem(), func(s string) string {
		if rng.Float64() >= share {
			return s
		}
		if rng.IntN(2) == 0 {
			return s + hostileString(rng)
		}
		return hostileString(rng)
	})
}

// mapStrings applies f to every string reachable from v (struct fields, slices, maps, pointers).
func mapStrings(v reflect.Value, f func(string) string) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(f(v.String()))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			mapStrings(v.Elem(), f)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				mapStrings(v.Field(i), f)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			mapStrings(v.Index(i), f)
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String && v.Type().Elem().Kind() != reflect.Interface {
			for _, k := range v.MapKeys() {
				elem := reflect.New(v.Type().Elem()).Elem()
				elem.Set(v.MapIndex(k))
				mapStrings(elem, f)
				v.SetMapIndex(k, elem)
			}
			return
		}
		for _, k := range v.MapKeys() {
			if s, ok := v.MapIndex(k).Interface().(string); ok {
				v.SetMapIndex(k, reflect.ValueOf(f(s)).Convert(v.Type().Elem()))
			}
		}
	}
}

func hostileConfig(rng *rand.Rand) *Config {
	cfg := DefaultConfig()
	cfg.Fix.KMSKey = "arn:aws:kms:us-east-1:123456789012:key/" + hostileString(rng)
	cfg.Fix.LogBucket = "logs" + hostileString(rng)
	cfg.Fix.Trail.Name = "trail" + hostileString(rng)
	cfg.Fix.Trail.Bucket = hostileString(rng)
	return cfg
}

// checkCommandLines evaluates snap and checks every rendered command line; it returns the ids of
// the checks that printed a command.
func checkCommandLines(t testing.TB, snap *Snapshot, cfg *Config) map[string]bool {
	t.Helper()
	var mu sync.Mutex
	var problems []string
	printed := map[string]bool{}
	opts := EvalOptions{Config: cfg, onCommandLine: func(checkID string, l shellcmd.Line) {
		problem := commandLineProblem(l)
		mu.Lock()
		defer mu.Unlock()
		printed[checkID] = true
		if problem != "" {
			problems = append(problems, fmt.Sprintf("%s: %s", checkID, problem))
		}
	}}
	report, err := builtInEngine(t).Evaluate(context.Background(), snap, opts)
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	for _, f := range report.Findings {
		for _, c := range f.Remediation.Commands {
			if shellcmd.HasControl(c) {
				problems = append(problems, fmt.Sprintf("%s: printed command holds a control character: %q", f.CheckID, c))
			}
		}
	}
	if len(problems) > 0 {
		t.Fatalf("%d unsafe commands, first: %s", len(problems), problems[0])
	}
	return printed
}

// commandLineProblem says what is wrong with a rendered line, "" when nothing is.
func commandLineProblem(l shellcmd.Line) string {
	if l.Note {
		if !shelltest.IsComment(l.Text) || strings.ContainsAny(l.Text, "\"'`$;|&<>()\\\n") {
			return fmt.Sprintf("note %q is not an inert comment", l.Text)
		}
		return ""
	}
	if shellcmd.HasControl(l.Text) {
		return fmt.Sprintf("%q holds a control character", l.Text)
	}
	got, err := shelltest.Parse(l.Text)
	if err != nil {
		return fmt.Sprintf("%q: %v", l.Text, err)
	}
	want, err := shelltest.Parse(l.Skeleton)
	if err != nil {
		return fmt.Sprintf("skeleton %q: %v", l.Skeleton, err)
	}
	fill := func(s string) string {
		for i := len(l.Values) - 1; i >= 0; i-- {
			s = strings.ReplaceAll(s, shellcmd.SkeletonToken(i), l.Values[i])
		}
		return s
	}
	for i := range want.Argv {
		want.Argv[i] = fill(want.Argv[i])
	}
	want.Redirect = fill(want.Redirect)
	if !slices.Equal(got.Argv, want.Argv) || got.Redirect != want.Redirect {
		return fmt.Sprintf("%q\n  shell reads %q > %q\n  intended    %q > %q", l.Text, got.Argv, got.Redirect, want.Argv, want.Redirect)
	}
	return ""
}

// TestPrintedCommandsAreInertForHostileAccounts is the property test of DESIGN §13.
func TestPrintedCommandsAreInertForHostileAccounts(t *testing.T) {
	fixtures := []string{"drifted", "workshop-as-built", "compliant"}
	rounds := 20
	if testing.Short() {
		rounds = 4
	}
	// Every check with command templates must have printed at least once, or the property was not
	// tested for it.
	printed := map[string]bool{}
	for _, name := range fixtures {
		for round := 0; round < rounds; round++ {
			rng := rand.New(rand.NewPCG(uint64(round), uint64(len(name))))
			snap := loadFixture(t, name)
			ageCredentials(snap)
			renameEverywhere(snap, func() string { return hostileString(rng) })
			if round%2 == 1 {
				scramble(snap, rng, 0.05)
			}
			for id := range checkCommandLines(t, snap, hostileConfig(rng)) {
				printed[id] = true
			}
		}
	}
	for _, rule := range builtInEngine(t).Rules() {
		if len(rule.Remediation.Commands) > 0 && !printed[rule.ID] {
			t.Errorf("no hostile snapshot made %s print a command: the property is untested for it", rule.ID)
		}
	}
}

// FuzzPrintedCommands renames everything in the drifted account with the fuzzer's string.
func FuzzPrintedCommands(f *testing.F) {
	for _, s := range []string{"$(touch /tmp/x)", "`id`", "'", "\"", "\\", "\n", "a b", "\u202e", "${IFS}", "*", "~", "=x"} {
		f.Add(s, s)
	}
	base := loadFixture(f, "drifted")
	ageCredentials(base)
	f.Fuzz(func(t *testing.T, suffix, fix string) {
		snap := deepCopySnapshot(t, base)
		renameEverywhere(snap, func() string { return suffix })
		cfg := DefaultConfig()
		cfg.Fix.KMSKey, cfg.Fix.LogBucket, cfg.Fix.Trail.Name, cfg.Fix.Trail.Bucket = fix, fix, fix, fix
		checkCommandLines(t, snap, cfg)
	})
}

func deepCopySnapshot(t testing.TB, snap *Snapshot) *Snapshot {
	t.Helper()
	var b strings.Builder
	if err := WriteSnapshot(&b, snap); err != nil {
		t.Fatal(err)
	}
	out, err := ParseSnapshot("copy", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRefusedRewritePrintsANote: a bucket policy coffer cannot carry over exactly (a key twice)
// gets no put-bucket-policy command, but an inert note saying why.
func TestRefusedRewritePrintsANote(t *testing.T) {
	snap := loadFixture(t, "drifted")
	b := &snap.S3.Buckets[0]
	b.Policy = &Policy{Text: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"` + b.ARN + `/*"}]}`}
	report, err := builtInEngine(t).Evaluate(context.Background(), snap, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range report.Findings {
		if f.CheckID != "s3-bucket-tls-only" || f.Resource.ARN != b.ARN {
			continue
		}
		if f.Status != StatusFail || len(f.Remediation.Commands) != 1 {
			t.Fatalf("tls-only on %s: %s with commands %q", b.Name, f.Status, f.Remediation.Commands)
		}
		note := f.Remediation.Commands[0]
		t.Log(note)
		if !strings.HasPrefix(note, "# coffer: not printed") || !strings.Contains(note, "twice") || !shelltest.IsComment(note) {
			t.Errorf("command = %q, want an inert note naming the duplicate key", note)
		}
		return
	}
	t.Fatalf("no tls-only finding on %s", b.Name)
}
