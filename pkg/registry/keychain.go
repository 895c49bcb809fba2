package registry

import (
	"io"

	ecr "github.com/awslabs/amazon-ecr-credential-helper/ecr-login"
	"github.com/google/go-containerregistry/pkg/authn"
)

// Keychain resolves registry credentials from, in order:
//
//   - the docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json):
//     auths entries, credsStore and credHelpers (which cover Docker Hub
//     after `docker login`);
//   - Amazon ECR private registries and ECR Public (public.ecr.aws, always
//     authenticated in us-east-1) through the ECR credential helper library
//     and the usual AWS credential chain (environment, profile, SSO, IMDS).
//
// A registry with no credentials is accessed anonymously. Credentials are
// never logged, and every credential handed out is remembered so that
// Scrub removes it from errors.
func Keychain() authn.Keychain {
	return RecordingKeychain(authn.NewMultiKeychain(
		authn.DefaultKeychain,
		authn.NewKeychainFromHelper(ecr.NewECRHelper(ecr.WithLogger(io.Discard))),
	))
}
