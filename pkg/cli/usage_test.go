package cli

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageErrors: how lambdaimg is called is checked before any work, and
// a wrong call is a usage error (exit 2) saying what is wrong.
func TestUsageErrors(t *testing.T) {
	emptyZip := filepath.Join(t.TempDir(), "empty.zip")
	f, _ := os.Create(emptyZip)
	zip.NewWriter(f).Close()
	f.Close()
	store := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string // "" for success
		not  string // must not be in the error
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate" for "lambdaimg"`, ""},
		{"misspelt command", []string{"buidl"}, "did you mean build?", ""},
		{"extra argument", []string{"build", "extra"}, `unknown command "extra" for "lambdaimg build"`, ""},
		{"generate extra argument", []string{"generate", "x"}, `unknown command "x" for "lambdaimg generate"`, ""},
		{"verify without images", []string{"verify"}, "name at least one image to verify", ""},
		{"unknown builder command", []string{"builder", "foo"}, `unknown command "foo" for "lambdaimg builder"`, ""},
		{"builder alone prints help", []string{"builder"}, "", ""},
		{"jobs 0", []string{"build", "-r", "python3.12", "--jobs", "0"}, "--jobs 0: want at least 1", ""},
		{"builder without scheme", []string{"build", "-r", "python3.12", "--builder", "host:1234"}, `--builder: builder "host:1234": want an address SCHEME://`, ""},
		{"builder bad option", []string{"test", "-r", "python3.12", "--builder", "tcp://h:1,jobs=x"}, `--builder: builder "tcp://h:1": jobs "x"`, ""},
		{"builder and addr", []string{"run", "-r", "python3.12", "--addr", "tcp://a:1", "--builder", "tcp://b:1"}, "--addr and --builder", ""},
		{"builder ls bad builder", []string{"builder", "ls", "--builder", "x"}, `--builder: builder "x"`, ""},
		{"push jobs 0", []string{"push", "--registry", "r.example/x", "--jobs", "0"}, "want at least 1", ""},
		{"mirror with a space", []string{"build", "-r", "python3.12", "--store", store, "--registry-mirror", "docker.io=mirror .internal"}, "--registry-mirror", ""},
		{"apt mirror without =", []string{"build", "-r", "python3.12", "--store", store, "--apt-mirror", "http://deb.debian.org/debian"}, "--apt-mirror", ""},
		{"apt mirror not http", []string{"plan", "-r", "python3.12", "--store", store, "--apt-mirror", "http://deb.debian.org/debian=ftp://m/debian"}, "--apt-mirror", ""},
		{"unknown progress", []string{"build", "-r", "python3.12", "--store", store, "--progress", "foo"}, `--progress "foo"`, ""},
		{"lock without locked", []string{"build", "-r", "python3.12", "--store", store, "--lock", "x.lock"}, "add --locked", ""},
		{"locked with a package", []string{"build", "-r", "python3.12", "--store", store, "--locked", "--package", "jq"}, "--package: extra OS packages are not in the lock", ""},
		{"locked with an image argument", []string{"build", "-r", "python3.12", "--store", store, "--locked", "--build-arg", "BASE_IMAGE=x"}, "--build-arg BASE_IMAGE", ""},
		{"lock format", []string{"lock", "-r", "python3.12", "-o", "yaml"}, "yaml", ""},
		{"extension /dev/zero", []string{"build", "-r", "python3.12", "--os", "alpine", "--store", store, "--extension", "/dev/zero"},
			"--extension: python3.12/alpine: extension /dev/zero: it is a character device", ""},
		{"empty extension zip", []string{"build", "-r", "python3.12", "--os", "alpine", "--store", store, "--extension", emptyZip},
			"the zip holds no files", "lambdaimg-extensions-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := execute(t, nil, tc.args...)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %q", err, tc.want)
			}
			if !IsUsage(err) {
				t.Errorf("not a usage error: %v", err)
			}
			if tc.not != "" && strings.Contains(err.Error(), tc.not) {
				t.Errorf("the error shows %q: %v", tc.not, err)
			}
		})
	}
}

// TestGenerateKeepsUserFiles: generate replaces the directories it wrote,
// and refuses, writing nothing, where the user keeps files of their own.
func TestGenerateKeepsUserFiles(t *testing.T) {
	dir := t.TempDir()
	args := []string{"generate", "-r", "python3.12", "--os", "alpine,debian", "--dir", dir}
	if _, _, err := execute(t, nil, args...); err != nil {
		t.Fatal(err)
	}
	// Generating again over its own output is fine.
	if _, _, err := execute(t, nil, args...); err != nil {
		t.Fatalf("regenerate: %v", err)
	}
	notes := filepath.Join(dir, "python3.12", "debian", "notes.txt")
	os.WriteFile(notes, []byte("mine"), 0o644)
	os.MkdirAll(filepath.Join(dir, "python3.12", "debian", "work"), 0o755)
	dockerfile := filepath.Join(dir, "python3.12", "alpine", "Dockerfile")
	os.WriteFile(dockerfile, []byte("stale"), 0o644)
	_, _, err := execute(t, nil, args...)
	want := `python3.12/debian holds files lambdaimg did not write ("notes.txt", "work/")`
	if err == nil || !strings.Contains(err.Error(), want) || !IsUsage(err) {
		t.Fatalf("err = %v, want a usage error with %q", err, want)
	}
	if b, err := os.ReadFile(notes); err != nil || string(b) != "mine" {
		t.Errorf("the user's file is gone or changed: %q, %v", b, err)
	}
	if b, _ := os.ReadFile(dockerfile); string(b) != "stale" {
		t.Error("a context was written although another was refused")
	}
	// A file where the context directory goes is not replaced either.
	file := filepath.Join(t.TempDir(), "python3.12")
	os.MkdirAll(file, 0o755)
	os.WriteFile(filepath.Join(file, "alpine"), []byte("mine"), 0o644)
	_, _, err = execute(t, nil, "generate", "-r", "python3.12", "--os", "alpine", "--dir", filepath.Dir(file))
	if err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("err = %v, want the file kept", err)
	}
}

// TestCatalogKeyCannotForgeLines: a key holding a newline is escaped in
// the error, so it cannot print a line that looks like lambdaimg's own.
func TestCatalogKeyCannotForgeLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "catalog.yaml")
	text := "extends: builtin\nruntimes:\n  - id: python3.12\n    variants:\n      \"alpine\\nlambdaimg: all good\": {base: \"bad image\", labels: {\"x\\ny\": z}}\n"
	os.WriteFile(p, []byte(text), 0o644)
	for _, args := range [][]string{{"list", "--catalog", p}} {
		_, _, err := execute(t, nil, args...)
		if err == nil {
			t.Fatal("the catalog was accepted")
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if strings.HasPrefix(line, "lambdaimg:") || strings.HasPrefix(line, "y") {
				t.Errorf("a catalog key forged the line %q in:\n%s", line, err)
			}
		}
		if !strings.Contains(err.Error(), `alpine\nlambdaimg: all good`) {
			t.Errorf("the key is not shown escaped:\n%s", err)
		}
	}
}
