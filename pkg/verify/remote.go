package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
)

// transportOptions configure the retry transport of WithRegistries (tests
// replace its sleep).
var transportOptions []registry.TransportOption

// WithRegistries makes the Verifier read registries as push writes them:
// credentials from registry.Keychain, retries from registry's transport,
// and plain HTTP allowed when insecure.
func WithRegistries(insecure bool) Option {
	return func(v *Verifier) error {
		rt, err := registry.NewRetryTransport(remote.DefaultTransport, transportOptions...)
		if err != nil {
			return err
		}
		if insecure {
			v.names = append(v.names, name.Insecure)
		}
		v.remote = append(v.remote,
			remote.WithAuthFromKeychain(registry.Keychain()),
			remote.WithTransport(registry.RecordSecrets(rt)),
			remote.WithRetryPredicate(func(error) bool { return false }), // the transport retries
			remote.WithRetryStatusCodes(),
		)
		return nil
	}
}

// References verifies every reference (see Reference) and returns the
// reports; the error joins the references that could not be read and a
// count of the images that failed.
func (v *Verifier) References(ctx context.Context, refs []string) ([]Report, error) {
	var reports []Report
	var errs []error
	for _, a := range refs {
		reps, err := v.Reference(ctx, a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reports = append(reports, reps...)
	}
	failed := 0
	for _, r := range reports {
		if r.Failed() {
			failed++
		}
	}
	if failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d images failed verification", failed, len(reports)))
	}
	return reports, errors.Join(errs...)
}
