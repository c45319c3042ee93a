// Package awsconv turns AWS SDK values into the snapshot's types. The collector builds snapshots
// with it and the fixer reads live configuration with it, so both see a configuration alike.
package awsconv

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks"
)

// S3Tags returns S3 tags as a map (never nil).
func S3Tags(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// LifecycleRule normalises one rule as the snapshot holds it: the legacy top-level Prefix and the
// And operator fold into Filter. The collector and the fixer
// both use it, so the fixer's merges see live rules as a scan sees them.
func LifecycleRule(r types.LifecycleRule) checks.LifecycleRule {
	out := checks.LifecycleRule{
		ID:                    aws.ToString(r.ID),
		Status:                string(r.Status),
		Filter:                checks.LifecycleFilter{Prefix: aws.ToString(r.Prefix), Tags: map[string]string{}},
		Transitions:           []checks.Transition{},
		NoncurrentTransitions: []checks.NoncurrentTransition{},
	}
	if f := r.Filter; f != nil {
		if f.Prefix != nil {
			out.Filter.Prefix = *f.Prefix
		}
		if f.Tag != nil {
			out.Filter.Tags[aws.ToString(f.Tag.Key)] = aws.ToString(f.Tag.Value)
		}
		out.Filter.ObjectSizeGreaterThan = aws.ToInt64(f.ObjectSizeGreaterThan)
		out.Filter.ObjectSizeLessThan = aws.ToInt64(f.ObjectSizeLessThan)
		if a := f.And; a != nil {
			if a.Prefix != nil {
				out.Filter.Prefix = *a.Prefix
			}
			for k, v := range S3Tags(a.Tags) {
				out.Filter.Tags[k] = v
			}
			if a.ObjectSizeGreaterThan != nil {
				out.Filter.ObjectSizeGreaterThan = *a.ObjectSizeGreaterThan
			}
			if a.ObjectSizeLessThan != nil {
				out.Filter.ObjectSizeLessThan = *a.ObjectSizeLessThan
			}
		}
	}
	for _, t := range r.Transitions {
		out.Transitions = append(out.Transitions, checks.Transition{
			Days:         aws.ToInt32(t.Days),
			Date:         dateString(t.Date),
			StorageClass: string(t.StorageClass),
		})
	}
	if e := r.Expiration; e != nil {
		out.Expiration = &checks.Expiration{
			Days:                      aws.ToInt32(e.Days),
			Date:                      dateString(e.Date),
			ExpiredObjectDeleteMarker: aws.ToBool(e.ExpiredObjectDeleteMarker),
		}
	}
	for _, t := range r.NoncurrentVersionTransitions {
		out.NoncurrentTransitions = append(out.NoncurrentTransitions, checks.NoncurrentTransition{
			NoncurrentDays:          aws.ToInt32(t.NoncurrentDays),
			NewerNoncurrentVersions: aws.ToInt32(t.NewerNoncurrentVersions),
			StorageClass:            string(t.StorageClass),
		})
	}
	if e := r.NoncurrentVersionExpiration; e != nil {
		out.NoncurrentExpiration = &checks.NoncurrentExpiration{
			NoncurrentDays:          aws.ToInt32(e.NoncurrentDays),
			NewerNoncurrentVersions: aws.ToInt32(e.NewerNoncurrentVersions),
		}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil && a.DaysAfterInitiation != nil {
		days := *a.DaysAfterInitiation
		out.AbortIncompleteMultipartUploadDays = &days
	}
	return out
}

func dateString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
