package checks

import "time"

// SnapshotSchemaVersion is bumped whenever a field changes meaning or disappears.
const SnapshotSchemaVersion = "1"

// Snapshot is everything coffer read from one account. It is the only input of evaluation.
//
// Convention for every configuration item: a nil pointer means coffer could not read it (and an
// entry in Errors says why); a non-nil value with empty contents means AWS answered "not configured".
type Snapshot struct {
	SchemaVersion string         `json:"schema_version"`
	Collector     Collector      `json:"collector"`
	CollectedAt   time.Time      `json:"collected_at"`
	Regions       []string       `json:"regions"`
	Account       Account        `json:"account"`
	S3            S3             `json:"s3"`
	IAM           IAM            `json:"iam"`
	KMS           KMS            `json:"kms"`
	CloudTrail    CloudTrail     `json:"cloudtrail"`
	Errors        []CollectError `json:"errors"`
}

// Collector names the tool that wrote a snapshot.
type Collector struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Account holds account-wide settings.
type Account struct {
	ID                string             `json:"id"`
	CallerARN         string             `json:"caller_arn"`
	Partition         string             `json:"partition"`
	HomeRegion        string             `json:"home_region"`
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block"`
	// Summary is IAM GetAccountSummary's map (AccountMFAEnabled, AccountAccessKeysPresent, ...).
	Summary map[string]int32 `json:"summary"`
	// PasswordPolicy is nil when unreadable; Exists=false when the account has none.
	PasswordPolicy *PasswordPolicy `json:"password_policy"`
}

// PublicAccessBlock is the four Block Public Access flags (account or bucket level).
type PublicAccessBlock struct {
	BlockPublicAcls       bool `json:"block_public_acls"`
	IgnorePublicAcls      bool `json:"ignore_public_acls"`
	BlockPublicPolicy     bool `json:"block_public_policy"`
	RestrictPublicBuckets bool `json:"restrict_public_buckets"`
}

// PasswordPolicy is the IAM account password policy.
type PasswordPolicy struct {
	Exists                     bool  `json:"exists"`
	MinimumPasswordLength      int32 `json:"minimum_password_length"`
	PasswordReusePrevention    int32 `json:"password_reuse_prevention"`
	RequireSymbols             bool  `json:"require_symbols"`
	RequireNumbers             bool  `json:"require_numbers"`
	RequireUppercaseCharacters bool  `json:"require_uppercase_characters"`
	RequireLowercaseCharacters bool  `json:"require_lowercase_characters"`
	MaxPasswordAge             int32 `json:"max_password_age"`
	HardExpiry                 bool  `json:"hard_expiry"`
	AllowUsersToChangePassword bool  `json:"allow_users_to_change_password"`
	// UnmodeledFields names settings AWS returned that the fields above cannot reproduce; the
	// update command, which replaces the whole policy, is then refused.
	UnmodeledFields []string `json:"unmodeled_fields,omitempty"`
}

// S3 holds every bucket of the account, whatever its region.
type S3 struct {
	Buckets []Bucket `json:"buckets"`
}

// Bucket is one bucket's configuration, read from the bucket's own region.
type Bucket struct {
	Name              string             `json:"name"`
	ARN               string             `json:"arn"`
	Region            string             `json:"region"`
	CreationDate      *time.Time         `json:"creation_date,omitempty"`
	Tags              map[string]string  `json:"tags"`
	Versioning        *Versioning        `json:"versioning"`
	ObjectLock        *ObjectLock        `json:"object_lock"`
	Encryption        *Encryption        `json:"encryption"`
	Lifecycle         *Lifecycle         `json:"lifecycle"`
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block"`
	Policy            *Policy            `json:"policy"`
	ACL               *ACL               `json:"acl"`
	Ownership         *Ownership         `json:"ownership"`
	Logging           *Logging           `json:"logging"`
	Replication       *Replication       `json:"replication"`
}

// Versioning is the bucket versioning state. Status is "" (never enabled), Enabled or Suspended.
type Versioning struct {
	Status    string `json:"status"`
	MFADelete string `json:"mfa_delete"`
}

// ObjectLock is the Object Lock configuration; Enabled=false when the bucket has none.
type ObjectLock struct {
	Enabled          bool       `json:"enabled"`
	DefaultRetention *Retention `json:"default_retention"`
}

// Retention is an Object Lock default retention; exactly one of Days and Years is set.
type Retention struct {
	Mode  string `json:"mode"`
	Days  int32  `json:"days"`
	Years int32  `json:"years"`
}

