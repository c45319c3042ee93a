package fix

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/shellcmd"
)

type keyStateJSON struct {
	KeyState string
}

type rotationJSON struct {
	KeyRotationEnabled bool
}

// keyRef is how the fixers name a key: its id (the resource name of a key finding), which the
// regional client resolves; moto's ScheduleKeyDeletion family fails on ARNs. The ARN is the
// fallback.
func keyRef(f *checks.Finding) string {
	if f.Resource.Name != "" && !strings.HasPrefix(f.Resource.Name, "arn:") {
		return f.Resource.Name
	}
	return f.Resource.ARN
}

func planKeyRotation(pc *planContext, f *checks.Finding) (*Change, string) {
	ref, region := keyRef(f), f.Resource.Region
	return &Change{
		Description: "Turn on automatic yearly rotation of the key material (old material is kept, so existing data stays readable).",
		Before:      rotationJSON{false}, After: rotationJSON{true},
		APICalls: []string{"kms:EnableKeyRotation"},
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.KMS(region)
			ex := &execution{}
			out, err := api.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: &ref})
			if err != nil {
				return ex, fmt.Errorf("get rotation status of key %s: %w", ref, err)
			}
			ex.Before = rotationJSON{out.KeyRotationEnabled}
			if out.KeyRotationEnabled {
				ex.After = ex.Before
				return ex, nil
			}
			ex.call("kms:EnableKeyRotation")
			if _, err := api.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: &ref}); err != nil {
				ex.After = ex.Before
				return ex, fmt.Errorf("enable rotation of key %s: %w", ref, err)
			}
			ex.After = rotationJSON{true}
			return ex, nil
		},
	}, ""
}

func planKeyHealthy(pc *planContext, f *checks.Finding) (*Change, string) {
	ref, region := keyRef(f), f.Resource.Region
	k := pc.keys.byARN[f.Resource.ARN]
	if k == nil || varString(f, "state") == "Missing" {
		return nil, "the key is not in the snapshot (deleted, in another account, or unreadable); a deleted key cannot be recovered: point the bucket or trail at a key that exists"
	}
	var before any
	calls := []string{"kms:EnableKey"}
	desc := "Enable the key, which backups or trails use."
	{
		before = keyStateJSON{k.State}
		switch k.State {
		case "PendingDeletion":
			calls = []string{"kms:CancelKeyDeletion", "kms:EnableKey"}
			desc = "Cancel the scheduled deletion of the key, which backups or trails use, then enable it."
		case "Disabled", "Enabled":
		default:
			return nil, fmt.Sprintf("key state %s cannot be changed to Enabled by coffer", k.State)
		}
	}
	var commands []string
	if k.State == "PendingDeletion" {
		commands = append(commands, shellcmd.Command("aws", "kms", "cancel-key-deletion", "--key-id", ref, "--region", region))
	}
	commands = append(commands, shellcmd.Command("aws", "kms", "enable-key", "--key-id", ref, "--region", region))
	return &Change{
		Description: desc,
		Before:      before, After: keyStateJSON{"Enabled"},
		APICalls: calls, Commands: commands,
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.KMS(region)
			ex := &execution{}
			out, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &ref})
			if err != nil {
				return ex, fmt.Errorf("describe key %s: %w", ref, err)
			}
			state := out.KeyMetadata.KeyState
			ex.Before = keyStateJSON{string(state)}
			ex.After = ex.Before
			switch state {
			case kmstypes.KeyStateEnabled:
				return ex, nil
			case kmstypes.KeyStatePendingDeletion:
				ex.call("kms:CancelKeyDeletion")
				if _, err := api.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: &ref}); err != nil {
					return ex, fmt.Errorf("cancel deletion of key %s: %w", ref, err)
				}
				// A cancelled deletion leaves the key Disabled.
				ex.After = keyStateJSON{string(kmstypes.KeyStateDisabled)}
			case kmstypes.KeyStateDisabled:
			default:
				return ex, preconditionf("key %s is %s, which coffer cannot change to Enabled", ref, state)
			}
			ex.call("kms:EnableKey")
			if _, err := api.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(ref)}); err != nil {
				return ex, fmt.Errorf("enable key %s: %w", ref, err)
			}
			ex.After = keyStateJSON{string(kmstypes.KeyStateEnabled)}
			return ex, nil
		},
	}, ""
}
