package collect_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/collect"
)

const (
	userInline = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`
	managedDoc = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],` +
		`"Resource":["arn:aws:s3:::primary-database-bucket","arn:aws:s3:::primary-database-bucket/*"],` +
		`"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}}]}`
	groupInline = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"s3:Get*","NotResource":"arn:aws:s3:::x/*"}]}`
	trustDoc    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":"sts:AssumeRole",` +
		`"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`
)

// seedIAM creates users with credentials, a group, a customer-managed policy, a role and a
// password policy. Documents use every shape: Statement object and list, strings and lists.
func seedIAM(ctx context.Context, t *testing.T, e *env) (accessKeyID, mfaSerial string) {
	t.Helper()
	ic := e.iam()
	for _, u := range []string{"alice", "bob"} {
		must[*iam.CreateUserOutput](t, "user "+u)(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
	}
	must[*iam.CreateLoginProfileOutput](t, "login profile")(ic.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{
		UserName: aws.String("alice"), Password: aws.String("Correct-Horse-Battery-9"),
	}))
	key := must[*iam.CreateAccessKeyOutput](t, "access key")(ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))
	must[*iam.PutUserPolicyOutput](t, "user inline")(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String("alice"), PolicyName: aws.String("everything-s3"), PolicyDocument: aws.String(userInline),
	}))
	pol := must[*iam.CreatePolicyOutput](t, "managed policy")(ic.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("BackupReaders"), PolicyDocument: aws.String(managedDoc),
	}))
	must[*iam.CreateGroupOutput](t, "group")(ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("backup-team")}))
	must[*iam.AddUserToGroupOutput](t, "membership")(ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("backup-team"), UserName: aws.String("bob")}))
	must[*iam.AttachGroupPolicyOutput](t, "group attach")(ic.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("backup-team"), PolicyArn: pol.Policy.Arn}))
	must[*iam.PutGroupPolicyOutput](t, "group inline")(ic.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{
		GroupName: aws.String("backup-team"), PolicyName: aws.String("deny-writes"), PolicyDocument: aws.String(groupInline),
	}))
	must[*iam.CreateRoleOutput](t, "role")(ic.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("BackupOperator"), AssumeRolePolicyDocument: aws.String(trustDoc),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("backup")}},
	}))
	vmfa := must[*iam.CreateVirtualMFADeviceOutput](t, "virtual MFA")(ic.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")}))
	must[*iam.EnableMFADeviceOutput](t, "enable MFA")(ic.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{
		UserName: aws.String("alice"), SerialNumber: vmfa.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321"),
	}))
	must[*iam.CreateVirtualMFADeviceOutput](t, "unassigned virtual MFA")(ic.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("spare")}))
	must[*iam.UpdateAccountPasswordPolicyOutput](t, "password policy")(ic.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength: aws.Int32(14), PasswordReusePrevention: aws.Int32(24), RequireSymbols: true, RequireNumbers: true,
		AllowUsersToChangePassword: true,
	}))
	return aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(vmfa.VirtualMFADevice.SerialNumber)
}