// Encryption is the default encryption configuration; no rules means not configured.
type Encryption struct {
	Rules []EncryptionRule `json:"rules"`
}

// EncryptionRule is one server-side encryption rule. Algorithm is AES256, aws:kms or aws:kms:dsse.
type EncryptionRule struct {
	Algorithm        string `json:"algorithm"`
	KMSKeyID         string `json:"kms_key_id"`
	BucketKeyEnabled bool   `json:"bucket_key_enabled"`
}

// Lifecycle is the lifecycle configuration; no rules means not configured.
type Lifecycle struct {
	Rules []LifecycleRule `json:"rules"`
	// UnmodeledFields names what AWS returned that the rules above cannot reproduce (see
	// UnmodeledFields on Trail); a rewrite of the configuration is then refused.
	UnmodeledFields []string `json:"unmodeled_fields,omitempty"`
}

// LifecycleRule is one lifecycle rule in a normalised form (the legacy top-level Prefix is folded
// into Filter.Prefix).
type LifecycleRule struct {
	ID                                 string                 `json:"id"`
	Status                             string                 `json:"status"`
	Filter                             LifecycleFilter        `json:"filter"`
	Transitions                        []Transition           `json:"transitions"`
	Expiration                         *Expiration            `json:"expiration"`
	NoncurrentTransitions              []NoncurrentTransition `json:"noncurrent_transitions"`
	NoncurrentExpiration               *NoncurrentExpiration  `json:"noncurrent_expiration"`
	AbortIncompleteMultipartUploadDays *int32                 `json:"abort_incomplete_multipart_upload_days"`
}

// LifecycleFilter narrows a rule. A rule covers the whole bucket only when every field is empty.
type LifecycleFilter struct {
	Prefix                string            `json:"prefix"`
	Tags                  map[string]string `json:"tags"`
	ObjectSizeGreaterThan int64             `json:"object_size_greater_than"`
	ObjectSizeLessThan    int64             `json:"object_size_less_than"`
}

// Transition moves current versions to StorageClass after Days (or on Date, RFC 3339).
type Transition struct {
	Days         int32  `json:"days"`
	Date         string `json:"date,omitempty"`
	StorageClass string `json:"storage_class"`
}

// Expiration expires current versions.
type Expiration struct {
	Days                      int32  `json:"days"`
	Date                      string `json:"date,omitempty"`
	ExpiredObjectDeleteMarker bool   `json:"expired_object_delete_marker"`
}

// NoncurrentTransition moves noncurrent versions.
type NoncurrentTransition struct {
	NoncurrentDays          int32  `json:"noncurrent_days"`
	NewerNoncurrentVersions int32  `json:"newer_noncurrent_versions"`
	StorageClass            string `json:"storage_class"`
}

// NoncurrentExpiration expires noncurrent versions.
type NoncurrentExpiration struct {
	NoncurrentDays          int32 `json:"noncurrent_days"`
	NewerNoncurrentVersions int32 `json:"newer_noncurrent_versions"`
}

// Policy is a resource or identity policy: the text as AWS returned it (URL-decoded) and its
// normalised parse. An empty Text means there is no policy. ParseError is set when the text is not a
// valid policy document; checks then treat the document as unknown, never as empty.
type Policy struct {
	Text       string          `json:"text"`
	Document   *PolicyDocument `json:"document"`
	ParseError string          `json:"parse_error,omitempty"`
}

// ACL is a bucket access control list.
type ACL struct {
	OwnerID string  `json:"owner_id"`
	Grants  []Grant `json:"grants"`
}

// Grant is one ACL grant. Type is CanonicalUser, Group or AmazonCustomerByEmail.
type Grant struct {
	Type       string `json:"type"`
	ID         string `json:"id,omitempty"`
	URI        string `json:"uri,omitempty"`
	Email      string `json:"email,omitempty"`
	Permission string `json:"permission"`
}

// Ownership is the Object Ownership setting; ObjectOwnership "" means no ownership controls.
type Ownership struct {
	ObjectOwnership string `json:"object_ownership"`
}

// Logging is server access logging; Enabled=false when off.
type Logging struct {
	Enabled      bool   `json:"enabled"`
	TargetBucket string `json:"target_bucket"`
	TargetPrefix string `json:"target_prefix"`
}

// Replication is the replication configuration; no rules means not configured.
type Replication struct {
	Role  string            `json:"role"`
	Rules []ReplicationRule `json:"rules"`
	// UnmodeledFields names what AWS returned that the rules above cannot reproduce (tag filters,
	// replication time control, legacy V1 rules...); a rewrite of the configuration is then refused.
	UnmodeledFields []string `json:"unmodeled_fields,omitempty"`
}

