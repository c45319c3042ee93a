package fix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/awsconv"
	"github.com/coffer-audit/coffer/checks/shellcmd"
)

// --- password policy ----------------------------------------------------------------------------

func passwordPolicyJSON(p *checks.PasswordPolicy) any {
	if p == nil || !p.Exists {
		return nil
	}
	m := map[string]any{
		"MinimumPasswordLength": p.MinimumPasswordLength, "PasswordReusePrevention": p.PasswordReusePrevention,
		"RequireSymbols": p.RequireSymbols, "RequireNumbers": p.RequireNumbers,
		"RequireUppercaseCharacters": p.RequireUppercaseCharacters, "RequireLowercaseCharacters": p.RequireLowercaseCharacters,
		"AllowUsersToChangePassword": p.AllowUsersToChangePassword, "HardExpiry": p.HardExpiry,
	}
	if p.MaxPasswordAge > 0 {
		m["MaxPasswordAge"] = p.MaxPasswordAge
	}
	return m
}

// passwordPolicyInput turns checks.PasswordPolicyFlags (the printed command's flags) into the SDK
// input, so the fixer sets exactly what the printed command would.
func passwordPolicyInput(flags string) (*iam.UpdateAccountPasswordPolicyInput, *checks.PasswordPolicy, error) {
	in := &iam.UpdateAccountPasswordPolicyInput{}
	p := &checks.PasswordPolicy{Exists: true}
	fields := strings.Fields(flags)
	number := func(i int) (int32, error) {
		if i+1 >= len(fields) {
			return 0, fmt.Errorf("flag %s has no value", fields[i])
		}
		n, err := strconv.Atoi(fields[i+1])
		return int32(n), err
	}
	for i := 0; i < len(fields); i++ {
		on := !strings.HasPrefix(fields[i], "--no-")
		switch name := strings.TrimPrefix(strings.TrimPrefix(fields[i], "--no-"), "--"); name {
		case "minimum-password-length", "password-reuse-prevention", "max-password-age":
			n, err := number(i)
			if err != nil {
				return nil, nil, err
			}
			i++
			switch name {
			case "minimum-password-length":
				in.MinimumPasswordLength, p.MinimumPasswordLength = aws.Int32(n), n
			case "password-reuse-prevention":
				in.PasswordReusePrevention, p.PasswordReusePrevention = aws.Int32(n), n
			default:
				in.MaxPasswordAge, p.MaxPasswordAge = aws.Int32(n), n
			}
		case "require-symbols":
			in.RequireSymbols, p.RequireSymbols = on, on
		case "require-numbers":
			in.RequireNumbers, p.RequireNumbers = on, on
		case "require-uppercase-characters":
			in.RequireUppercaseCharacters, p.RequireUppercaseCharacters = on, on
		case "require-lowercase-characters":
			in.RequireLowercaseCharacters, p.RequireLowercaseCharacters = on, on
		case "allow-users-to-change-password":
			in.AllowUsersToChangePassword, p.AllowUsersToChangePassword = on, on
		case "hard-expiry":
			in.HardExpiry, p.HardExpiry = aws.Bool(on), on
		default:
			return nil, nil, fmt.Errorf("unexpected password policy flag %s", fields[i])
		}
	}
	return in, p, nil
}

