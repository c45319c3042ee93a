package fix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coffer-audit/coffer/checks"
)

// Outcomes of a change.
const (
	OutcomeStarted   = "started" // only in a journal left by a coffer that stopped mid-change
	OutcomeApplied   = "applied"
	OutcomeUnchanged = "unchanged" // the live configuration was already right: no call made
	OutcomeFailed    = "failed"
	OutcomeSkipped   = "skipped" // not attempted: a change it depends on failed, or coffer was interrupted
)

// DefaultConcurrency is how many resources Apply changes at once when Clients does not say.
const DefaultConcurrency = 8

// Outcome is what happened to one change.
type Outcome struct {
	N        int             `json:"n"`
	CheckID  string          `json:"check_id"`
	Resource checks.Resource `json:"resource"`
	Target   string          `json:"target"`
	Outcome  string          `json:"outcome"`
	Error    string          `json:"error,omitempty"`
	Calls    []string        `json:"calls"`
	Before   any             `json:"before"`
	After    any             `json:"after"`
	Duration time.Duration   `json:"duration"`
}

// Result is the outcome of every change of a plan, in plan order.
type Result struct {
	Outcomes []Outcome
	// JournalError is set when the journal could not be written; Apply then stops starting changes.
	JournalError error
	// Elapsed is the wall time of Apply.
	Elapsed time.Duration
}

// Count returns how many changes ended with outcome.
func (r *Result) Count(outcome string) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Outcome == outcome {
			n++
		}
	}
	return n
}

// Failed is the number of changes that failed or were skipped.
func (r *Result) Failed() int { return r.Count(OutcomeFailed) + r.Count(OutcomeSkipped) }

// Calls is the number of mutating calls made.
func (r *Result) Calls() int {
	n := 0
	for _, o := range r.Outcomes {
		n += len(o.Calls)
	}
	return n
}

// Apply makes the plan's changes. Phases run in order (account settings and keys first); within a
// phase, changes to different targets run concurrently and changes to one target run in plan
// order, each re-reading the live configuration first. A failed change does not stop the others,
// except the ones that depend on it. The journal (nil for none) is rewritten after every step.
func Apply(ctx context.Context, plan *Plan, cl *Clients, j *Journal) *Result {
	started := time.Now()
	res := &Result{Outcomes: make([]Outcome, len(plan.Changes))}
	defer func() { res.Elapsed = time.Since(started) }()
	index := map[int]int{}
	for i, c := range plan.Changes {
		index[c.N] = i
		res.Outcomes[i] = Outcome{N: c.N, CheckID: c.CheckID, Resource: c.Resource, Target: c.Target, Calls: []string{}}
	}
	workers := cl.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	var mu sync.Mutex // guards res
	outcome := func(n int) Outcome {
		mu.Lock()
		defer mu.Unlock()
		return res.Outcomes[index[n]]
	}
	record := func(c *Change, o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		res.Outcomes[index[c.N]] = o
	}
	journalFailed := func(err error) bool {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && res.JournalError == nil {
			res.JournalError = err
		}
		return res.JournalError != nil
	}

	runOne := func(c *Change) {
		o := Outcome{N: c.N, CheckID: c.CheckID, Resource: c.Resource, Target: c.Target, Calls: []string{}}
		skip := func(why string) {
			o.Outcome, o.Error = OutcomeSkipped, why
			record(c, o)
			journalFailed(j.skip(c, o))
		}
		if journalFailed(nil) {
			o.Outcome, o.Error = OutcomeSkipped, "the journal could not be written, so no further change was made"
			record(c, o)
			return
		}
		if ctx.Err() != nil {
			skip("interrupted before this change started")
			return
		}
		for _, d := range c.DependsOn {
			if _, inPlan := index[d]; !inPlan {
				continue // the plan was filtered; the change it named is not being made
			}
			if dep := outcome(d); dep.Outcome != OutcomeApplied && dep.Outcome != OutcomeUnchanged {
				skip(fmt.Sprintf("change %d (%s) did not succeed", d, dep.CheckID))
				return
			}
		}
		entry, err := j.begin(c)
		if journalFailed(err) {
			o.Outcome, o.Error = OutcomeSkipped, "the journal could not be written, so this change was not made"
			record(c, o)
			return
		}
		start := time.Now()
		ex, err := c.apply(ctx, cl, plan.AccountID)
		o.Duration = time.Since(start)
		if ex != nil {
			o.Before, o.After, o.Calls = ex.Before, ex.After, nonNil(ex.Calls)
		}
		switch {
		case err != nil:
			o.Outcome, o.Error = OutcomeFailed, describe(err)
		case len(o.Calls) == 0:
			o.Outcome = OutcomeUnchanged
		default:
			o.Outcome = OutcomeApplied
		}
		record(c, o)
		journalFailed(j.end(entry, o))
	}

	phases := map[int][]*Change{}
	for _, c := range plan.Changes {
		phases[c.phase] = append(phases[c.phase], c)
	}
	for _, p := range slicesSorted(phases) {
		// Changes to one target run in order in one goroutine; targets share a bounded pool.
		groups := map[string][]*Change{}
		var targets []string
		for _, c := range phases[p] {
			if _, ok := groups[c.Target]; !ok {
				targets = append(targets, c.Target)
			}
			groups[c.Target] = append(groups[c.Target], c)
		}
		sem := make(chan struct{}, workers)
		var wg sync.WaitGroup
		for _, t := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				for _, c := range groups[t] {
					runOne(c)
				}
			}()
		}
		wg.Wait()
	}
	journalFailed(j.finish())
	return res
}

func slicesSorted(m map[int][]*Change) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// describe is the reason a change failed, for people: the AWS error code and message, or the
// precondition that stopped it.
func describe(err error) string {
	var pre *precondition
	if errors.As(err, &pre) {
		return pre.msg + " (nothing was changed)"
	}
	var msgs []string
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			msgs = append(msgs, reason(e))
		}
		return strings.Join(msgs, "; ")
	}
	return reason(err)
}

// Write prints the outcome of every change.
func (r *Result) Write(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("Applied %d of %d changes (%d already in place, %d failed, %d skipped; %d mutating API calls in %s).\n",
		r.Count(OutcomeApplied), len(r.Outcomes), r.Count(OutcomeUnchanged), r.Count(OutcomeFailed), r.Count(OutcomeSkipped), r.Calls(), r.Elapsed.Round(time.Millisecond))
	for _, o := range r.Outcomes {
		ew.printf("  %-9s %3d. %s  %s", o.Outcome, o.N, o.CheckID, o.Resource.ARN)
		switch {
		case o.Error != "":
			ew.printf("\n                 %s", o.Error)
		case len(o.Calls) > 0:
			ew.printf("  (%s)", strings.Join(o.Calls, ", "))
		}
		ew.printf("\n")
	}
	if r.JournalError != nil {
		ew.printf("The journal could not be written: %v\n", r.JournalError)
	}
	return ew.err
}