// ReplicationRule is one replication rule. DestinationBucket is the bucket name (from the ARN).
type ReplicationRule struct {
	ID                      string `json:"id"`
	Status                  string `json:"status"`
	Priority                int32  `json:"priority"`
	Prefix                  string `json:"prefix"`
	DestinationBucket       string `json:"destination_bucket"`
	DestinationBucketARN    string `json:"destination_bucket_arn"`
	DestinationAccount      string `json:"destination_account,omitempty"`
	StorageClass            string `json:"storage_class"`
	ReplicaKMSKeyID         string `json:"replica_kms_key_id"`
	SSEKMSEncryptedObjects  bool   `json:"sse_kms_encrypted_objects"`
	DeleteMarkerReplication bool   `json:"delete_marker_replication"`
}

// IAM holds the account's principals and policies.
type IAM struct {
	Users             []User             `json:"users"`
	Groups            []Group            `json:"groups"`
	Roles             []Role             `json:"roles"`
	Policies          []ManagedPolicy    `json:"policies"`
	VirtualMFADevices []VirtualMFADevice `json:"virtual_mfa_devices"`
	// CredentialReport is nil when it could not be read.
	CredentialReport []CredentialReportRow `json:"credential_report"`
}

// User is an IAM user with its credentials and permissions.
type User struct {
	Name             string            `json:"name"`
	ARN              string            `json:"arn"`
	ID               string            `json:"id"`
	CreateDate       *time.Time        `json:"create_date,omitempty"`
	PasswordEnabled  bool              `json:"password_enabled"`
	PasswordLastUsed *time.Time        `json:"password_last_used,omitempty"`
	MFADevices       []string          `json:"mfa_devices"`
	AccessKeys       []AccessKey       `json:"access_keys"`
	Groups           []string          `json:"groups"`
	AttachedPolicies []AttachedPolicy  `json:"attached_policies"`
	InlinePolicies   []InlinePolicy    `json:"inline_policies"`
	Tags             map[string]string `json:"tags"`
}

// AccessKey is one access key of a user.
type AccessKey struct {
	ID              string     `json:"id"`
	Status          string     `json:"status"`
	CreateDate      *time.Time `json:"create_date,omitempty"`
	LastUsedDate    *time.Time `json:"last_used_date,omitempty"`
	LastUsedService string     `json:"last_used_service,omitempty"`
}

// AttachedPolicy references a managed policy.
type AttachedPolicy struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
}

// InlinePolicy is a policy embedded in a user, group or role.
type InlinePolicy struct {
	Name     string `json:"name"`
	Document Policy `json:"document"`
}

// Group is an IAM group.
type Group struct {
	Name             string           `json:"name"`
	ARN              string           `json:"arn"`
	AttachedPolicies []AttachedPolicy `json:"attached_policies"`
	InlinePolicies   []InlinePolicy   `json:"inline_policies"`
}

// Role is an IAM role with its trust policy.
type Role struct {
	Name             string            `json:"name"`
	ARN              string            `json:"arn"`
	Path             string            `json:"path"`
	TrustPolicy      Policy            `json:"trust_policy"`
	AttachedPolicies []AttachedPolicy  `json:"attached_policies"`
	InlinePolicies   []InlinePolicy    `json:"inline_policies"`
	Tags             map[string]string `json:"tags"`
}

// ManagedPolicy is a customer-managed policy, or an AWS-managed one that is attached somewhere.
type ManagedPolicy struct {
	Name            string `json:"name"`
	ARN             string `json:"arn"`
	AWSManaged      bool   `json:"aws_managed"`
	AttachmentCount int32  `json:"attachment_count"`
	DefaultVersion  string `json:"default_version"`
	Document        Policy `json:"document"`
}

// VirtualMFADevice is a virtual MFA device; User is empty when unassigned.
type VirtualMFADevice struct {
	SerialNumber string `json:"serial_number"`
	User         string `json:"user,omitempty"`
}

// CredentialReportRow is one parsed row of the IAM credential report. Times are nil for "N/A" or
// "no_information".
type CredentialReportRow struct {
	User                   string     `json:"user"`
	ARN                    string     `json:"arn"`
	PasswordEnabled        bool       `json:"password_enabled"`
	PasswordLastUsed       *time.Time `json:"password_last_used,omitempty"`
	PasswordLastChanged    *time.Time `json:"password_last_changed,omitempty"`
	MFAActive              bool       `json:"mfa_active"`
	AccessKey1Active       bool       `json:"access_key_1_active"`
	AccessKey1LastRotated  *time.Time `json:"access_key_1_last_rotated,omitempty"`
	AccessKey1LastUsedDate *time.Time `json:"access_key_1_last_used_date,omitempty"`
	AccessKey2Active       bool       `json:"access_key_2_active"`
	AccessKey2LastRotated  *time.Time `json:"access_key_2_last_rotated,omitempty"`
	AccessKey2LastUsedDate *time.Time `json:"access_key_2_last_used_date,omitempty"`
}

