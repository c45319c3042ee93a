package collect

import (
	"context"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/awsconv"
)

// s3API is the part of S3 the collector uses.
type s3API interface {
	ListBuckets(ctx context.Context, in *s3.ListBucketsInput, optFns ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
	GetBucketLocation(ctx context.Context, in *s3.GetBucketLocationInput, optFns ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error)
	GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, optFns ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetObjectLockConfiguration(ctx context.Context, in *s3.GetObjectLockConfigurationInput, optFns ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error)
	GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, optFns ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	GetBucketLifecycleConfiguration(ctx context.Context, in *s3.GetBucketLifecycleConfigurationInput, optFns ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
	GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	GetBucketAcl(ctx context.Context, in *s3.GetBucketAclInput, optFns ...func(*s3.Options)) (*s3.GetBucketAclOutput, error)
	GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
	GetBucketLogging(ctx context.Context, in *s3.GetBucketLoggingInput, optFns ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error)
	GetBucketReplication(ctx context.Context, in *s3.GetBucketReplicationInput, optFns ...func(*s3.Options)) (*s3.GetBucketReplicationOutput, error)
}

var _ s3API = (*s3.Client)(nil)

// collectS3 lists the buckets from the home region and reads each one from its own region on a
// bounded worker pool. Buckets come back sorted by name.
func (c *collector) collectS3(ctx context.Context) checks.S3 {
	c.prog.add(1)
	defer c.prog.step()
	var home s3API = c.s3For(c.home)
	var listed []types.Bucket
	p := s3.NewListBucketsPaginator(home, &s3.ListBucketsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail(ctx, "s3", "ListBuckets", "", c.home, err)
			break
		}
		listed = append(listed, page.Buckets...)
	}
	sort.Slice(listed, func(i, j int) bool { return aws.ToString(listed[i].Name) < aws.ToString(listed[j].Name) })

	buckets := make([]checks.Bucket, len(listed))
	c.prog.add(len(listed))
	forEach(ctx, len(listed), c.opts.Concurrency, func(ctx context.Context, i int) {
		defer c.prog.step()
		buckets[i] = c.collectBucket(ctx, home, listed[i])
	})
	return checks.S3{Buckets: buckets}
}

// collectBucket makes exactly one call per configuration item. The location is asked of the
// home-region client (it answers for any bucket); everything else goes to the bucket's region.
func (c *collector) collectBucket(ctx context.Context, home s3API, lb types.Bucket) checks.Bucket {
	name := aws.ToString(lb.Name)
	b := checks.Bucket{
		Name:         name,
		ARN:          "arn:" + c.partition + ":s3:::" + name,
		CreationDate: utcTime(lb.CreationDate),
		Region:       c.home,
	}
	// Where GetBucketLocation fails, ListBuckets' own region hint (newer APIs send it) still lets
	// the remaining calls go to the right place.
	if r := aws.ToString(lb.BucketRegion); r != "" {
		b.Region = r
	}
	loc, err := home.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: &name})
	if err != nil {
		c.fail(ctx, "s3", "GetBucketLocation", b.ARN, b.Region, err)
	} else {
		b.Region = bucketRegion(string(loc.LocationConstraint))
	}

	api := s3API(c.s3For(b.Region))
	fail := func(op string, err error) { c.fail(ctx, "s3", op, b.ARN, b.Region, err) }
	b.Tags = bucketTags(ctx, api, name, fail)
	b.Versioning = bucketVersioning(ctx, api, name, fail)
	b.ObjectLock = bucketObjectLock(ctx, api, name, fail)
	b.Encryption = bucketEncryption(ctx, api, name, fail)
	b.Lifecycle = bucketLifecycle(ctx, api, name, fail)
	b.PublicAccessBlock = bucketPublicAccessBlock(ctx, api, name, fail)
	b.Policy = bucketPolicy(ctx, api, name, fail)
	b.ACL = bucketACL(ctx, api, name, fail)
	b.Ownership = bucketOwnership(ctx, api, name, fail)
	b.Logging = bucketLogging(ctx, api, name, fail)
	b.Replication = bucketReplication(ctx, api, name, fail)
	return b
}

