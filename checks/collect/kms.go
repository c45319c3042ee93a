package collect

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/coffer-audit/coffer/checks"
)

// kmsAPI is the part of KMS the collector uses.
type kmsAPI interface {
	ListKeys(ctx context.Context, in *kms.ListKeysInput, optFns ...func(*kms.Options)) (*kms.ListKeysOutput, error)
	ListAliases(ctx context.Context, in *kms.ListAliasesInput, optFns ...func(*kms.Options)) (*kms.ListAliasesOutput, error)
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetKeyRotationStatus(ctx context.Context, in *kms.GetKeyRotationStatusInput, optFns ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error)
	GetKeyPolicy(ctx context.Context, in *kms.GetKeyPolicyInput, optFns ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

var _ kmsAPI = (*kms.Client)(nil)

// collectKMS reads the keys of every region; keys come back sorted by ARN.
func (c *collector) collectKMS(ctx context.Context, regions []string) checks.KMS {
	perRegion := inEachRegion(c, regions, func(region string) []checks.Key { return c.regionKeys(ctx, region) })
	keys := []checks.Key{}
	for _, ks := range perRegion {
		keys = append(keys, ks...)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ARN < keys[j].ARN })
	return checks.KMS{Keys: keys}
}

// regionKeys lists the keys and aliases of one region, then describes each key on a bounded pool.
func (c *collector) regionKeys(ctx context.Context, region string) []checks.Key {
	var api kmsAPI = c.kmsFor(region)
	fail := func(op, resource string, err error) { c.fail(ctx, "kms", op, resource, region, err) }

	aliases := map[string][]string{} // key id → alias names
	ap := kms.NewListAliasesPaginator(api, &kms.ListAliasesInput{})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			fail("ListAliases", "", err)
			aliases = nil
			break
		}
		for _, a := range page.Aliases {
			if id := aws.ToString(a.TargetKeyId); id != "" {
				aliases[id] = append(aliases[id], aws.ToString(a.AliasName))
			}
		}
	}

	var listed []types.KeyListEntry
	kp := kms.NewListKeysPaginator(api, &kms.ListKeysInput{})
	for kp.HasMorePages() {
		page, err := kp.NextPage(ctx)
		if err != nil {
			fail("ListKeys", "", err)
			break
		}
		listed = append(listed, page.Keys...)
	}

	keys := make([]checks.Key, len(listed))
	c.prog.add(len(listed))
	forEach(ctx, len(listed), c.opts.Concurrency, func(ctx context.Context, i int) {
		defer c.prog.step()
		keys[i] = c.describeKey(ctx, api, region, listed[i], aliases, fail)
	})
	return keys
}

// describeKey reads one key. Rotation is asked only of enabled customer-managed symmetric keys
// (the only ones where it applies); elsewhere RotationEnabled stays nil.
func (c *collector) describeKey(ctx context.Context, api kmsAPI, region string, entry types.KeyListEntry,
	aliases map[string][]string, fail func(op, resource string, err error)) checks.Key {
	k := checks.Key{
		ID:     aws.ToString(entry.KeyId),
		ARN:    aws.ToString(entry.KeyArn),
		Region: region,
	}
	if aliases != nil {
		k.Aliases = append([]string{}, aliases[k.ID]...)
		sort.Strings(k.Aliases)
	}
	id := aws.String(k.ID)
	out, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	if err != nil {
		fail("DescribeKey", k.ARN, err)
	} else if m := out.KeyMetadata; m != nil {
		if a := aws.ToString(m.Arn); a != "" {
			k.ARN = a
		}
		k.State = string(m.KeyState)
		k.Manager = string(m.KeyManager)
		k.Spec = string(m.KeySpec)
		k.Usage = string(m.KeyUsage)
		if k.Usage == "" && m.KeySpec == types.KeySpecSymmetricDefault {
			// SYMMETRIC_DEFAULT keys can only encrypt and decrypt; moto leaves KeyUsage out when
			// the key was created without it.
			k.Usage = string(types.KeyUsageTypeEncryptDecrypt)
		}
		k.Origin = string(m.Origin)
		k.Description = aws.ToString(m.Description)
		k.DeletionDate = utcTime(m.DeletionDate)
		if m.KeyManager == types.KeyManagerTypeCustomer && m.KeySpec == types.KeySpecSymmetricDefault && m.KeyState == types.KeyStateEnabled {
			rot, err := api.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
			if err != nil {
				fail("GetKeyRotationStatus", k.ARN, err)
			} else {
				enabled := rot.KeyRotationEnabled
				k.RotationEnabled = &enabled
			}
		}
	}
	// "default" is the only key policy name KMS has; moto requires it spelled out.
	pol, err := api.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: id, PolicyName: aws.String("default")})
	if err != nil {
		fail("GetKeyPolicy", k.ARN, err)
	} else {
		p := checks.ParsePolicy(aws.ToString(pol.Policy))
		k.Policy = &p
	}
	return k
}
