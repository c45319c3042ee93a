package awsclient

import "sync"

// Cache hands out one client per (account, region), built on first use by its constructor. It is
// safe for concurrent use; concurrent first Gets of one key build the client once.
//
// The account is part of the key because clients carry their credentials: a run over several
// accounts builds each member's clients from that member's assumed-role configuration. A cache
// serving only one configuration's credentials may key that account as "". Global services (IAM,
// STS) are keyed by the region "".
type Cache[T any] struct {
	build func(account, region string) T

	mu      sync.Mutex
	clients map[cacheKey]func() T
}

type cacheKey struct{ account, region string }

// NewCache returns an empty cache whose clients build makes.
func NewCache[T any](build func(account, region string) T) *Cache[T] {
	return &Cache[T]{build: build, clients: map[cacheKey]func() T{}}
}

// Get returns the client of account and region, building it on first use.
func (c *Cache[T]) Get(account, region string) T {
	k := cacheKey{account, region}
	c.mu.Lock()
	get, ok := c.clients[k]
	if !ok {
		// The build runs outside the lock, once per key, so a slow constructor for one key does
		// not hold up Gets of the others.
		get = sync.OnceValue(func() T { return c.build(account, region) })
		c.clients[k] = get
	}
	c.mu.Unlock()
	return get()
}
