package checks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is coffer.yaml: bucket roles, check parameters, fix settings, the expected account and
// waivers, and the settings of single accounts of an organisation. Every field is optional.
type Config struct {
	Account AccountConfig `yaml:"account"`
	Buckets BucketsConfig `yaml:"buckets"`
	Params  Params        `yaml:"params"`
	Fix     FixConfig     `yaml:"fix"`
	Waivers []WaiverRule  `yaml:"waivers"`
	// Accounts are settings of single accounts, by account id, over the ones above: ForAccount
	// gives an account's configuration.
	Accounts map[string]AccountScope `yaml:"accounts"`
	// Source is the file the config came from, for messages.
	Source string `yaml:"-"`
}

// AccountScope is what coffer.yaml's accounts.<id> sets for one account of an organisation, over
// the organisation-wide settings (ForAccount says how they combine).
type AccountScope struct {
	Buckets BucketsConfig `yaml:"buckets"`
	Params  Params        `yaml:"params"`
	Fix     FixConfig     `yaml:"fix"`
}

// AccountConfig guards against scanning or fixing the wrong account.
type AccountConfig struct {
	ExpectedID string `yaml:"expected_id"`
}

// CheckAccount refuses an account other than account.expected_id, when one is set.
func (c *Config) CheckAccount(id string) error {
	if want := c.Account.ExpectedID; want != "" && want != id {
		return fmt.Errorf("account %s is not the expected account %s (account.expected_id in %s)", id, want, c.Source)
	}
	return nil
}

// ForAccount is the configuration of one account: coffer.yaml's organisation-wide settings with
// accounts.<id>'s over them, and the waivers that apply to the account (those naming it and those
// naming no account). Settings combine field by field:
//   - a list (bucket names, cmk_required_for, archive_classes) given for the account replaces the
//     organisation's, and an empty list clears it: bucket names are rarely shared between accounts,
//     and a list that could only grow would leave no way to drop an organisation-wide entry;
//   - a map (buckets.pairs, fix.kms_keys) is merged key by key, the account's winning;
//   - a number or text (params.*, fix.kms_key, fix.log_bucket, …) given for the account replaces
//     the organisation's; 0 or empty means not given, as it does at the top.
//
// The result has no Accounts, and ForAccount on it again gives the same settings, so it can be
// applied wherever the account is known (Engine.Evaluate does). It never changes c; a nil c
// gives nil.
func (c *Config) ForAccount(id string) *Config {
	if c == nil {
		return nil
	}
	scoped := len(c.Accounts) > 0
	for _, w := range c.Waivers {
		scoped = scoped || w.Account != ""
	}
	if !scoped {
		return c
	}
	out := *c
	out.Accounts = nil
	out.Waivers = nil
	for _, w := range c.Waivers {
		if w.Account == "" || w.Account == id {
			out.Waivers = append(out.Waivers, w)
		}
	}
	if s, ok := c.Accounts[id]; ok {
		out.Buckets = mergeBuckets(c.Buckets, s.Buckets)
		out.Params = mergeParams(s.Params, c.Params)
		out.Fix = mergeFix(c.Fix, s.Fix)
	}
	return &out
}

func mergeBuckets(org, acct BucketsConfig) BucketsConfig {
	out := org
	for _, l := range []struct{ dst, src *[]string }{
		{&out.Primary, &acct.Primary}, {&out.Standby, &acct.Standby}, {&out.Ignore, &acct.Ignore},
		{&out.TrailLogs, &acct.TrailLogs}, {&out.AccessLogs, &acct.AccessLogs},
	} {
		if *l.src != nil {
			*l.dst = *l.src
		}
	}
	out.Pairs = mergeMaps(org.Pairs, acct.Pairs)
	return out
}

func mergeFix(org, acct FixConfig) FixConfig {
	out := org
	for _, v := range []struct{ dst, src *string }{
		{&out.KMSKey, &acct.KMSKey}, {&out.LogBucket, &acct.LogBucket}, {&out.Trail.Name, &acct.Trail.Name}, {&out.Trail.Bucket, &acct.Trail.Bucket},
	} {
		if *v.src != "" {
			*v.dst = *v.src
		}
	}
	if acct.ObjectLock.Days != 0 {
		out.ObjectLock.Days = acct.ObjectLock.Days
	}
	out.KMSKeys = mergeMaps(org.KMSKeys, acct.KMSKeys)
	return out
}

