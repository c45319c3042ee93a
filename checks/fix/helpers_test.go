package fix_test

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/awsconv"
)

var lifecycleRuleOf = awsconv.LifecycleRule

func collect3Control(e *env) *s3control.Client {
	return awsclient.NewS3Control(e.cfg, "us-east-1", e.opts.Options)
}

// statements parses a policy document's Statement list.
func statements(t *testing.T, text string) []map[string]any {
	t.Helper()
	var doc struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("policy %s: %v", text, err)
	}
	return doc.Statement
}

// asJSON renders v as JSON so SDK values with unexported fields compare by meaning.
func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// methods lists the method names of the interface behind a typed nil pointer.
func methods(ptrToInterface any) []string {
	typ := reflect.TypeOf(ptrToInterface).Elem()
	out := make([]string, typ.NumMethod())
	for i := range out {
		out[i] = typ.Method(i).Name
	}
	return out
}