func planPasswordPolicy(pc *planContext, f *checks.Finding) (*Change, string) {
	minLen, reuse := pc.cfg.Params.PasswordMinLength, pc.cfg.Params.PasswordReusePrevention
	cur := pc.snap.Account.PasswordPolicy
	// A policy with settings the snapshot does not record is refused here, as its printed command is.
	flags, err := checks.PasswordPolicyFlags(cur, minLen, reuse)
	if err != nil {
		return nil, err.Error()
	}
	_, want, err := passwordPolicyInput(flags)
	if err != nil {
		return nil, err.Error()
	}
	return &Change{
		Target:      "arn:" + pc.partition + ":iam::" + pc.snap.Account.ID + ":account-password-policy",
		Description: fmt.Sprintf("Raise the password policy to at least %d characters and %d remembered passwords, keeping every stricter current setting.", minLen, reuse),
		Before:      passwordPolicyJSON(cur), After: passwordPolicyJSON(want),
		APICalls: []string{"iam:UpdateAccountPasswordPolicy"},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.IAM()
			ex := &execution{}
			live := &checks.PasswordPolicy{}
			out, err := api.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
			switch {
			case awsclient.IsCode(err, "NoSuchEntity"):
			case err != nil:
				return ex, fmt.Errorf("get account password policy: %w", err)
			case out.PasswordPolicy != nil:
				live = awsconv.PasswordPolicy(out.PasswordPolicy)
			}
			ex.Before = passwordPolicyJSON(live)
			if live.Exists && int(live.MinimumPasswordLength) >= minLen && int(live.PasswordReusePrevention) >= reuse {
				ex.After = ex.Before
				return ex, nil
			}
			// The update replaces the whole policy: a live setting coffer cannot write back makes
			// PasswordPolicyFlags refuse, and nothing is changed.
			flags, err := checks.PasswordPolicyFlags(live, minLen, reuse)
			if err != nil {
				return ex, preconditionf("build password policy: %v", err)
			}
			in, want, err := passwordPolicyInput(flags)
			if err != nil {
				return ex, preconditionf("build password policy: %v", err)
			}
			ex.call("iam:UpdateAccountPasswordPolicy")
			if _, err := api.UpdateAccountPasswordPolicy(ctx, in); err != nil {
				ex.After = ex.Before
				return ex, fmt.Errorf("update account password policy: %w", err)
			}
			ex.After = passwordPolicyJSON(want)
			return ex, nil
		},
	}, ""
}

// --- principals -------------------------------------------------------------------------------

func principalKind(f *checks.Finding) string {
	if k := varString(f, "principal_kind"); k != "" {
		return k
	}
	switch f.Resource.Type {
	case "AWS::IAM::User":
		return "user"
	case "AWS::IAM::Group":
		return "group"
	case "AWS::IAM::Role":
		return "role"
	}
	return ""
}

// attachedPolicies lists the managed policies attached to a principal.
func attachedPolicies(ctx context.Context, api IAMAPI, kind, name string) ([]string, error) {
	var out []string
	var marker *string
	for {
		var list []iamtypes.AttachedPolicy
		var truncated bool
		var next *string
		switch kind {
		case "user":
			page, err := api.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: &name, Marker: marker})
			if err != nil {
				return nil, err
			}
			list, truncated, next = page.AttachedPolicies, page.IsTruncated, page.Marker
		case "group":
			page, err := api.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: &name, Marker: marker})
			if err != nil {
				return nil, err
			}
			list, truncated, next = page.AttachedPolicies, page.IsTruncated, page.Marker
		case "role":
			page, err := api.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &name, Marker: marker})
			if err != nil {
				return nil, err
			}
			list, truncated, next = page.AttachedPolicies, page.IsTruncated, page.Marker
		default:
			return nil, fmt.Errorf("unknown principal kind %q", kind)
		}
		for _, p := range list {
			out = append(out, aws.ToString(p.PolicyArn))
		}
		if !truncated || next == nil {
			slices.Sort(out)
			return out, nil
		}
		marker = next
	}
}

func detachPolicy(ctx context.Context, api IAMAPI, kind, name, arn string) error {
	var err error
	switch kind {
	case "user":
		_, err = api.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: &name, PolicyArn: &arn})
	case "group":
		_, err = api.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: &name, PolicyArn: &arn})
	case "role":
		_, err = api.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &name, PolicyArn: &arn})
	default:
		err = fmt.Errorf("unknown principal kind %q", kind)
	}
	return err
}