// KMS holds the keys of every collected region.
type KMS struct {
	Keys []Key `json:"keys"`
}

// Key is one KMS key. RotationEnabled is nil when unreadable or not applicable (AWS-managed,
// asymmetric or not enabled keys).
type Key struct {
	ID              string     `json:"id"`
	ARN             string     `json:"arn"`
	Region          string     `json:"region"`
	State           string     `json:"state"`
	Manager         string     `json:"manager"`
	Spec            string     `json:"spec"`
	Usage           string     `json:"usage"`
	Origin          string     `json:"origin"`
	Description     string     `json:"description"`
	DeletionDate    *time.Time `json:"deletion_date,omitempty"`
	RotationEnabled *bool      `json:"rotation_enabled"`
	Policy          *Policy    `json:"policy"`
	Aliases         []string   `json:"aliases"`
}

// CloudTrail holds every trail once, read from its home region.
type CloudTrail struct {
	Trails []Trail `json:"trails"`
}

// Trail is one CloudTrail trail. IsLogging is nil when GetTrailStatus failed.
type Trail struct {
	Name                       string                  `json:"name"`
	ARN                        string                  `json:"arn"`
	HomeRegion                 string                  `json:"home_region"`
	MultiRegion                bool                    `json:"multi_region"`
	Organization               bool                    `json:"organization"`
	IsLogging                  *bool                   `json:"is_logging"`
	LogFileValidation          bool                    `json:"log_file_validation"`
	KMSKeyID                   string                  `json:"kms_key_id"`
	S3BucketName               string                  `json:"s3_bucket_name"`
	S3KeyPrefix                string                  `json:"s3_key_prefix"`
	IncludeGlobalServiceEvents bool                    `json:"include_global_service_events"`
	EventSelectors             []EventSelector         `json:"event_selectors"`
	AdvancedEventSelectors     []AdvancedEventSelector `json:"advanced_event_selectors"`
	// SelectorsRead is false when GetEventSelectors failed.
	SelectorsRead bool `json:"selectors_read"`
	// UnmodeledSelectorFields names what GetEventSelectors returned that the selectors above cannot
	// reproduce, as paths in the API's JSON ("EventSelectors[0].Foo"). Every command and fix that
	// rewrites the trail's selectors (put-event-selectors replaces them all) is then refused rather
	// than dropping them. The same holds for UnmodeledFields of the other whole configurations.
	UnmodeledSelectorFields []string `json:"unmodeled_selector_fields,omitempty"`
}

// EventSelector is a basic event selector. ExcludeManagementEventSources lists event sources
// (kms.amazonaws.com, rdsdata.amazonaws.com) whose management events the selector leaves out.
type EventSelector struct {
	ReadWriteType                 string         `json:"read_write_type"`
	IncludeManagementEvents       bool           `json:"include_management_events"`
	ExcludeManagementEventSources []string       `json:"exclude_management_event_sources,omitempty"`
	DataResources                 []DataResource `json:"data_resources"`
}

// DataResource selects data events of a resource type (e.g. AWS::S3::Object) by ARN prefixes.
type DataResource struct {
	Type   string   `json:"type"`
	Values []string `json:"values"`
}

// AdvancedEventSelector is an advanced event selector.
type AdvancedEventSelector struct {
	Name           string          `json:"name"`
	FieldSelectors []FieldSelector `json:"field_selectors"`
}

// FieldSelector is one condition of an advanced event selector.
type FieldSelector struct {
	Field         string   `json:"field"`
	Equals        []string `json:"equals,omitempty"`
	StartsWith    []string `json:"starts_with,omitempty"`
	EndsWith      []string `json:"ends_with,omitempty"`
	NotEquals     []string `json:"not_equals,omitempty"`
	NotStartsWith []string `json:"not_starts_with,omitempty"`
	NotEndsWith   []string `json:"not_ends_with,omitempty"`
}

// CollectError records one API call that failed. Resource is the ARN (or name) of what was being
// read, empty for account- or region-wide listings.
type CollectError struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Resource  string `json:"resource"`
	Region    string `json:"region"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}
