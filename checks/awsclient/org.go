package awsclient

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// What an organisation scan needs beyond one account's clients: the Organizations client that
// lists the accounts, and configurations that act in a member account through an assumed role.

// NewOrganizations returns an AWS Organizations client. Organizations is global: the SDK sends
// every region's calls to the partition's one endpoint (us-east-1 in aws).
func NewOrganizations(cfg aws.Config, opts Options) *organizations.Client {
	return organizations.NewFromConfig(cfg, func(o *organizations.Options) {
		clientOptions(cfg, opts, "", &o.Region, &o.BaseEndpoint, &o.Retryer, &o.APIOptions)
	})
}

// assumedExpiryWindow renews assumed-role credentials this long before they expire, so that no
// call is signed with credentials that run out while it is retried.
const assumedExpiryWindow = time.Minute

// AssumeRole says how to assume a role in another account.
type AssumeRole struct {
	RoleARN string
	// ExternalID is sent when the role's trust policy requires sts:ExternalId.
	ExternalID string
	// SessionName names the session in the member account's CloudTrail (required).
	SessionName string
	// Duration of each set of credentials; 0 is the SDK's default (15 minutes). They are renewed
	// as they expire, so a long collection never needs more than the role's maximum session.
	Duration time.Duration
}

// AssumedConfig returns a copy of cfg whose credentials are those of the role, obtained with cfg's
// own credentials and renewed before they expire. The AssumeRole calls go through an STS client
// built like every other (endpoint, bounded retries, call timeout, hooks), so an emulator, a
// recorder or a fault proxy sees them as it sees the rest.
//
// Nothing is called until the credentials are first needed: call cfg.Credentials.Retrieve to find
// out whether the role can be assumed at all.
func AssumedConfig(cfg aws.Config, role AssumeRole, opts Options) aws.Config {
	provider := stscreds.NewAssumeRoleProvider(NewSTS(cfg, opts), role.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = role.SessionName
		o.Duration = role.Duration
		if role.ExternalID != "" {
			o.ExternalID = aws.String(role.ExternalID)
		}
	})
	out := cfg.Copy()
	out.Credentials = aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = assumedExpiryWindow
	})
	return out
}
