package collect

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/awsconv"
)

// iamAPI is the part of IAM the collector uses. GenerateCredentialReport is its only call that
// changes anything, and it only asks IAM to refresh the report.
type iamAPI interface {
	GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput, optFns ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
	GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	GetAccountSummary(ctx context.Context, in *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
	ListVirtualMFADevices(ctx context.Context, in *iam.ListVirtualMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error)
	ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
}

var _ iamAPI = (*iam.Client)(nil)

// Credential report polling: IAM builds the report in seconds; give up after about 10 s and record
// the failure rather than hold the scan. Constants: no test needs other values, and a package
// variable a test could change would race with the other tests of the package.
const (
	reportPollInterval = 500 * time.Millisecond
	reportPollAttempts = 20
)

// collectIAM fills the account summary, password policy and the IAM section. The independent
// calls run concurrently; per-user calls run on a bounded pool once the users are known.
func (c *collector) collectIAM(ctx context.Context, snap *checks.Snapshot) {
	var api iamAPI = awsclient.NewIAM(c.cfg, c.opts.Options)
	c.prog.add(5)
	var wg sync.WaitGroup
	run := func(fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.prog.step()
			fn()
		}()
	}
	var report []checks.CredentialReportRow
	run(func() { snap.Account.Summary = c.accountSummary(ctx, api) })
	run(func() { snap.Account.PasswordPolicy = c.passwordPolicy(ctx, api) })
	run(func() { snap.IAM.VirtualMFADevices = c.virtualMFADevices(ctx, api) })
	run(func() { report = c.credentialReport(ctx, api) })
	run(func() {
		c.authorizationDetails(ctx, api, &snap.IAM)
		c.userCredentials(ctx, api, snap.IAM.Users)
	})
	wg.Wait()

	snap.IAM.CredentialReport = report
	// GetAccountAuthorizationDetails does not say whether a user has a console password; the
	// credential report does.
	byARN := make(map[string]checks.CredentialReportRow, len(report))
	for _, row := range report {
		byARN[row.ARN] = row
	}
	for i := range snap.IAM.Users {
		if row, ok := byARN[snap.IAM.Users[i].ARN]; ok {
			snap.IAM.Users[i].PasswordEnabled = row.PasswordEnabled
			snap.IAM.Users[i].PasswordLastUsed = row.PasswordLastUsed
		}
	}
}

// failIAM records a failed IAM call. IAM is global, so the entry has no region: the engine then
// attributes account-wide failures to the account itself.
func (c *collector) failIAM(ctx context.Context, op, resource string, err error) {
	c.fail(ctx, "iam", op, resource, "", err)
}

func (c *collector) accountSummary(ctx context.Context, api iamAPI) map[string]int32 {
	out, err := api.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		c.failIAM(ctx, "GetAccountSummary", "", err)
		return nil
	}
	m := make(map[string]int32, len(out.SummaryMap))
	for k, v := range out.SummaryMap {
		m[k] = v
	}
	return m
}

// passwordPolicy reads the account password policy; NoSuchEntity means the account has none.
func (c *collector) passwordPolicy(ctx context.Context, api iamAPI) *checks.PasswordPolicy {
	out, err := api.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	switch {
	case awsclient.IsCode(err, "NoSuchEntity"):
		return &checks.PasswordPolicy{Exists: false}
	case err != nil:
		c.failIAM(ctx, "GetAccountPasswordPolicy", "", err)
		return nil
	}
	p := out.PasswordPolicy
	if p == nil {
		return &checks.PasswordPolicy{Exists: false}
	}
	return awsconv.PasswordPolicy(p)
}

// virtualMFADevices lists every virtual MFA device, assigned or not; nil when unreadable.
func (c *collector) virtualMFADevices(ctx context.Context, api iamAPI) []checks.VirtualMFADevice {
	out := []checks.VirtualMFADevice{}
	p := iam.NewListVirtualMFADevicesPaginator(api, &iam.ListVirtualMFADevicesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.failIAM(ctx, "ListVirtualMFADevices", "", err)
			return nil
		}
		for _, d := range page.VirtualMFADevices {
			dev := checks.VirtualMFADevice{SerialNumber: aws.ToString(d.SerialNumber)}
			if d.User != nil {
				dev.User = aws.ToString(d.User.UserName)
			}
			out = append(out, dev)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SerialNumber < out[j].SerialNumber })
	return out
}

