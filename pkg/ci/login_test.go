package ci

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoginsOf(t *testing.T) {
	role := "arn:aws:iam::123456789012:role/publish"
	got, err := loginsOf([]string{
		"public.ecr.aws/a", "public.ecr.aws/b", // one login per host
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/lambda",
		"example", // Docker Hub, as name.NewRepository reads it
		"ghcr.io/org/lambda",
		"registry.example.com:5000/lambda",
	}, role)
	if err != nil {
		t.Fatal(err)
	}
	want := []login{
		{Host: "public.ecr.aws", Kind: "ecr-public", Region: "us-east-1", Role: role},
		{Host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", Kind: "ecr", Region: "eu-west-1", Role: role},
		{Host: "docker.io", Kind: "password", User: "DOCKERHUB_USERNAME", Password: "DOCKERHUB_TOKEN"},
		{Host: "ghcr.io", Kind: "ghcr"},
		{Host: "registry.example.com:5000", Kind: "password",
			User: "REGISTRY_REGISTRY_EXAMPLE_COM_5000_USERNAME", Password: "REGISTRY_REGISTRY_EXAMPLE_COM_5000_PASSWORD"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("logins (-want +got):\n%s", diff)
	}
}

func TestLoginsOfRefuses(t *testing.T) {
	for _, c := range []struct {
		registries []string
		role, want string
	}{
		{[]string{"public.ecr.aws/a"}, "", "--aws-role"},
		{[]string{"123456789012.dkr.ecr.us-east-2.amazonaws.com/x"}, "", "--aws-role"},
		{[]string{"docker.io/x"}, "my-role", "want an IAM role ARN"},
		{[]string{"docker.io/x"}, "arn:aws:iam::123:role/x", "want an IAM role ARN"},
		{[]string{"UPPER/case"}, "", "registry"},
	} {
		_, err := loginsOf(c.registries, c.role)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("loginsOf(%v, %q) = %v, want an error with %q", c.registries, c.role, err, c.want)
		}
	}
}

// TestNoLoginNoPermissions: a workflow that pushes nowhere it must log in
// to asks for no permission beyond reading the repository.
func TestNoLoginNoPermissions(t *testing.T) {
	got, err := Generate(GitHub{Select: []string{"--all"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"id-token", "packages: write", "login-action", "ecr-login"} {
		if strings.Contains(string(got), s) {
			t.Errorf("workflow without registries holds %q", s)
		}
	}
}
