package ci

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// login is how the publish job signs in to one registry host before it
// pushes. lambdaimg reads the credentials from Docker's config file,
// which each of these actions writes.
type login struct {
	Host string
	// Kind is ecr-public, ecr (private), ghcr or password.
	Kind string
	// Region is the AWS region of an ECR registry.
	Region string
	// Role is the IAM role an ECR login assumes through GitHub's OpenID
	// Connect provider.
	Role string
	// User and Password are GitHub secrets holding a password login's
	// user name and password or token.
	User, Password string
}

var (
	privateECR = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$`)
	iamRole    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$`)
	notAlnum   = regexp.MustCompile(`[^A-Za-z0-9]+`)
)

// loginsOf returns the logins the publish job needs for the registries it
// pushes to, one per host, in the order the registries are named. awsRole
// is the IAM role for ECR; ECR without one is an error that says so.
func loginsOf(registries []string, awsRole string) ([]login, error) {
	if awsRole != "" && !iamRole.MatchString(awsRole) {
		return nil, fmt.Errorf("aws role %q: want an IAM role ARN, e.g. arn:aws:iam::123456789012:role/lambdaimg-publish", awsRole)
	}
	var out []login
	seen := map[string]bool{}
	for _, r := range registries {
		repo, err := name.NewRepository(r)
		if err != nil {
			return nil, fmt.Errorf("registry %q: %w", r, err)
		}
		host := repo.RegistryStr()
		if seen[host] {
			continue
		}
		seen[host] = true
		l := loginFor(host)
		if l.Kind == "ecr" || l.Kind == "ecr-public" {
			if awsRole == "" {
				return nil, fmt.Errorf("registry %q is Amazon ECR: name the IAM role the publish job assumes through GitHub's OpenID Connect provider with --aws-role ARN", r)
			}
			l.Role = awsRole
		}
		out = append(out, l)
	}
	return out, nil
}

// loginFor says how to sign in to host.
func loginFor(host string) login {
	switch {
	case host == "public.ecr.aws":
		// ECR Public's API lives in us-east-1 only.
		return login{Host: host, Kind: "ecr-public", Region: "us-east-1"}
	case privateECR.MatchString(host):
		return login{Host: host, Kind: "ecr", Region: privateECR.FindStringSubmatch(host)[1]}
	case host == "ghcr.io":
		return login{Host: host, Kind: "ghcr"}
	case host == name.DefaultRegistry || host == "docker.io":
		return login{Host: "docker.io", Kind: "password", User: "DOCKERHUB_USERNAME", Password: "DOCKERHUB_TOKEN"}
	}
	v := "REGISTRY_" + strings.ToUpper(notAlnum.ReplaceAllString(host, "_"))
	return login{Host: host, Kind: "password", User: v + "_USERNAME", Password: v + "_PASSWORD"}
}

// anyKind reports whether one of ls is of one of the kinds: the publish
// job needs an OpenID Connect token for ECR and may write packages for
// GitHub's registry.
func anyKind(ls []login, kinds ...string) bool {
	return slices.ContainsFunc(ls, func(l login) bool { return slices.Contains(kinds, l.Kind) })
}