func TestCollectIAM(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	keyID, serial := seedIAM(ctx, t, e)

	// The premise: moto hands the collector both encodings in one GAAD answer.
	gaad := must[*iam.GetAccountAuthorizationDetailsOutput](t, "GAAD")(e.iam().GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{}))
	for _, u := range gaad.UserDetailList {
		if aws.ToString(u.UserName) == "alice" && !strings.HasPrefix(aws.ToString(u.UserPolicyList[0].PolicyDocument), "%7B") {
			t.Fatalf("premise: alice's inline policy is not URL-encoded in GAAD: %s", aws.ToString(u.UserPolicyList[0].PolicyDocument))
		}
	}
	for _, r := range gaad.RoleDetailList {
		if !strings.HasPrefix(aws.ToString(r.AssumeRolePolicyDocument), "{") {
			t.Fatalf("premise: trust policy is not raw in GAAD: %s", aws.ToString(r.AssumeRolePolicyDocument))
		}
	}

	snap := collectOK(ctx, t, e, e.opts)
	noErrors(t, snap)

	mustParse := func(text string) checks.Policy {
		p := checks.ParsePolicy(text)
		if p.Document == nil {
			t.Fatalf("test document does not parse: %s", p.ParseError)
		}
		return p
	}

	t.Run("documents in both encodings", func(t *testing.T) {
		tests := []struct {
			name string
			got  func() (checks.Policy, bool)
			want string
		}{
			{"user inline (URL-encoded)", func() (checks.Policy, bool) {
				u := snap.IAM.Users[0]
				return firstInline(u.InlinePolicies)
			}, userInline},
			{"group inline", func() (checks.Policy, bool) { return firstInline(snap.IAM.Groups[0].InlinePolicies) }, groupInline},
			{"role trust (raw)", func() (checks.Policy, bool) {
				for _, r := range snap.IAM.Roles {
					if r.Name == "BackupOperator" {
						return r.TrustPolicy, true
					}
				}
				return checks.Policy{}, false
			}, trustDoc},
			{"customer-managed default version", func() (checks.Policy, bool) {
				for _, p := range snap.IAM.Policies {
					if p.Name == "BackupReaders" {
						return p.Document, true
					}
				}
				return checks.Policy{}, false
			}, managedDoc},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, ok := tc.got()
				if !ok {
					t.Fatal("document not in snapshot")
				}
				want := mustParse(tc.want)
				if diff := cmp.Diff(want.Document, got.Document); diff != "" {
					t.Errorf("parsed document (-want +got):\n%s", diff)
				}
				if got.ParseError != "" || !strings.HasPrefix(got.Text, "{") {
					t.Errorf("text not decoded or parse error: %q %q", got.Text, got.ParseError)
				}
			})
		}
	})

	t.Run("principals", func(t *testing.T) {
		var names []string
		for _, u := range snap.IAM.Users {
			names = append(names, u.Name)
		}
		if diff := cmp.Diff([]string{"alice", "bob"}, names); diff != "" {
			t.Fatalf("users (-want +got):\n%s", diff)
		}
		alice, bob := snap.IAM.Users[0], snap.IAM.Users[1]
		if !alice.PasswordEnabled || bob.PasswordEnabled {
			t.Errorf("password enabled: alice %v bob %v, want true false", alice.PasswordEnabled, bob.PasswordEnabled)
		}
		if diff := cmp.Diff([]string{serial}, alice.MFADevices); diff != "" {
			t.Errorf("alice MFA (-want +got):\n%s", diff)
		}
		if len(alice.AccessKeys) != 1 || alice.AccessKeys[0].ID != keyID || alice.AccessKeys[0].Status != "Active" ||
			alice.AccessKeys[0].CreateDate == nil || time.Since(*alice.AccessKeys[0].CreateDate) > time.Hour {
			t.Errorf("alice access keys = %+v", alice.AccessKeys)
		}
		if bob.MFADevices == nil || len(bob.MFADevices) != 0 || bob.AccessKeys == nil || len(bob.AccessKeys) != 0 {
			t.Errorf("bob credentials = %#v %#v, want read and empty", bob.MFADevices, bob.AccessKeys)
		}
		if diff := cmp.Diff([]string{"backup-team"}, bob.Groups); diff != "" {
			t.Errorf("bob groups (-want +got):\n%s", diff)
		}
		g := snap.IAM.Groups
		if len(g) != 1 || g[0].Name != "backup-team" || len(g[0].AttachedPolicies) != 1 || g[0].AttachedPolicies[0].Name != "BackupReaders" {
			t.Errorf("groups = %+v", g)
		}
		var role checks.Role
		for _, r := range snap.IAM.Roles {
			if r.Name == "BackupOperator" {
				role = r
			}
		}
		if diff := cmp.Diff(map[string]string{"team": "backup"}, role.Tags); diff != "" {
			t.Errorf("role tags (-want +got):\n%s", diff)
		}
		if len(snap.IAM.Policies) != 1 || snap.IAM.Policies[0].AWSManaged || snap.IAM.Policies[0].AttachmentCount != 1 {
			t.Errorf("policies = %+v, want BackupReaders only (no AWS-managed policy is attached)", snap.IAM.Policies)
		}
	})

	t.Run("account settings", func(t *testing.T) {
		want := &checks.PasswordPolicy{Exists: true, MinimumPasswordLength: 14, PasswordReusePrevention: 24,
			RequireSymbols: true, RequireNumbers: true, AllowUsersToChangePassword: true}
		if diff := cmp.Diff(want, snap.Account.PasswordPolicy); diff != "" {
			t.Errorf("password policy (-want +got):\n%s", diff)
		}
		wantMFA := []checks.VirtualMFADevice{
			{SerialNumber: "arn:aws:iam::123456789012:mfa/alice", User: "alice"},
			{SerialNumber: "arn:aws:iam::123456789012:mfa/spare"},
		}
		if diff := cmp.Diff(wantMFA, snap.IAM.VirtualMFADevices); diff != "" {
			t.Errorf("virtual MFA devices (-want +got):\n%s", diff)
		}
	})

	t.Run("credential report", func(t *testing.T) {
		ignoreTimes := cmpopts.IgnoreFields(checks.CredentialReportRow{}, "PasswordLastChanged", "AccessKey1LastRotated")
		want := []checks.CredentialReportRow{
			{User: "alice", ARN: "arn:aws:iam::123456789012:user/alice", PasswordEnabled: true, MFAActive: true, AccessKey1Active: true},
			{User: "bob", ARN: "arn:aws:iam::123456789012:user/bob"},
		}
		if diff := cmp.Diff(want, snap.IAM.CredentialReport, ignoreTimes); diff != "" {
			t.Errorf("credential report (-want +got):\n%s", diff)
		}
		if r := snap.IAM.CredentialReport[0]; r.AccessKey1LastRotated == nil || r.PasswordLastChanged == nil {
			t.Errorf("alice's rotation and password-change times missing: %+v", r)
		}
	})
}

