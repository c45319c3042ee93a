package collect

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsconv"
)

// cloudTrailAPI is the part of CloudTrail the collector uses.
type cloudTrailAPI interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	GetEventSelectors(ctx context.Context, in *cloudtrail.GetEventSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
}

var _ cloudTrailAPI = (*cloudtrail.Client)(nil)

// collectCloudTrail finds every trail that applies to the collected regions and reads each once.
//
// DescribeTrails runs in every collected region with shadow trails included, so a multi-region
// trail whose home region was not collected is still seen; trails are then de-duplicated by ARN
// and their status and selectors are read from their home region (where AWS answers for them).
func (c *collector) collectCloudTrail(ctx context.Context, regions []string) checks.CloudTrail {
	perRegion := inEachRegion(c, regions, func(region string) []types.Trail {
		var api cloudTrailAPI = c.cloudTrailFor(region)
		out, err := api.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
		if err != nil {
			c.fail(ctx, "cloudtrail", "DescribeTrails", "", region, err)
			return nil
		}
		return out.TrailList
	})

	seen := map[string]bool{}
	var unique []types.Trail
	for i, list := range perRegion {
		for _, t := range list {
			arn := aws.ToString(t.TrailARN)
			if seen[arn] {
				continue
			}
			seen[arn] = true
			if aws.ToString(t.HomeRegion) == "" {
				t.HomeRegion = aws.String(regions[i])
			}
			unique = append(unique, t)
		}
	}
	sort.Slice(unique, func(i, j int) bool { return aws.ToString(unique[i].TrailARN) < aws.ToString(unique[j].TrailARN) })

	trails := make([]checks.Trail, len(unique))
	c.prog.add(len(unique))
	forEach(ctx, len(unique), c.opts.Concurrency, func(ctx context.Context, i int) {
		defer c.prog.step()
		trails[i] = c.readTrail(ctx, unique[i])
	})
	return checks.CloudTrail{Trails: trails}
}

// readTrail reads a trail's logging status and event selectors from its home region, naming the
// trail by ARN (AWS requires the ARN outside the home region; by name it would be ambiguous).
func (c *collector) readTrail(ctx context.Context, t types.Trail) checks.Trail {
	home := aws.ToString(t.HomeRegion)
	out := checks.Trail{
		Name:                       aws.ToString(t.Name),
		ARN:                        aws.ToString(t.TrailARN),
		HomeRegion:                 home,
		MultiRegion:                aws.ToBool(t.IsMultiRegionTrail),
		Organization:               aws.ToBool(t.IsOrganizationTrail),
		LogFileValidation:          aws.ToBool(t.LogFileValidationEnabled),
		KMSKeyID:                   aws.ToString(t.KmsKeyId),
		S3BucketName:               aws.ToString(t.S3BucketName),
		S3KeyPrefix:                aws.ToString(t.S3KeyPrefix),
		IncludeGlobalServiceEvents: aws.ToBool(t.IncludeGlobalServiceEvents),
		EventSelectors:             []checks.EventSelector{},
		AdvancedEventSelectors:     []checks.AdvancedEventSelector{},
	}
	var api cloudTrailAPI = c.cloudTrailFor(home)
	name := aws.String(out.ARN)

	st, err := api.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: name})
	if err != nil {
		c.fail(ctx, "cloudtrail", "GetTrailStatus", out.ARN, home, err)
	} else {
		logging := aws.ToBool(st.IsLogging)
		out.IsLogging = &logging
	}

	sel, err := api.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: name})
	if err != nil {
		c.fail(ctx, "cloudtrail", "GetEventSelectors", out.ARN, home, err)
		return out
	}
	out.SelectorsRead = true
	out.EventSelectors, out.AdvancedEventSelectors, out.UnmodeledSelectorFields = awsconv.EventSelectors(sel.EventSelectors, sel.AdvancedEventSelectors)
	return out
}
