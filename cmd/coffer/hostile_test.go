package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/shellcmd/shelltest"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
)

// TestPrintedCommandsRunNothingFromTheAccount seeds an account whose names carry shell payloads —
// as someone who may only create IAM policies or write bucket settings could — scans it, and runs
// every printed command with bash and sh against a stub `aws` that records its arguments. No
// payload may run, and each command must reach aws with exactly the words a shell parser reads.
func TestPrintedCommandsRunNothingFromTheAccount(t *testing.T) {
	srv := motoserver.Shared(t)
	srv.Reset(t)
	ctx := context.Background()
	cfg := srv.AWSConfig(t, "us-east-1")
	canaries := t.TempDir()
	// Each payload creates its own canary file if a shell ever evaluates it.
	payload := func(name string) string { return "$(touch${IFS}" + filepath.Join(canaries, name) + ")" }
	backtick := func(name string) string { return "`touch${IFS}" + filepath.Join(canaries, name) + "`" }

	iamc := iam.NewFromConfig(cfg)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	_, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev")})
	must("user", err)
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	for i, path := range []string{"/" + payload("policy-path") + "/", "/" + backtick("policy-path-backtick") + "/", "/a;b|c&d'e\"f/"} {
		out, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName: aws.String("AdminPol" + string(rune('A'+i))), Path: aws.String(path), PolicyDocument: aws.String(admin),
		})
		must("policy with path "+path, err)
		_, err = iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("dev"), PolicyArn: out.Policy.Arn})
		must("attach", err)
	}
	_, err = iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("inline" + payload("inline-name")), PolicyDocument: aws.String(admin)})
	must("inline policy", err)

	s3c := awsclient.NewS3(cfg, "us-east-1", srv.Options().Options)
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vault-primary")})
	must("bucket", err)
	_, err = s3c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("vault-primary"),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(payload("kms-key-ref"))},
		}}}})
	must("bucket encryption", err)
	_, err = s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("vault-primary"),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("keep'" + payload("lifecycle-id") + "'"), Status: s3types.ExpirationStatusEnabled,
			Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String(backtick("lifecycle-prefix") + "/")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(3650)},
		}}}})
	must("lifecycle", err)
	_, err = s3c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("vault-primary"),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("owner"), Value: aws.String("'; " + payload("tag") + "; '")}}}})
	must("tags", err)

	useMotoCredentials(t)
	report, _ := scanJSON(t, "--endpoint-url", srv.URL, "--region", "us-east-1", "--regions", "us-east-1", "--quiet")

	// The stub aws writes each argument followed by a NUL, one file per call.
	stubDir, calls := t.TempDir(), t.TempDir()
	stub := "#!/bin/sh\nn=$(ls " + calls + " | wc -l)\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > " + calls + "/$n\n"
	if err := os.WriteFile(filepath.Join(stubDir, "aws"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}

	hostileCommands := 0
	for _, f := range report.Findings {
		if f.Status != checks.StatusFail && f.Status != checks.StatusWaived {
			continue
		}
		for _, cmd := range f.Remediation.Commands {
			if strings.HasPrefix(cmd, "#") {
				if !shelltest.IsComment(cmd) {
					t.Errorf("%s: note %q is not a comment", f.CheckID, cmd)
				}
				continue
			}
			if strings.Contains(cmd, "touch") {
				hostileCommands++
			}
			// Run it even when the parser objects: the canaries then show what a shell would do.
			parsed, parseErr := shelltest.Parse(cmd)
			if parseErr != nil {
				t.Errorf("%s: %q: %v", f.CheckID, cmd, parseErr)
			}
			for _, shell := range []string{"bash", "sh"} {
				got := runWithStub(t, shell, cmd, stubDir, calls)
				if parseErr == nil && !slices.Equal(got, parsed.Argv[1:]) {
					t.Errorf("%s: %s ran %q\n  aws got %q\n  want    %q", f.CheckID, shell, cmd, got, parsed.Argv[1:])
				}
			}
		}
	}
	entries, err := os.ReadDir(canaries)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("a printed command ran the payload that creates %s", e.Name())
	}
	// The payloads must have reached printed commands (as inert text), or this proves nothing.
	if hostileCommands < 4 {
		t.Fatalf("only %d printed commands carry a payload; the seeding no longer reaches the commands", hostileCommands)
	}
	t.Logf("%d printed commands carried a payload, none ran it", hostileCommands)
}

// runWithStub runs cmd with shell in a scratch folder, with the stub first on PATH, and returns the
// arguments the stub received.
func runWithStub(t *testing.T, shell, cmd, stubDir, calls string) []string {
	t.Helper()
	c := exec.Command(shell, "-c", cmd)
	c.Dir = t.TempDir()
	c.Env = []string{"PATH=" + stubDir + ":/usr/bin:/bin", "HOME=" + c.Dir}
	if out, err := c.CombinedOutput(); err != nil {
		t.Errorf("%s -c %q: %v\n%s", shell, cmd, err, out)
	}
	entries, err := os.ReadDir(calls)
	if err != nil || len(entries) != 1 {
		t.Errorf("%s -c %q: the stub aws was called %d times, want once (%v)", shell, cmd, len(entries), err)
		for _, e := range entries {
			_ = os.Remove(filepath.Join(calls, e.Name()))
		}
		return nil
	}
	path := filepath.Join(calls, entries[0].Name())
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	args := strings.Split(string(bytes.TrimSuffix(data, []byte{0})), "\x00")
	if len(data) == 0 {
		args = nil
	}
	return args
}
