package awsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DebugLog writes one line per AWS API call (service, operation, region, HTTP status, attempts,
// duration, the access key id redacted) and the SDK's own log messages to a writer. It is safe
// for concurrent use: every client of a run shares one.
//
// Nothing secret reaches it: request and response bodies and headers are never logged, and every
// access key id in a line is cut to its first four characters.
type DebugLog struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewDebugLog logs to w.
func NewDebugLog(w io.Writer) *DebugLog {
	return &DebugLog{w: w, now: time.Now}
}

// Printf writes one redacted line.
func (d *DebugLog) Printf(format string, args ...any) {
	line := RedactAccessKeyIDs(fmt.Sprintf(format, args...))
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintln(d.w, "coffer: debug: "+strings.TrimRight(line, "\n"))
}

// sdkLogger passes the SDK's log messages (retries, IMDS fallbacks) through the redaction.
func (d *DebugLog) sdkLogger() logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		d.Printf("SDK %s %s", c, fmt.Sprintf(format, v...))
	})
}

// accessKeyIDRE matches long-term (AKIA) and temporary (ASIA) access key ids.
var accessKeyIDRE = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{12,}\b`)

// RedactAccessKeyIDs replaces every AKIA…/ASIA… access key id in s by its first four characters
// and ****.
func RedactAccessKeyIDs(s string) string {
	return accessKeyIDRE.ReplaceAllString(s, "$1****")
}

// redactKeyID shortens any access key id, of whatever form (emulators accept "testing"), to its
// first four characters and ****.
func redactKeyID(id string) string {
	if id == "" {
		return "-"
	}
	if len(id) > 4 {
		id = id[:4]
	}
	return id + "****"
}

// sdkLogger is the logger every client gets: silent unless debugging. The SDK's default logger
// writes to stderr, which would put warnings such as an IMDS fallback into coffer's output.
func (o Options) sdkLogger() logging.Logger {
	if o.Debug != nil {
		return o.Debug.sdkLogger()
	}
	return logging.Nop{}
}

type debugCallKey struct{}

// debugCall collects what the inner middleware sees of one call.
type debugCall struct {
	mu    sync.Mutex
	keyID string
}

var scopeKeyRE = regexp.MustCompile(`Credential=([^/,\s]+)/`)

// middleware logs each operation once, after all its attempts: the Initialize step wraps the retry
// loop. A Finalize step middleware after signing reads the access key id from the Authorization
// header, the only place the caller's identity shows without resolving credentials again.
func (d *DebugLog) middleware(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CofferDebugLog",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			call := &debugCall{}
			start := d.now()
			out, md, err := next.HandleInitialize(context.WithValue(ctx, debugCallKey{}, call), in)
			call.mu.Lock()
			key := call.keyID
			call.mu.Unlock()
			d.Printf("%s", describeCall(ctx, md, err, key, d.now().Sub(start)))
			return out, md, err
		}), middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("CofferDebugKeyID",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if call, ok := ctx.Value(debugCallKey{}).(*debugCall); ok {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					if m := scopeKeyRE.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
						call.mu.Lock()
						call.keyID = m[1]
						call.mu.Unlock()
					}
				}
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func describeCall(ctx context.Context, md middleware.Metadata, err error, keyID string, took time.Duration) string {
	status := "-"
	if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && raw != nil {
		status = strconv.Itoa(raw.StatusCode)
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() != 0 {
		status = strconv.Itoa(respErr.HTTPStatusCode())
	}
	attempts := 0
	if res, ok := retry.GetAttemptResults(md); ok {
		attempts = len(res.Results)
	}
	region := awsmiddleware.GetRegion(ctx)
	if region == "" {
		region = "-"
	}
	line := fmt.Sprintf("%s %s region=%s status=%s attempts=%d duration=%s key=%s",
		awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), region, status, attempts,
		took.Round(time.Millisecond), redactKeyID(keyID))
	if err != nil {
		code, msg := ErrorCode(err)
		line += fmt.Sprintf(" error=%s: %s", code, oneLine(msg))
	}
	return line
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