// credentialReport asks IAM for a fresh report, waits briefly until it is COMPLETE and parses it.
// A failed generation is recorded under GetCredentialReport: that is the operation checks name in
// `requires`, and the report is what they lack.
func (c *collector) credentialReport(ctx context.Context, api iamAPI) []checks.CredentialReportRow {
	for attempt := 0; ; attempt++ {
		out, err := api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			c.failIAM(ctx, "GetCredentialReport", "", fmt.Errorf("generate credential report: %w", err))
			return nil
		}
		if out.State == types.ReportStateTypeComplete || attempt+1 >= reportPollAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(reportPollInterval):
		}
	}
	out, err := api.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		c.failIAM(ctx, "GetCredentialReport", "", err)
		return nil
	}
	rows, err := ParseCredentialReport(out.Content)
	if err != nil {
		c.failIAM(ctx, "GetCredentialReport", "", err)
		return nil
	}
	return rows
}

// ParseCredentialReport parses the IAM credential report CSV. Columns are found by header name, so
// added or reordered columns do not break it. Rows come back sorted by user.
func ParseCredentialReport(content []byte) ([]checks.CredentialReportRow, error) {
	r := csv.NewReader(bytes.NewReader(content))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("parse credential report header: %w", err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"user", "arn"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("parse credential report: no %q column", need)
		}
	}
	rows := []checks.CredentialReportRow{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse credential report line %d: %w", line, err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		rows = append(rows, checks.CredentialReportRow{
			User:                   get("user"),
			ARN:                    get("arn"),
			PasswordEnabled:        get("password_enabled") == "true",
			PasswordLastUsed:       reportTime(get("password_last_used")),
			PasswordLastChanged:    reportTime(get("password_last_changed")),
			MFAActive:              get("mfa_active") == "true",
			AccessKey1Active:       get("access_key_1_active") == "true",
			AccessKey1LastRotated:  reportTime(get("access_key_1_last_rotated")),
			AccessKey1LastUsedDate: reportTime(get("access_key_1_last_used_date")),
			AccessKey2Active:       get("access_key_2_active") == "true",
			AccessKey2LastRotated:  reportTime(get("access_key_2_last_rotated")),
			AccessKey2LastUsedDate: reportTime(get("access_key_2_last_used_date")),
		})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].User < rows[j].User })
	return rows, nil
}

// reportTime parses a report timestamp; N/A, no_information, not_supported and garbage are nil.
func reportTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