// mergeMaps is org with acct's entries over it, in a new map (nil when both are empty), so that
// no account's settings leak into the organisation's.
func mergeMaps(org, acct map[string]string) map[string]string {
	if len(acct) == 0 {
		return org
	}
	out := maps.Clone(org)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, acct)
	return out
}

// BucketsConfig assigns roles by name or glob (path.Match syntax) and pairs primaries with standbys.
type BucketsConfig struct {
	Primary []string `yaml:"primary"`
	Standby []string `yaml:"standby"`
	Ignore  []string `yaml:"ignore"`
	// TrailLogs and AccessLogs declare log buckets, which coffer otherwise infers from CloudTrail and
	// logging settings: declared, their role does not depend on being allowed to read CloudTrail.
	TrailLogs  []string          `yaml:"trail_logs"`
	AccessLogs []string          `yaml:"access_logs"`
	Pairs      map[string]string `yaml:"pairs"`
}

// Params tune the checks; zero values take the defaults of DESIGN §4.
type Params struct {
	ObjectLockMinDays       int      `yaml:"object_lock_min_days" json:"object_lock_min_days"`
	CMKRequiredFor          []string `yaml:"cmk_required_for" json:"cmk_required_for"`
	ArchiveClasses          []string `yaml:"archive_classes" json:"archive_classes"`
	ArchiveAfterDays        int      `yaml:"archive_after_days" json:"archive_after_days"`
	AbortMultipartMaxDays   int      `yaml:"abort_multipart_max_days" json:"abort_multipart_max_days"`
	AccessKeyMaxAgeDays     int      `yaml:"access_key_max_age_days" json:"access_key_max_age_days"`
	UnusedCredentialsDays   int      `yaml:"unused_credentials_days" json:"unused_credentials_days"`
	PasswordMinLength       int      `yaml:"password_min_length" json:"password_min_length"`
	PasswordReusePrevention int      `yaml:"password_reuse_prevention" json:"password_reuse_prevention"`
}

// FixConfig holds values --fix and the printed commands need but cannot discover.
type FixConfig struct {
	KMSKey string `yaml:"kms_key"`
	// KMSKeys are keys by region: a KMS key serves only its own region, and a bucket or trail
	// must be encrypted with a key of its region.
	KMSKeys    map[string]string `yaml:"kms_keys"`
	LogBucket  string            `yaml:"log_bucket"`
	ObjectLock ObjectLockFix     `yaml:"object_lock"`
	Trail      TrailFix          `yaml:"trail"`
}

// ObjectLockFix is the default retention --fix applies (always GOVERNANCE mode).
type ObjectLockFix struct {
	Days int `yaml:"days"`
}

// TrailFix names the trail coffer suggests creating when there is none.
type TrailFix struct {
	Name   string `yaml:"name"`
	Bucket string `yaml:"bucket"`
}

// WaiverRule accepts the risk of one check on matching resources until Expires: in Account only
// when it names one, else in every account.
type WaiverRule struct {
	Account  string `yaml:"account"`
	Check    string `yaml:"check"`
	Resource string `yaml:"resource"`
	Reason   string `yaml:"reason"`
	Expires  string `yaml:"expires"`
	expires  time.Time
	line     int
}

// DefaultParams are the catalog defaults.
func DefaultParams() Params {
	return Params{
		ObjectLockMinDays:       30,
		CMKRequiredFor:          []string{"standby"},
		ArchiveClasses:          []string{"GLACIER", "DEEP_ARCHIVE"},
		ArchiveAfterDays:        14,
		AbortMultipartMaxDays:   7,
		AccessKeyMaxAgeDays:     90,
		UnusedCredentialsDays:   45,
		PasswordMinLength:       14,
		PasswordReusePrevention: 24,
	}
}

// DefaultConfig is the configuration used when no coffer.yaml is given.
func DefaultConfig() *Config {
	return &Config{Params: DefaultParams()}
}

