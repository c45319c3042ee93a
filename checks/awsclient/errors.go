package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// ErrorCode extracts the AWS error code and message of err, which may be wrapped. Services that
// answer with a bare HTTP status (moto's KMS and CloudTrail send 403 with an HTML body) get a code
// from the status: AccessDenied for 403, else the status number. Errors that never got an answer
// are Timeout (deadline exceeded) or RequestError. The code is never empty.
func ErrorCode(err error) (code, msg string) {
	msg = err.Error()
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
		if m := apiErr.ErrorMessage(); m != "" {
			msg = m
		}
	}
	var respErr *awshttp.ResponseError
	status := 0
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	if code == "" || code == "UnknownError" || code == strconv.Itoa(status) {
		switch {
		case status == http.StatusForbidden:
			code = "AccessDenied"
			msg = fmt.Sprintf("HTTP 403: %s", err.Error())
		case status != 0:
			code = strconv.Itoa(status)
		case errors.Is(err, context.DeadlineExceeded):
			code = "Timeout"
		case code == "":
			code = "RequestError"
		}
	}
	return code, msg
}

// IsCode reports whether err is (or wraps) an AWS API error with one of codes.
func IsCode(err error, codes ...string) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return slices.Contains(codes, apiErr.ErrorCode())
}

// alreadyExistsCodes are the codes with which S3, IAM, CloudTrail and KMS refuse to create what is
// already there.
var alreadyExistsCodes = []string{
	"BucketAlreadyOwnedByYou", "BucketAlreadyExists", "EntityAlreadyExists",
	"TrailAlreadyExistsException", "AlreadyExistsException",
}

// AlreadyExists reports whether err says the resource being created is already there.
func AlreadyExists(err error) bool {
	return IsCode(err, alreadyExistsCodes...)
}
