package awsclient_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
)

// TestMain stops the package's shared moto_server after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

// TestLoadConfigMFAProfile uses a shared-config profile with role_arn and mfa_serial: the token
// provider from Options must be asked for the code, and calls run as the role.
func TestLoadConfigMFAProfile(t *testing.T) {
	ctx := context.Background()
	srv := motoserver.Shared(t)
	srv.Reset(t)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	credFile := filepath.Join(dir, "credentials")
	writeFile(t, credFile, "[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
	writeFile(t, cfgFile, "[profile base]\nregion = us-east-1\n\n[profile backup-admin]\n"+
		"role_arn = arn:aws:iam::123456789012:role/BackupOperator\nsource_profile = base\n"+
		"mfa_serial = arn:aws:iam::123456789012:mfa/alice\nregion = eu-west-1\n")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credFile)

	asked := 0
	opts := srv.Options().Options
	opts.Region = ""
	opts.Profile = "backup-admin"
	opts.MFATokenProvider = func() (string, error) { asked++; return "123456", nil }
	cfg, err := awsclient.LoadConfig(ctx, opts)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region from profile = %q, want eu-west-1", cfg.Region)
	}
	id, err := awsclient.NewSTS(cfg, opts).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity as the role: %v", err)
	}
	if asked != 1 {
		t.Errorf("MFA token provider asked %d times, want 1", asked)
	}
	if arn := aws.ToString(id.Arn); !strings.Contains(arn, ":assumed-role/BackupOperator/") {
		t.Errorf("caller = %s, want the assumed role", arn)
	}

	t.Run("missing profile", func(t *testing.T) {
		opts.Profile = "nope"
		if _, err := awsclient.LoadConfig(ctx, opts); err == nil || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("err = %v, want one naming the profile", err)
		}
	})
	t.Run("default region", func(t *testing.T) {
		opts.Profile = "base"
		cfg, err := awsclient.LoadConfig(ctx, opts)
		if err != nil || cfg.Region != "us-east-1" {
			t.Errorf("region = %q, err %v", cfg.Region, err)
		}
	})
	t.Run("bad endpoint", func(t *testing.T) {
		opts.Profile = "base"
		opts.EndpointURL = "localhost:4566"
		if _, err := awsclient.LoadConfig(ctx, opts); err == nil || !strings.Contains(err.Error(), "localhost:4566") {
			t.Errorf("err = %v, want an endpoint URL error", err)
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
