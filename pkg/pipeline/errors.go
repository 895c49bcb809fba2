package pipeline

import "fmt"

// What a RequestError is about.
const (
	FieldSelect    = "select"    // the selection of runtimes, variants, platforms
	FieldPackage   = "package"   // an extra OS package
	FieldExtension = "extension" // an extension path
	FieldHandler   = "handler"   // the function the smoke test runs
	FieldDir       = "dir"       // where generate writes
)

// RequestError is a request that cannot run as asked: what the user must
// change, as opposed to a failure along the way. Field says which part.
type RequestError struct {
	Field string
	Err   error
}

func (e *RequestError) Error() string { return e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

func requestErr(field string, format string, args ...any) error {
	return &RequestError{Field: field, Err: fmt.Errorf(format, args...)}
}