// authorizationDetails reads users, groups, roles and managed policies with one paginated call.
// AWS-managed policies are kept only when attached somewhere (AttachmentCount > 0).
func (c *collector) authorizationDetails(ctx context.Context, api iamAPI, out *checks.IAM) {
	out.Users, out.Groups, out.Roles, out.Policies = []checks.User{}, []checks.Group{}, []checks.Role{}, []checks.ManagedPolicy{}
	p := iam.NewGetAccountAuthorizationDetailsPaginator(api, &iam.GetAccountAuthorizationDetailsInput{
		Filter: []types.EntityType{
			types.EntityTypeUser, types.EntityTypeRole, types.EntityTypeGroup,
			types.EntityTypeLocalManagedPolicy, types.EntityTypeAWSManagedPolicy,
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.failIAM(ctx, "GetAccountAuthorizationDetails", "", err)
			break
		}
		for _, u := range page.UserDetailList {
			out.Users = append(out.Users, userFromDetail(u))
		}
		for _, g := range page.GroupDetailList {
			out.Groups = append(out.Groups, checks.Group{
				Name:             aws.ToString(g.GroupName),
				ARN:              aws.ToString(g.Arn),
				AttachedPolicies: attached(g.AttachedManagedPolicies),
				InlinePolicies:   inline(g.GroupPolicyList),
			})
		}
		for _, r := range page.RoleDetailList {
			out.Roles = append(out.Roles, checks.Role{
				Name:             aws.ToString(r.RoleName),
				ARN:              aws.ToString(r.Arn),
				Path:             aws.ToString(r.Path),
				TrustPolicy:      checks.ParsePolicy(aws.ToString(r.AssumeRolePolicyDocument)),
				AttachedPolicies: attached(r.AttachedManagedPolicies),
				InlinePolicies:   inline(r.RolePolicyList),
				Tags:             iamTags(r.Tags),
			})
		}
		for _, mp := range page.Policies {
			arn := aws.ToString(mp.Arn)
			awsManaged := strings.Contains(arn, ":iam::aws:policy/")
			if awsManaged && aws.ToInt32(mp.AttachmentCount) == 0 {
				continue
			}
			out.Policies = append(out.Policies, managedPolicy(mp, awsManaged))
		}
	}
	sort.Slice(out.Users, func(i, j int) bool { return out.Users[i].Name < out.Users[j].Name })
	sort.Slice(out.Groups, func(i, j int) bool { return out.Groups[i].Name < out.Groups[j].Name })
	sort.Slice(out.Roles, func(i, j int) bool { return out.Roles[i].Name < out.Roles[j].Name })
	sort.Slice(out.Policies, func(i, j int) bool {
		a, b := out.Policies[i], out.Policies[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ARN < b.ARN
	})
}

func userFromDetail(u types.UserDetail) checks.User {
	groups := append([]string{}, u.GroupList...)
	sort.Strings(groups)
	return checks.User{
		Name:             aws.ToString(u.UserName),
		ARN:              aws.ToString(u.Arn),
		ID:               aws.ToString(u.UserId),
		CreateDate:       utcTime(u.CreateDate),
		Groups:           groups,
		AttachedPolicies: attached(u.AttachedManagedPolicies),
		InlinePolicies:   inline(u.UserPolicyList),
		Tags:             iamTags(u.Tags),
	}
}

func managedPolicy(mp types.ManagedPolicyDetail, awsManaged bool) checks.ManagedPolicy {
	out := checks.ManagedPolicy{
		Name:            aws.ToString(mp.PolicyName),
		ARN:             aws.ToString(mp.Arn),
		AWSManaged:      awsManaged,
		AttachmentCount: aws.ToInt32(mp.AttachmentCount),
		DefaultVersion:  aws.ToString(mp.DefaultVersionId),
	}
	if out.Name == "" {
		// moto leaves PolicyName out for AWS-managed policies; the ARN ends with it.
		out.Name = out.ARN[strings.LastIndex(out.ARN, "/")+1:]
	}
	for _, v := range mp.PolicyVersionList {
		if v.IsDefaultVersion || (out.DefaultVersion != "" && aws.ToString(v.VersionId) == out.DefaultVersion) {
			out.Document = checks.ParsePolicy(aws.ToString(v.Document))
			break
		}
	}
	return out
}

func attached(list []types.AttachedPolicy) []checks.AttachedPolicy {
	out := make([]checks.AttachedPolicy, 0, len(list))
	for _, a := range list {
		out = append(out, checks.AttachedPolicy{Name: aws.ToString(a.PolicyName), ARN: aws.ToString(a.PolicyArn)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

func inline(list []types.PolicyDetail) []checks.InlinePolicy {
	out := make([]checks.InlinePolicy, 0, len(list))
	for _, p := range list {
		out = append(out, checks.InlinePolicy{
			Name:     aws.ToString(p.PolicyName),
			Document: checks.ParsePolicy(aws.ToString(p.PolicyDocument)),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func iamTags(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// userCredentials reads MFA devices and access keys (with last use) of every user on a bounded
// pool. A list that could not be read stays nil.
func (c *collector) userCredentials(ctx context.Context, api iamAPI, users []checks.User) {
	c.prog.add(len(users))
	forEach(ctx, len(users), c.opts.Concurrency, func(ctx context.Context, i int) {
		defer c.prog.step()
		u := &users[i]
		u.MFADevices = c.userMFADevices(ctx, api, u)
		u.AccessKeys = c.userAccessKeys(ctx, api, u)
	})
}

func (c *collector) userMFADevices(ctx context.Context, api iamAPI, u *checks.User) []string {
	out := []string{}
	p := iam.NewListMFADevicesPaginator(api, &iam.ListMFADevicesInput{UserName: aws.String(u.Name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.failIAM(ctx, "ListMFADevices", u.ARN, err)
			return nil
		}
		for _, d := range page.MFADevices {
			out = append(out, aws.ToString(d.SerialNumber))
		}
	}
	sort.Strings(out)
	return out
}

func (c *collector) userAccessKeys(ctx context.Context, api iamAPI, u *checks.User) []checks.AccessKey {
	out := []checks.AccessKey{}
	p := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String(u.Name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.failIAM(ctx, "ListAccessKeys", u.ARN, err)
			return nil
		}
		for _, k := range page.AccessKeyMetadata {
			out = append(out, checks.AccessKey{
				ID:         aws.ToString(k.AccessKeyId),
				Status:     string(k.Status),
				CreateDate: utcTime(k.CreateDate),
			})
		}
	}
	for i := range out {
		k := &out[i]
		lu, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)})
		if err != nil {
			c.failIAM(ctx, "GetAccessKeyLastUsed", u.ARN, fmt.Errorf("access key %s: %w", k.ID, err))
			continue
		}
		if l := lu.AccessKeyLastUsed; l != nil {
			k.LastUsedDate = utcTime(l.LastUsedDate)
			if s := aws.ToString(l.ServiceName); s != "N/A" {
				k.LastUsedService = s
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