// ConfigError is a problem in coffer.yaml, with its position.
type ConfigError struct {
	File string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// LoadConfig reads and validates a coffer.yaml file.
func LoadConfig(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(file, data)
}

// ParseConfig parses coffer.yaml strictly: an unknown key or a bad value is an error naming the line.
func ParseConfig(file string, data []byte) (*Config, error) {
	cfg := &Config{Source: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlConfigError(file, err)
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	if err := cfg.validate(&root); err != nil {
		return nil, err
	}
	cfg.Params = mergeParams(cfg.Params, DefaultParams())
	return cfg, nil
}

var yamlLineRE = regexp.MustCompile(`^line (\d+): `)

// yamlConfigError turns a YAML error into a ConfigError at the line of its first problem. The
// decoder reports type errors as a list ("line 2: field x not found …", one per problem) and
// syntax errors as "yaml: line 3: …"; each message keeps only its text, and later problems keep
// their own line.
func yamlConfigError(file string, err error) *ConfigError {
	var entries []string
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		entries = te.Errors
	} else {
		entries = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	line := 0
	msgs := make([]string, 0, len(entries))
	for i, e := range entries {
		if m := yamlLineRE.FindStringSubmatch(e); m != nil && i == 0 {
			line, _ = strconv.Atoi(m[1])
			e = e[len(m[0]):]
		}
		msgs = append(msgs, strings.TrimSpace(e))
	}
	return &ConfigError{File: file, Line: line, Msg: strings.Join(msgs, "; ")}
}

func (c *Config) validate(root *yaml.Node) error {
	fail := func(msg string, keys ...string) error {
		return &ConfigError{File: c.Source, Line: lineOf(root, keys...), Msg: msg}
	}
	if id := c.Account.ExpectedID; id != "" && !accountIDPattern.MatchString(id) {
		return fail(fmt.Sprintf("account.expected_id must be 12 digits, got %q (quote it in YAML)", id), "account", "expected_id")
	}
	if err := validateScope(fail, nil, c.Buckets, c.Params, c.Fix); err != nil {
		return err
	}
	for _, id := range c.accountIDs(root) {
		if !accountIDPattern.MatchString(id) {
			line := 0
			if n := nodeAt(root, "accounts"); n != nil {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == id {
						line = n.Content[i].Line
					}
				}
			}
			return &ConfigError{File: c.Source, Line: line, Msg: fmt.Sprintf("accounts: %q is not an account id (12 digits)", id)}
		}
		s := c.Accounts[id]
		if err := validateScope(fail, []string{"accounts", id}, s.Buckets, s.Params, s.Fix); err != nil {
			return err
		}
	}
	waiverNodes := nodeAt(root, "waivers")
	for i := range c.Waivers {
		w := &c.Waivers[i]
		if waiverNodes != nil && i < len(waiverNodes.Content) {
			w.line = waiverNodes.Content[i].Line
		}
		werr := func(msg string) error {
			return &ConfigError{File: c.Source, Line: w.line, Msg: "waivers[" + fmt.Sprint(i) + "]: " + msg}
		}
		switch {
		case w.Account != "" && !accountIDPattern.MatchString(w.Account):
			return werr(fmt.Sprintf("account %q is not an account id (12 digits; quote it in YAML)", w.Account))
		case w.Check == "":
			return werr("check is required")
		case w.Resource == "":
			return werr("resource is required (an ARN, a name or a glob)")
		case strings.TrimSpace(w.Reason) == "":
			return werr("reason is required")
		case w.Expires == "":
			return werr("expires is required (YYYY-MM-DD): a waiver without an end is a silent pass")
		}
		t, err := time.Parse("2006-01-02", w.Expires)
		if err != nil {
			return werr(fmt.Sprintf("expires %q is not a date (YYYY-MM-DD)", w.Expires))
		}
		w.expires = t
		if _, err := path.Match(w.Resource, ""); err != nil {
			return werr(fmt.Sprintf("bad resource pattern %q: %v", w.Resource, err))
		}
	}
	return nil
}

// accountIDs are the keys of accounts: in the file's order when the YAML is at hand, so that the
// first problem reported is the first in the file.
func (c *Config) accountIDs(root *yaml.Node) []string {
	var ids []string
	seen := map[string]bool{}
	if n := nodeAt(root, "accounts"); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if id := n.Content[i].Value; !seen[id] {
				if _, ok := c.Accounts[id]; ok {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
	}
	for _, id := range SortedKeys(c.Accounts) {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// validateScope checks the settings that coffer.yaml has at the top and in accounts.<id>; prefix
// is where they are ("accounts", id), nil at the top. Problems are checked in the file's order of
// keys, so that the same file always gives the same first error.
func validateScope(fail func(msg string, keys ...string) error, prefix []string, buckets BucketsConfig, p Params, fix FixConfig) error {
	at := func(keys ...string) []string { return append(slices.Clone(prefix), keys...) }
	name := func(keys ...string) string { return strings.Join(at(keys...), ".") }
	for _, list := range []struct {
		role     string
		patterns []string
	}{{"primary", buckets.Primary}, {"standby", buckets.Standby}, {"ignore", buckets.Ignore}, {"trail_logs", buckets.TrailLogs}, {"access_logs", buckets.AccessLogs}} {
		for _, pat := range list.patterns {
			if _, err := path.Match(pat, ""); err != nil {
				return fail(fmt.Sprintf("%s: bad pattern %q: %v", name("buckets", list.role), pat, err), at("buckets", list.role)...)
			}
		}
	}
	for _, v := range []struct {
		key string
		v   int
	}{
		{"object_lock_min_days", p.ObjectLockMinDays}, {"archive_after_days", p.ArchiveAfterDays},
		{"abort_multipart_max_days", p.AbortMultipartMaxDays}, {"access_key_max_age_days", p.AccessKeyMaxAgeDays},
		{"unused_credentials_days", p.UnusedCredentialsDays}, {"password_min_length", p.PasswordMinLength},
		{"password_reuse_prevention", p.PasswordReusePrevention},
	} {
		if v.v < 0 {
			return fail(fmt.Sprintf("%s must not be negative, got %d", name("params", v.key), v.v), at("params", v.key)...)
		}
	}
	for _, r := range p.CMKRequiredFor {
		if !validRoles[r] {
			return fail(fmt.Sprintf("%s: unknown role %q", name("params", "cmk_required_for"), r), at("params", "cmk_required_for")...)
		}
	}
	for _, sc := range p.ArchiveClasses {
		if !archiveClasses[sc] {
			return fail(fmt.Sprintf("%s: unknown storage class %q", name("params", "archive_classes"), sc), at("params", "archive_classes")...)
		}
	}
	for _, region := range SortedKeys(fix.KMSKeys) {
		key := fix.KMSKeys[region]
		if !regionRE.MatchString(region) {
			return fail(fmt.Sprintf("%s: %q is not a region name (like eu-west-1)", name("fix", "kms_keys"), region), at("fix", "kms_keys", region)...)
		}
		if strings.TrimSpace(key) == "" {
			return fail(fmt.Sprintf("%s is empty", name("fix", "kms_keys", region)), at("fix", "kms_keys", region)...)
		}
		if r := regionOfKeyARN(key); r != "" && r != region {
			return fail(fmt.Sprintf("%s is a key in %s: a key serves only its own region", name("fix", "kms_keys", region), r), at("fix", "kms_keys", region)...)
		}
	}
	if fix.ObjectLock.Days < 0 {
		return fail(name("fix", "object_lock", "days")+" must not be negative", at("fix", "object_lock", "days")...)
	}
	return nil
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// regionOfKeyARN is the region of a key or alias ARN, "" for a key id or alias name (those are
// looked up in the region they are used in).
func regionOfKeyARN(ref string) string {
	parts := strings.SplitN(ref, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

var validRoles = map[string]bool{"primary": true, "standby": true, "trail-logs": true, "access-logs": true, "ignore": true}

var archiveClasses = map[string]bool{"GLACIER": true, "DEEP_ARCHIVE": true, "GLACIER_IR": true, "STANDARD_IA": true, "ONEZONE_IA": true, "INTELLIGENT_TIERING": true}

func mergeParams(p, def Params) Params {
	if p.ObjectLockMinDays == 0 {
		p.ObjectLockMinDays = def.ObjectLockMinDays
	}
	if p.CMKRequiredFor == nil {
		p.CMKRequiredFor = def.CMKRequiredFor
	}
	if p.ArchiveClasses == nil {
		p.ArchiveClasses = def.ArchiveClasses
	}
	if p.ArchiveAfterDays == 0 {
		p.ArchiveAfterDays = def.ArchiveAfterDays
	}
	if p.AbortMultipartMaxDays == 0 {
		p.AbortMultipartMaxDays = def.AbortMultipartMaxDays
	}
	if p.AccessKeyMaxAgeDays == 0 {
		p.AccessKeyMaxAgeDays = def.AccessKeyMaxAgeDays
	}
	if p.UnusedCredentialsDays == 0 {
		p.UnusedCredentialsDays = def.UnusedCredentialsDays
	}
	if p.PasswordMinLength == 0 {
		p.PasswordMinLength = def.PasswordMinLength
	}
	if p.PasswordReusePrevention == 0 {
		p.PasswordReusePrevention = def.PasswordReusePrevention
	}
	return p
}

// nodeAt walks mapping keys from the document root.
func nodeAt(root *yaml.Node, keys ...string) *yaml.Node {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

func lineOf(root *yaml.Node, keys ...string) int {
	for len(keys) > 0 {
		if n := nodeAt(root, keys...); n != nil {
			return n.Line
		}
		keys = keys[:len(keys)-1]
	}
	return 0
}

// FixSettings are the values remediation templates use for things coffer cannot discover, with
// obvious placeholders where coffer.yaml does not say.
type FixSettings struct {
	// KMSKey is the key for the resource at hand (see ForRegion); fix.kms_key until then.
	KMSKey         string
	LogBucket      string
	ObjectLockDays int
	TrailName      string
	TrailBucket    string
	// KMSKeyConfigured and LogBucketConfigured tell the fixer whether the values are real.
	KMSKeyConfigured    bool
	LogBucketConfigured bool

	defaultKey string            // fix.kms_key
	regionKeys map[string]string // fix.kms_keys
}

const kmsKeyPlaceholder = "<KMS_KEY_ARN>"

// ForRegion returns the settings for a resource in region: the key of fix.kms_keys for that
// region, else fix.kms_key unless it is the ARN of a key in another region (AWS would refuse it),
// else the placeholder.
func (s FixSettings) ForRegion(region string) FixSettings {
	key, ok := s.regionKeys[region]
	if !ok && s.defaultKey != "" {
		if r := regionOfKeyARN(s.defaultKey); r == "" || r == region || region == "" {
			key, ok = s.defaultKey, true
		}
	}
	s.KMSKey, s.KMSKeyConfigured = key, ok
	if !ok {
		s.KMSKey = kmsKeyPlaceholder
	}
	return s
}

// KMSKeySource names where the key of ForRegion came from, for messages.
func (s FixSettings) KMSKeySource(region string) string {
	if _, ok := s.regionKeys[region]; ok {
		return "fix.kms_keys." + region
	}
	return "fix.kms_key"
}

// FixSettings returns the fix values with placeholders filled in.
func (c *Config) FixSettings() FixSettings {
	s := FixSettings{
		KMSKey: c.Fix.KMSKey, LogBucket: c.Fix.LogBucket, ObjectLockDays: c.Fix.ObjectLock.Days,
		TrailName: c.Fix.Trail.Name, TrailBucket: c.Fix.Trail.Bucket,
		KMSKeyConfigured: c.Fix.KMSKey != "", LogBucketConfigured: c.Fix.LogBucket != "",
		defaultKey: c.Fix.KMSKey, regionKeys: c.Fix.KMSKeys,
	}
	if s.KMSKey == "" {
		s.KMSKey = kmsKeyPlaceholder
	}
	if s.LogBucket == "" {
		s.LogBucket = "<LOG_BUCKET>"
	}
	if s.ObjectLockDays == 0 {
		s.ObjectLockDays = c.Params.ObjectLockMinDays
	}
	if s.TrailName == "" {
		s.TrailName = "coffer-audit-trail"
	}
	if s.TrailBucket == "" {
		s.TrailBucket = "<TRAIL_LOG_BUCKET>"
	}
	return s
}
