package fix_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks/fix"
)

// iamActionOf maps every method of the fixer's client interfaces to the IAM action it needs
// (several S3 API names differ from their IAM action).
var iamActionOf = map[string]string{
	"S3API.GetPublicAccessBlock":            "s3:GetBucketPublicAccessBlock",
	"S3API.PutPublicAccessBlock":            "s3:PutBucketPublicAccessBlock",
	"S3API.GetBucketVersioning":             "s3:GetBucketVersioning",
	"S3API.PutBucketVersioning":             "s3:PutBucketVersioning",
	"S3API.GetObjectLockConfiguration":      "s3:GetBucketObjectLockConfiguration",
	"S3API.PutObjectLockConfiguration":      "s3:PutBucketObjectLockConfiguration",
	"S3API.GetBucketOwnershipControls":      "s3:GetBucketOwnershipControls",
	"S3API.PutBucketOwnershipControls":      "s3:PutBucketOwnershipControls",
	"S3API.GetBucketEncryption":             "s3:GetEncryptionConfiguration",
	"S3API.PutBucketEncryption":             "s3:PutEncryptionConfiguration",
	"S3API.GetBucketPolicy":                 "s3:GetBucketPolicy",
	"S3API.PutBucketPolicy":                 "s3:PutBucketPolicy",
	"S3API.GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
	"S3API.PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
	"S3API.GetBucketLogging":                "s3:GetBucketLogging",
	"S3API.PutBucketLogging":                "s3:PutBucketLogging",
	"S3ControlAPI.GetPublicAccessBlock":     "s3:GetAccountPublicAccessBlock",
	"S3ControlAPI.PutPublicAccessBlock":     "s3:PutAccountPublicAccessBlock",
	"IAMAPI.GetAccountPasswordPolicy":       "iam:GetAccountPasswordPolicy",
	"IAMAPI.UpdateAccountPasswordPolicy":    "iam:UpdateAccountPasswordPolicy",
	"IAMAPI.GetRole":                        "iam:GetRole",
	"IAMAPI.UpdateAssumeRolePolicy":         "iam:UpdateAssumeRolePolicy",
	"IAMAPI.ListAttachedUserPolicies":       "iam:ListAttachedUserPolicies",
	"IAMAPI.ListAttachedGroupPolicies":      "iam:ListAttachedGroupPolicies",
	"IAMAPI.ListAttachedRolePolicies":       "iam:ListAttachedRolePolicies",
	"IAMAPI.DetachUserPolicy":               "iam:DetachUserPolicy",
	"IAMAPI.DetachGroupPolicy":              "iam:DetachGroupPolicy",
	"IAMAPI.DetachRolePolicy":               "iam:DetachRolePolicy",
	"IAMAPI.ListAccessKeys":                 "iam:ListAccessKeys",
	"IAMAPI.UpdateAccessKey":                "iam:UpdateAccessKey",
	"KMSAPI.DescribeKey":                    "kms:DescribeKey",
	"KMSAPI.CancelKeyDeletion":              "kms:CancelKeyDeletion",
	"KMSAPI.EnableKey":                      "kms:EnableKey",
	"KMSAPI.GetKeyRotationStatus":           "kms:GetKeyRotationStatus",
	"KMSAPI.EnableKeyRotation":              "kms:EnableKeyRotation",
	"CloudTrailAPI.GetTrail":                "cloudtrail:GetTrail",
	"CloudTrailAPI.GetTrailStatus":          "cloudtrail:GetTrailStatus",
	"CloudTrailAPI.GetEventSelectors":       "cloudtrail:GetEventSelectors",
	"CloudTrailAPI.UpdateTrail":             "cloudtrail:UpdateTrail",
	"CloudTrailAPI.StartLogging":            "cloudtrail:StartLogging",
	"CloudTrailAPI.PutEventSelectors":       "cloudtrail:PutEventSelectors",
}

// TestFixPolicyMatchesTheClients: docs/iam/coffer-fix-policy.json grants exactly the actions of
// the calls the fixers can make (their client interfaces), and detaching is limited to
// AmazonS3FullAccess.
func TestFixPolicyMatchesTheClients(t *testing.T) {
	var doc struct {
		Statement []struct {
			Sid       string
			Effect    string
			Action    []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal(readFile(t, "../../docs/iam/coffer-fix-policy.json"), &doc); err != nil {
		t.Fatal(err)
	}
	var granted []string
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			t.Errorf("statement %s is not an Allow", s.Sid)
		}
		granted = append(granted, s.Action...)
		for _, a := range s.Action {
			if slices.Contains([]string{"iam:DetachUserPolicy", "iam:DetachGroupPolicy", "iam:DetachRolePolicy"}, a) &&
				s.Condition["ArnEquals"]["iam:PolicyARN"] != "arn:aws:iam::aws:policy/AmazonS3FullAccess" {
				t.Errorf("%s is not limited to AmazonS3FullAccess", a)
			}
		}
	}
	var needed []string
	for name, api := range map[string]any{
		"S3API": (*fix.S3API)(nil), "S3ControlAPI": (*fix.S3ControlAPI)(nil), "IAMAPI": (*fix.IAMAPI)(nil),
		"KMSAPI": (*fix.KMSAPI)(nil), "CloudTrailAPI": (*fix.CloudTrailAPI)(nil),
	} {
		for _, m := range methods(api) {
			action, ok := iamActionOf[name+"."+m]
			if !ok {
				t.Errorf("%s.%s has no IAM action in iamActionOf: add it here and to the policy", name, m)
				continue
			}
			needed = append(needed, action)
		}
	}
	slices.Sort(granted)
	slices.Sort(needed)
	if diff := cmp.Diff(slices.Compact(needed), granted); diff != "" {
		t.Errorf("coffer-fix-policy.json actions (-needed +granted):\n%s", diff)
	}
}
