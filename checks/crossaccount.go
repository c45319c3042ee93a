package checks

import "sort"

// Cross-account backups (DESIGN §3, §14): a primary in one account often replicates to a standby
// in another (a vault account). Bucket names are unique across AWS, so the buckets of every
// scanned account form one namespace; a replication rule's destination is found there (the
// rule's Destination.Account names the account when the bucket was not scanned). Each account is
// still evaluated on its own — the standby's versioning, lock and encryption in the standby's
// account, the primary's replication in the primary's — with the other side of each pair given
// to it as a peer.

// CrossAccount is what the evaluation of one account needs from the other accounts.
type CrossAccount struct {
	// ReplicatedTo are this account's buckets that a primary of another account replicates to:
	// standbys by inference, as a replication destination inside the account is.
	ReplicatedTo map[string]bool
	// Peers are the buckets of other accounts paired with this account's, by name.
	Peers map[string]*PeerBucket
	// StandbyOf pairs primaries with standbys where one of the two is in another account.
	StandbyOf map[string]string
}

// PeerBucket is a bucket of another account, with that account and its role there.
type PeerBucket struct {
	AccountID string `json:"account_id"`
	Role      string `json:"role"`
	Bucket    Bucket `json:"bucket"`
}

// OrgDirectory knows every bucket of an organisation scan by name: built in one pass over the
// accounts, small enough for 100,000 buckets, and enough to pair buckets across accounts.
type OrgDirectory struct {
	buckets map[string]dirBucket
	// edges are replication rules whose destination is not in the source's account.
	edges []replicationEdge
	// peers holds the bucket objects CollectPeers copied, by name.
	peers map[string]*Bucket
}

type dirBucket struct {
	account string
	// role is the bucket's role decided within its account; inferred is set when nothing but the
	// default decided it (so a cross-account replication makes it a standby).
	role     string
	inferred bool
}

type replicationEdge struct {
	fromAccount, from, to, toAccount string
}

// NewOrgDirectory starts an empty directory; Add each account to it.
func NewOrgDirectory() *OrgDirectory {
	return &OrgDirectory{buckets: map[string]dirBucket{}, peers: map[string]*Bucket{}}
}

// Add records the buckets of one scanned account, with their roles under cfg (the account's
// configuration).
func (d *OrgDirectory) Add(snap *Snapshot, cfg *Config) {
	roles, inferred := bucketRoles(snap, cfg.ForAccount(snap.Account.ID), nil)
	for _, b := range snap.S3.Buckets {
		d.buckets[b.Name] = dirBucket{account: snap.Account.ID, role: roles[b.Name], inferred: inferred[b.Name]}
	}
	for _, b := range snap.S3.Buckets {
		if b.Replication == nil {
			continue
		}
		for _, r := range b.Replication.Rules {
			if r.DestinationBucket == "" || r.DestinationBucket == b.Name {
				continue
			}
			if r.DestinationAccount != "" && r.DestinationAccount != snap.Account.ID || !hasBucket(snap, r.DestinationBucket) {
				d.edges = append(d.edges, replicationEdge{fromAccount: snap.Account.ID, from: b.Name, to: r.DestinationBucket, toAccount: r.DestinationAccount})
			}
		}
	}
}

func hasBucket(snap *Snapshot, name string) bool {
	for _, b := range snap.S3.Buckets {
		if b.Name == name {
			return true
		}
	}
	return false
}

// roleOf is a bucket's role with cross-account replication taken into account.
func (d *OrgDirectory) roleOf(name string) string {
	b, ok := d.buckets[name]
	if !ok {
		return ""
	}
	if b.inferred {
		for _, e := range d.edges {
			if e.to == name && d.buckets[e.to].account != e.fromAccount {
				return RoleStandby
			}
		}
	}
	return b.role
}

// crossPairs are the replication edges that pair a primary with a standby of another scanned
// account.
func (d *OrgDirectory) crossPairs() []replicationEdge {
	var out []replicationEdge
	for _, e := range d.edges {
		dst, ok := d.buckets[e.to]
		if !ok || dst.account == e.fromAccount || e.toAccount != "" && e.toAccount != dst.account {
			continue
		}
		if d.roleOf(e.from) == RolePrimary && d.roleOf(e.to) == RoleStandby {
			out = append(out, replicationEdge{fromAccount: e.fromAccount, from: e.from, to: e.to, toAccount: dst.account})
		}
	}
	return out
}

// NeedsPeers lists, by account, the buckets whose objects CollectPeers must copy: both sides of
// every cross-account pair.
func (d *OrgDirectory) NeedsPeers() map[string][]string {
	out := map[string][]string{}
	for _, e := range d.crossPairs() {
		out[e.fromAccount] = append(out[e.fromAccount], e.from)
		out[e.toAccount] = append(out[e.toAccount], e.to)
	}
	return out
}

// CollectPeers copies from one account's snapshot the buckets other accounts need as peers.
func (d *OrgDirectory) CollectPeers(snap *Snapshot, names []string) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for i := range snap.S3.Buckets {
		if b := snap.S3.Buckets[i]; want[b.Name] {
			d.peers[b.Name] = &b
		}
	}
}

// For returns what the evaluation of one account needs from the others.
func (d *OrgDirectory) For(accountID string) *CrossAccount {
	c := &CrossAccount{ReplicatedTo: map[string]bool{}, Peers: map[string]*PeerBucket{}, StandbyOf: map[string]string{}}
	for _, e := range d.edges {
		if dst, ok := d.buckets[e.to]; ok && dst.account == accountID && e.fromAccount != accountID {
			c.ReplicatedTo[e.to] = true
		}
	}
	pairs := d.crossPairs()
	sort.Slice(pairs, func(i, j int) bool {
		return pairs[i].from < pairs[j].from || pairs[i].from == pairs[j].from && pairs[i].to < pairs[j].to
	})
	for _, e := range pairs {
		var peer, peerAccount string
		switch accountID {
		case e.fromAccount:
			peer, peerAccount = e.to, e.toAccount
		case e.toAccount:
			peer, peerAccount = e.from, e.fromAccount
		default:
			continue
		}
		if _, dup := c.StandbyOf[e.from]; dup {
			continue // a primary's first rule to a standby pairs it, as inside an account
		}
		c.StandbyOf[e.from] = e.to
		if b := d.peers[peer]; b != nil {
			c.Peers[peer] = &PeerBucket{AccountID: peerAccount, Role: d.roleOf(peer), Bucket: *b}
		}
	}
	return c
}