func firstInline(list []checks.InlinePolicy) (checks.Policy, bool) {
	if len(list) == 0 {
		return checks.Policy{}, false
	}
	return list[0].Document, true
}

func TestParseCredentialReport(t *testing.T) {
	header := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
		"access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service," +
		"access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
		"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
	ts := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		v = v.UTC()
		return &v
	}
	tests := []struct {
		name    string
		in      string
		want    []checks.CredentialReportRow
		wantErr string
	}{
		{
			name: "root row and a user, sorted by user",
			in: header +
				"zed,arn:aws:iam::1:user/zed,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-02T00:00:00+00:00,2024-03-01T10:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
				"<root_account>,arn:aws:iam::1:root,2020-01-01T00:00:00+00:00,not_supported,2024-05-01T12:00:00+02:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
			want: []checks.CredentialReportRow{
				{User: "<root_account>", ARN: "arn:aws:iam::1:root", PasswordLastUsed: ts("2024-05-01T10:00:00Z"), MFAActive: true},
				{User: "zed", ARN: "arn:aws:iam::1:user/zed", AccessKey1Active: true, AccessKey1LastRotated: ts("2024-01-02T00:00:00Z"), AccessKey1LastUsedDate: ts("2024-03-01T10:00:00Z")},
			},
		},
		{
			name: "reordered and missing columns",
			in:   "arn,user,mfa_active\narn:aws:iam::1:user/a,a,true\n",
			want: []checks.CredentialReportRow{{User: "a", ARN: "arn:aws:iam::1:user/a", MFAActive: true}},
		},
		{name: "header only", in: header, want: []checks.CredentialReportRow{}},
		{name: "empty", in: "", wantErr: "header"},
		{name: "no arn column", in: "user,mfa_active\na,true\n", wantErr: `no "arn" column`},
		{name: "bad quoting", in: "user,arn\n\"a,b\n", wantErr: "line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect.ParseCredentialReport([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}
