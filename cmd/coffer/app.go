package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/smithy-go/middleware"
	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/collect"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes (DESIGN §5).
const (
	exitOK          = 0
	exitFindings    = 1
	exitUsage       = 2
	exitIncomplete  = 3
	exitInterrupted = 130
)

// app carries what every command needs; commands are built from it, not from package globals.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	code           int
	now            func() time.Time
	debug          bool // --debug: log every AWS call to stderr
	// apiOptions are added to every AWS client's middleware stack. Tests use them to record the
	// operations coffer calls; nil in production.
	apiOptions []func(*middleware.Stack) error
	// stdinIsTerminal says whether --fix can ask for confirmation on stdin; nil is isTerminal.
	// Tests set it to play a terminal.
	stdinIsTerminal func(io.Reader) bool
}

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError gives err exit code 2 (coffer could not run), keeping its chain for errors.Is/As.
func usageError(err error) error {
	return &exitError{code: exitUsage, err: err}
}

// usageErrorf is usageError(fmt.Errorf(format, args...)): pass errors with %w.
func usageErrorf(format string, args ...any) error {
	return usageError(fmt.Errorf(format, args...))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newApp(stdin, stdout, stderr).run(ctx, args)
}

// newApp is the app of a command line with its standard streams and the real clock.
func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now}
}

// run executes one command line and returns the exit code.
func (a *app) run(ctx context.Context, args []string) int {
	stderr := a.stderr
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return a.code
	}
	var ee *exitError
	if ctx.Err() != nil {
		// Interrupted (Ctrl-C, SIGTERM): whatever error the cancelled calls gave, the run is
		// incomplete. Commands write their files only at the end, atomically, so nothing
		// half-done exists — except the changes of an interrupted --fix, which says so itself.
		if errors.As(err, &ee) && ee.code == exitInterrupted {
			fmt.Fprintf(stderr, "coffer: %v\n", err)
		} else {
			fmt.Fprintln(stderr, "coffer: interrupted; nothing was written")
		}
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "coffer: %v\n", err)
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "coffer",
		Short:         "Audit and repair an AWS backup account against the secure-backup workshop baseline",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       toolVersion(),
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.PersistentFlags().BoolVar(&a.debug, "debug", false, "log every AWS API call (service, operation, region, status, duration) to stderr; access key ids are redacted")
	root.AddCommand(a.scanCmd(), a.collectCmd(), a.checksCmd(), a.explainCmd(), a.diffCmd(), a.versionCmd())
	root.AddCommand(a.mergeCmd())
	return root
}

// awsFlags are the flags every command that talks to AWS shares.
type awsFlags struct {
	profile, region, regions, endpointURL string
	concurrency                           int
	timeout, callTimeout                  time.Duration
	quiet                                 bool
	org                                   orgFlags
}

func (f *awsFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.profile, "profile", "", "AWS shared-config profile")
	fl.StringVar(&f.region, "region", "", "home region (default: the SDK chain, else us-east-1)")
	fl.StringVar(&f.regions, "regions", "", "regions to read KMS and CloudTrail from: a comma list, or all (default: the home region)")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint (LocalStack, moto); AWS_ENDPOINT_URL also works")
	fl.IntVar(&f.concurrency, "concurrency", collect.DefaultConcurrency, "parallel API calls")
	fl.DurationVar(&f.timeout, "timeout", 15*time.Minute, "deadline for the whole collection")
	fl.DurationVar(&f.callTimeout, "call-timeout", 30*time.Second, "deadline for one API call, retries included")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress on stderr")
	f.org.register(cmd)
}

func (a *app) collectOptions(f *awsFlags) (collect.Options, error) {
	opts := collect.Options{
		Options: awsclient.Options{
			Profile: f.profile, Region: f.region, EndpointURL: f.endpointURL, CallTimeout: f.callTimeout,
			MFATokenProvider: a.mfaPrompt,
			APIOptions:       append([]func(*middleware.Stack) error(nil), a.apiOptions...),
		},
		Concurrency: f.concurrency, Version: toolVersion(),
	}
	if a.debug {
		opts.Debug = awsclient.NewDebugLog(a.stderr)
	}
	if f.concurrency < 1 {
		return opts, usageErrorf("--concurrency must be at least 1")
	}
	if f.regions != "" {
		for _, r := range strings.Split(f.regions, ",") {
			if r = strings.TrimSpace(r); r != "" {
				opts.Regions = append(opts.Regions, r)
			}
		}
	}
	if !f.quiet && isTerminal(a.stderr) {
		opts.Progress = func(done, total int) {
			fmt.Fprintf(a.stderr, "\rcollecting: %d/%d", done, total)
		}
	}
	return opts, nil
}

// liveSnapshot collects the account the flags point at.
func (a *app) liveSnapshot(ctx context.Context, f *awsFlags) (*checks.Snapshot, error) {
	opts, err := a.collectOptions(f)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cfg, err := awsclient.LoadConfig(ctx, opts.Options)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("aws configuration: %w", err)}
	}
	snap, err := collect.Collect(ctx, cfg, opts)
	if opts.Progress != nil {
		fmt.Fprintln(a.stderr)
	}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("collection did not finish within --timeout %s: %w", f.timeout, err)}
		}
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("collect: %w", err)}
	}
	return snap, nil
}

// mfaPrompt asks for the MFA code of a role_arn + mfa_serial profile on the terminal.
func (a *app) mfaPrompt() (string, error) {
	if !isTerminal(a.stderr) {
		return "", errors.New("this profile needs an MFA code but there is no terminal to ask for it (use credentials from `aws sts assume-role` in CI)")
	}
	fmt.Fprint(a.stderr, "MFA code: ")
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read MFA code: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// stdinTerminal says whether a confirmation can be asked for on stdin.
func (a *app) stdinTerminal() bool {
	if a.stdinIsTerminal != nil {
		return a.stdinIsTerminal(a.stdin)
	}
	return isTerminal(a.stdin)
}

// evalOptions are the evaluation options of every scan: cfg, coffer as the tool, the app's clock.
func (a *app) evalOptions(cfg *checks.Config) checks.EvalOptions {
	return checks.EvalOptions{Config: cfg, Tool: checks.Tool{Name: "coffer", Version: toolVersion()}, Now: a.now}
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