// failFunc records a failed call of one operation on the current bucket.
type failFunc func(operation string, err error)

// bucketRegion maps a LocationConstraint to a region: empty is us-east-1, the legacy "EU" is
// eu-west-1.
func bucketRegion(constraint string) string {
	switch constraint {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return constraint
}

// bucketTags returns the tags; a bucket without tags answers NoSuchTagSet and gets an empty map.
// Tags are nil when unreadable.
func bucketTags(ctx context.Context, api s3API, name string, fail failFunc) map[string]string {
	out, err := api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &name})
	switch {
	case awsclient.IsCode(err, "NoSuchTagSet", "NoSuchTagSetError"):
		return map[string]string{}
	case err != nil:
		fail("GetBucketTagging", err)
		return nil
	}
	return awsconv.S3Tags(out.TagSet)
}

func bucketVersioning(ctx context.Context, api s3API, name string, fail failFunc) *checks.Versioning {
	out, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &name})
	if err != nil {
		fail("GetBucketVersioning", err)
		return nil
	}
	return &checks.Versioning{Status: string(out.Status), MFADelete: string(out.MFADelete)}
}

func bucketObjectLock(ctx context.Context, api s3API, name string, fail failFunc) *checks.ObjectLock {
	out, err := api.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &name})
	switch {
	case awsclient.IsCode(err, "ObjectLockConfigurationNotFoundError"):
		return &checks.ObjectLock{}
	case err != nil:
		fail("GetObjectLockConfiguration", err)
		return nil
	}
	ol := &checks.ObjectLock{}
	cfg := out.ObjectLockConfiguration
	if cfg == nil {
		return ol
	}
	ol.Enabled = cfg.ObjectLockEnabled == types.ObjectLockEnabledEnabled
	if cfg.Rule != nil && cfg.Rule.DefaultRetention != nil {
		r := cfg.Rule.DefaultRetention
		ol.DefaultRetention = &checks.Retention{
			Mode:  string(r.Mode),
			Days:  aws.ToInt32(r.Days),
			Years: aws.ToInt32(r.Years),
		}
	}
	return ol
}

func bucketEncryption(ctx context.Context, api s3API, name string, fail failFunc) *checks.Encryption {
	out, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &name})
	switch {
	case awsclient.IsCode(err, "ServerSideEncryptionConfigurationNotFoundError"):
		return &checks.Encryption{Rules: []checks.EncryptionRule{}}
	case err != nil:
		fail("GetBucketEncryption", err)
		return nil
	}
	enc := &checks.Encryption{Rules: []checks.EncryptionRule{}}
	if out.ServerSideEncryptionConfiguration == nil {
		return enc
	}
	for _, r := range out.ServerSideEncryptionConfiguration.Rules {
		rule := checks.EncryptionRule{BucketKeyEnabled: aws.ToBool(r.BucketKeyEnabled)}
		if d := r.ApplyServerSideEncryptionByDefault; d != nil {
			rule.Algorithm = string(d.SSEAlgorithm)
			rule.KMSKeyID = aws.ToString(d.KMSMasterKeyID)
		}
		enc.Rules = append(enc.Rules, rule)
	}
	return enc
}

func bucketLifecycle(ctx context.Context, api s3API, name string, fail failFunc) *checks.Lifecycle {
	out, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &name})
	switch {
	case awsclient.IsCode(err, "NoSuchLifecycleConfiguration"):
		return &checks.Lifecycle{Rules: []checks.LifecycleRule{}}
	case err != nil:
		fail("GetBucketLifecycleConfiguration", err)
		return nil
	}
	return awsconv.LifecycleConfiguration(out.Rules, out.TransitionDefaultMinimumObjectSize)
}