func planDetachFullAccess(pc *planContext, f *checks.Finding) (*Change, string) {
	kind, name := principalKind(f), f.Resource.Name
	if kind == "" {
		return nil, "the finding does not say whether " + name + " is a user, group or role"
	}
	if isCaller(pc.snap, kind, f.Resource.ARN, name) {
		return nil, "coffer runs as this " + kind + "; detaching its S3 access could cut coffer off mid-run, do it by hand"
	}
	fullAccess := "arn:" + pc.partition + ":iam::aws:policy/AmazonS3FullAccess"
	var detach, others []string
	for _, arn := range varStrings(f, "policy_arns") {
		if arn == fullAccess {
			detach = append(detach, arn)
		} else {
			others = append(others, arn)
		}
	}
	var left []string
	if len(others) > 0 {
		// A customer policy allowing s3:* or * usually grants much more than S3; detaching it
		// would take away unrelated access, which is not this check's call to make.
		left = append(left, fmt.Sprintf("policies %s also grant full S3 access and are left attached (they may grant more than S3); narrow or detach them by hand", strings.Join(others, ", ")))
	}
	if inline := varStrings(f, "inline_policy_names"); len(inline) > 0 {
		left = append(left, fmt.Sprintf("inline policies %s grant full S3 access; coffer never deletes policies, replace them by hand", strings.Join(inline, ", ")))
	}
	if len(detach) == 0 {
		if len(left) == 0 {
			return nil, "no attached AmazonS3FullAccess to detach"
		}
		return nil, strings.Join(left, "; ")
	}
	before := attachedFromSnapshot(pc.snap, kind, f.Resource.ARN)
	after := slices.DeleteFunc(slices.Clone(before), func(a string) bool { return slices.Contains(detach, a) })
	var commands []string
	for _, arn := range detach {
		commands = append(commands, shellcmd.Command("aws", "iam", "detach-"+kind+"-policy", "--"+kind+"-name", name, "--policy-arn", arn))
	}
	return &Change{
		Description: fmt.Sprintf("Detach %s from %s %s (a detach: the policy itself stays; re-attach with attach-%s-policy).", strings.Join(detach, ", "), kind, name, kind),
		Before:      map[string]any{"AttachedPolicies": before}, After: map[string]any{"AttachedPolicies": after},
		APICalls:    []string{fmt.Sprintf("iam:Detach%sPolicy", titleCase(kind))},
		Commands:    commands,
		Notes:       left,
		ownCommands: true,
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.IAM()
			ex := &execution{}
			live, err := attachedPolicies(ctx, api, kind, name)
			if err != nil {
				return ex, fmt.Errorf("list policies attached to %s %s: %w", kind, name, err)
			}
			ex.Before = map[string]any{"AttachedPolicies": live}
			remaining := slices.Clone(live)
			var errs []error
			for _, arn := range detach {
				if !slices.Contains(live, arn) {
					continue
				}
				ex.call(fmt.Sprintf("iam:Detach%sPolicy", titleCase(kind)))
				if err := detachPolicy(ctx, api, kind, name, arn); err != nil {
					errs = append(errs, fmt.Errorf("detach %s from %s %s: %w", arn, kind, name, err))
					continue
				}
				remaining = slices.DeleteFunc(remaining, func(a string) bool { return a == arn })
			}
			ex.After = map[string]any{"AttachedPolicies": remaining}
			return ex, errors.Join(errs...)
		},
	}, strings.Join(left, "; ")
}

func attachedFromSnapshot(snap *checks.Snapshot, kind, arn string) []string {
	var list []checks.AttachedPolicy
	switch kind {
	case "user":
		for _, u := range snap.IAM.Users {
			if u.ARN == arn {
				list = u.AttachedPolicies
			}
		}
	case "group":
		for _, g := range snap.IAM.Groups {
			if g.ARN == arn {
				list = g.AttachedPolicies
			}
		}
	case "role":
		for _, r := range snap.IAM.Roles {
			if r.ARN == arn {
				list = r.AttachedPolicies
			}
		}
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, a.ARN)
	}
	slices.Sort(out)
	return out
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// --- access keys --------------------------------------------------------------------------------

type accessKeyJSON struct {
	AccessKeyId string
	Status      string
}

