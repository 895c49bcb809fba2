package catalog

import "errors"

// ErrNoSelection is the error of a selection that names no runtime.
var ErrNoSelection = errors.New("no runtime selected")