func bucketPublicAccessBlock(ctx context.Context, api s3API, name string, fail failFunc) *checks.PublicAccessBlock {
	out, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &name})
	switch {
	case awsclient.IsCode(err, "NoSuchPublicAccessBlockConfiguration"):
		return &checks.PublicAccessBlock{}
	case err != nil:
		fail("GetPublicAccessBlock", err)
		return nil
	}
	p := out.PublicAccessBlockConfiguration
	if p == nil {
		return &checks.PublicAccessBlock{}
	}
	return &checks.PublicAccessBlock{
		BlockPublicAcls:       aws.ToBool(p.BlockPublicAcls),
		IgnorePublicAcls:      aws.ToBool(p.IgnorePublicAcls),
		BlockPublicPolicy:     aws.ToBool(p.BlockPublicPolicy),
		RestrictPublicBuckets: aws.ToBool(p.RestrictPublicBuckets),
	}
}

func bucketPolicy(ctx context.Context, api s3API, name string, fail failFunc) *checks.Policy {
	out, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &name})
	switch {
	case awsclient.IsCode(err, "NoSuchBucketPolicy"):
		return &checks.Policy{}
	case err != nil:
		fail("GetBucketPolicy", err)
		return nil
	}
	p := checks.ParsePolicy(aws.ToString(out.Policy))
	return &p
}

func bucketACL(ctx context.Context, api s3API, name string, fail failFunc) *checks.ACL {
	out, err := api.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: &name})
	if err != nil {
		fail("GetBucketAcl", err)
		return nil
	}
	acl := &checks.ACL{Grants: make([]checks.Grant, 0, len(out.Grants))}
	if out.Owner != nil {
		acl.OwnerID = aws.ToString(out.Owner.ID)
	}
	for _, g := range out.Grants {
		grant := checks.Grant{Permission: string(g.Permission)}
		if ge := g.Grantee; ge != nil {
			grant.Type = string(ge.Type)
			grant.ID = aws.ToString(ge.ID)
			grant.URI = aws.ToString(ge.URI)
			grant.Email = aws.ToString(ge.EmailAddress)
		}
		acl.Grants = append(acl.Grants, grant)
	}
	return acl
}

func bucketOwnership(ctx context.Context, api s3API, name string, fail failFunc) *checks.Ownership {
	out, err := api.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: &name})
	switch {
	case awsclient.IsCode(err, "OwnershipControlsNotFoundError"):
		return &checks.Ownership{}
	case err != nil:
		fail("GetBucketOwnershipControls", err)
		return nil
	}
	o := &checks.Ownership{}
	if out.OwnershipControls != nil && len(out.OwnershipControls.Rules) > 0 {
		o.ObjectOwnership = string(out.OwnershipControls.Rules[0].ObjectOwnership)
	}
	return o
}

func bucketLogging(ctx context.Context, api s3API, name string, fail failFunc) *checks.Logging {
	out, err := api.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: &name})
	if err != nil {
		fail("GetBucketLogging", err)
		return nil
	}
	l := &checks.Logging{}
	if le := out.LoggingEnabled; le != nil {
		l.Enabled = true
		l.TargetBucket = aws.ToString(le.TargetBucket)
		l.TargetPrefix = aws.ToString(le.TargetPrefix)
	}
	return l
}

func bucketReplication(ctx context.Context, api s3API, name string, fail failFunc) *checks.Replication {
	out, err := api.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: &name})
	switch {
	case awsclient.IsCode(err, "ReplicationConfigurationNotFoundError"):
		return &checks.Replication{Rules: []checks.ReplicationRule{}}
	case err != nil:
		fail("GetBucketReplication", err)
		return nil
	}
	if out.ReplicationConfiguration == nil {
		return &checks.Replication{Rules: []checks.ReplicationRule{}}
	}
	return awsconv.ReplicationConfiguration(out.ReplicationConfiguration)
}

// utcTime copies a time in UTC; nil stays nil.
func utcTime(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