func planDeactivateKeys(pc *planContext, f *checks.Finding) (*Change, string) {
	name := f.Resource.Name
	keys := varStrings(f, "access_key_ids")
	var left []string
	if unused, _ := f.Vars["password_unused"].(bool); unused {
		left = append(left, "the unused console password stays (removing it deletes the login profile, which coffer never does): "+shellcmd.Command("aws", "iam", "delete-login-profile", "--user-name", name))
	}
	if len(keys) == 0 {
		if len(left) == 0 {
			return nil, "no unused access key to deactivate"
		}
		return nil, strings.Join(left, "; ")
	}
	if isCaller(pc.snap, "user", f.Resource.ARN, name) {
		return nil, "this is the user coffer runs as; deactivating its keys could cut coffer off mid-run, do it by hand"
	}
	var before, after []accessKeyJSON
	for _, u := range pc.snap.IAM.Users {
		if u.ARN != f.Resource.ARN {
			continue
		}
		for _, k := range u.AccessKeys {
			before = append(before, accessKeyJSON{k.ID, k.Status})
			st := k.Status
			if slices.Contains(keys, k.ID) {
				st = "Inactive"
			}
			after = append(after, accessKeyJSON{k.ID, st})
		}
	}
	var commands []string
	for _, id := range keys {
		commands = append(commands, shellcmd.Command("aws", "iam", "update-access-key", "--user-name", name, "--access-key-id", id, "--status", "Inactive"))
	}
	return &Change{
		Description: fmt.Sprintf("Deactivate unused access keys %s of user %s (not deleted: reactivate with --status Active).", strings.Join(keys, ", "), name),
		Before:      before, After: after,
		APICalls:    []string{"iam:UpdateAccessKey"},
		Commands:    commands,
		Notes:       left,
		ownCommands: true,
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.IAM()
			ex := &execution{}
			var live []accessKeyJSON
			p := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: &name})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return ex, fmt.Errorf("list access keys of %s: %w", name, err)
				}
				for _, k := range page.AccessKeyMetadata {
					live = append(live, accessKeyJSON{aws.ToString(k.AccessKeyId), string(k.Status)})
				}
			}
			ex.Before = live
			out := slices.Clone(live)
			var errs []error
			for i, k := range live {
				if !slices.Contains(keys, k.AccessKeyId) || k.Status != string(iamtypes.StatusTypeActive) {
					continue
				}
				ex.call("iam:UpdateAccessKey")
				_, err := api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: &name, AccessKeyId: aws.String(k.AccessKeyId), Status: iamtypes.StatusTypeInactive})
				if err != nil {
					errs = append(errs, fmt.Errorf("deactivate access key %s of %s: %w", k.AccessKeyId, name, err))
					continue
				}
				out[i].Status = string(iamtypes.StatusTypeInactive)
			}
			ex.After = out
			return ex, errors.Join(errs...)
		},
	}, strings.Join(left, "; ")
}

// --- role trust ---------------------------------------------------------------------------------

func planTrustMFA(pc *planContext, f *checks.Finding) (*Change, string) {
	name := f.Resource.Name
	var role *checks.Role
	for i := range pc.snap.IAM.Roles {
		if pc.snap.IAM.Roles[i].ARN == f.Resource.ARN {
			role = &pc.snap.IAM.Roles[i]
		}
	}
	if role == nil {
		return nil, "role " + name + " is not in the snapshot"
	}
	if role.TrustPolicy.ParseError != "" {
		return nil, "the trust policy could not be parsed (" + role.TrustPolicy.ParseError + "); coffer will not rewrite a policy it cannot read"
	}
	// A trust policy the merge cannot carry over exactly (duplicate keys…) is refused here, so
	// the finding is listed as not fixed with the reason instead of becoming a change.
	after, err := checks.MFATrustPolicy(role.ARN, role.TrustPolicy.Text)
	if err != nil {
		return nil, err.Error()
	}
	return &Change{
		Description: "Require aws:MultiFactorAuthPresent on every Allow that lets an AWS principal assume the role; other statements and conditions are kept. Callers must then assume it with MFA.",
		Before:      parseJSON(checks.DecodePolicyText(role.TrustPolicy.Text)), After: parseJSON(after),
		APICalls: []string{"iam:UpdateAssumeRolePolicy"},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.IAM()
			ex := &execution{}
			out, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
			if err != nil {
				return ex, fmt.Errorf("get role %s: %w", name, err)
			}
			live := checks.DecodePolicyText(aws.ToString(out.Role.AssumeRolePolicyDocument))
			ex.Before = parseJSON(live)
			merged, err := checks.MFATrustPolicy(role.ARN, live)
			if err != nil {
				return refusedMerge(ex, live, fmt.Sprintf("merge MFA condition into trust policy of %s", name), err)
			}
			if sameJSON(merged, live) {
				ex.After = ex.Before
				return ex, nil
			}
			ex.call("iam:UpdateAssumeRolePolicy")
			if _, err := api.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &name, PolicyDocument: aws.String(merged)}); err != nil {
				ex.After = ex.Before
				return ex, fmt.Errorf("update trust policy of %s: %w", name, err)
			}
			ex.After = parseJSON(merged)
			return ex, nil
		},
	}, ""
}

// isCaller reports whether the principal is the identity coffer runs as: the user itself, or the
// role behind an assumed-role session (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION).
func isCaller(snap *checks.Snapshot, kind, arn, name string) bool {
	caller := snap.Account.CallerARN
	switch kind {
	case "user":
		return caller == arn
	case "role":
		_, rest, ok := strings.Cut(caller, ":assumed-role/")
		role, _, _ := strings.Cut(rest, "/")
		return ok && role == name
	}
	return false
}
