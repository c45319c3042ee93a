package awsclient_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coffer-audit/coffer/checks/awsclient"
)

// client stands in for an SDK client: which key built it.
type client struct{ account, region string }

func TestCacheKeys(t *testing.T) {
	tests := []struct {
		name     string
		a, b     [2]string // (account, region) of two Gets
		wantSame bool
	}{
		{"same key", [2]string{"111111111111", "eu-west-1"}, [2]string{"111111111111", "eu-west-1"}, true},
		{"same global key", [2]string{"111111111111", ""}, [2]string{"111111111111", ""}, true},
		{"other region", [2]string{"111111111111", "eu-west-1"}, [2]string{"111111111111", "us-east-1"}, false},
		{"other account", [2]string{"111111111111", "eu-west-1"}, [2]string{"222222222222", "eu-west-1"}, false},
		{"caller's account vs named", [2]string{"", "eu-west-1"}, [2]string{"111111111111", "eu-west-1"}, false},
		{"account and region not mixed up", [2]string{"eu-west-1", ""}, [2]string{"", "eu-west-1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			builds := 0
			c := awsclient.NewCache(func(account, region string) *client {
				builds++
				return &client{account, region}
			})
			x, y := c.Get(tc.a[0], tc.a[1]), c.Get(tc.b[0], tc.b[1])
			if (x == y) != tc.wantSame {
				t.Errorf("Get(%q) == Get(%q) is %v, want %v", tc.a, tc.b, x == y, tc.wantSame)
			}
			if want := map[bool]int{true: 1, false: 2}[tc.wantSame]; builds != want {
				t.Errorf("built %d clients, want %d", builds, want)
			}
			if *x != (client{tc.a[0], tc.a[1]}) || *y != (client{tc.b[0], tc.b[1]}) {
				t.Errorf("clients built for %+v and %+v, want %q and %q", *x, *y, tc.a, tc.b)
			}
		})
	}
}

// TestCacheConcurrentGet: many goroutines asking for a few keys at once build each client once
// and all get that one (run with -race).
func TestCacheConcurrentGet(t *testing.T) {
	var mu sync.Mutex
	builds := map[client]int{}
	c := awsclient.NewCache(func(account, region string) *client {
		mu.Lock()
		builds[client{account, region}]++
		mu.Unlock()
		time.Sleep(time.Millisecond) // keeps the other goroutines' first Gets in flight
		return &client{account, region}
	})
	var keys []client
	for _, a := range []string{"", "111111111111", "222222222222"} {
		for _, r := range []string{"", "us-east-1", "eu-west-1"} {
			keys = append(keys, client{a, r})
		}
	}
	const perKey = 20
	got := make([][]*client, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		got[i] = make([]*client, perKey)
		for j := range perKey {
			wg.Go(func() { got[i][j] = c.Get(k.account, k.region) })
		}
	}
	wg.Wait()
	for i, k := range keys {
		if n := builds[k]; n != 1 {
			t.Errorf("%+v built %d times, want once", k, n)
		}
		for j, cl := range got[i] {
			if cl != got[i][0] || *cl != k {
				t.Errorf("%+v: Get %d returned %p %+v, want %p", k, j, cl, *cl, got[i][0])
				break
			}
		}
	}
	if len(builds) != len(keys) {
		t.Errorf("built %d clients, want %d: %v", len(builds), len(keys), fmt.Sprint(builds))
	}
}
