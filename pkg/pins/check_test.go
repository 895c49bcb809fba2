package pins_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/pins"
)

// fakeRegistries serves npm, PyPI and Maven Central documents under /npm,
// /pypi and /maven, and counts the requests per path. The npm packages
// "flaky" and "slow" fail their first request (a 500, a hang); "down"
// always answers 503.
type fakeRegistries struct {
	mu       sync.Mutex
	requests map[string]int
}

const npmDoc = `{"name":"aws-lambda-ric","dist-tags":{"latest":"4.0.2"},"versions":{
  "2.1.0":{"deprecated":"use 3.x"},"3.2.0":{},"3.3.0":{},"4.0.2":{}}}`

const pypiDoc = `{"meta":{"api-version":"1.1"},"name":"awslambdaric",
 "versions":["2.2.1","3.0.0","3.1.1","4.0.0"],
 "files":[
  {"filename":"awslambdaric-2.2.1.tar.gz","yanked":false},
  {"filename":"awslambdaric-3.0.0.tar.gz","yanked":"broken build"},
  {"filename":"awslambdaric-3.1.1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl","yanked":false},
  {"filename":"awslambdaric-3.1.1-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl","yanked":false},
  {"filename":"awslambdaric-3.1.1.tar.gz","yanked":false}]}`

func (f *fakeRegistries) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests[r.URL.Path]++
	n := f.requests[r.URL.Path]
	f.mu.Unlock()
	accept := r.Header.Get("Accept")
	switch p := r.URL.Path; {
	case p == "/npm/flaky" && n == 1:
		http.Error(w, "upstream trouble", http.StatusInternalServerError)
	case p == "/npm/down":
		http.Error(w, "upstream trouble", http.StatusServiceUnavailable)
	case p == "/npm/slow" && n == 1:
		<-r.Context().Done()
	case strings.HasPrefix(p, "/npm/") && accept != "application/vnd.npm.install-v1+json":
		http.Error(w, "want the abbreviated document", http.StatusNotAcceptable)
	case p == "/npm/aws-lambda-ric", p == "/npm/flaky", p == "/npm/slow":
		w.Write([]byte(npmDoc))
	case p == "/pypi/simple/awslambdaric/" && accept == "application/vnd.pypi.simple.v1+json":
		w.Write([]byte(pypiDoc))
	case p == "/maven/com/amazonaws/aws-lambda-java-runtime-interface-client/2.10.1/aws-lambda-java-runtime-interface-client-2.10.1.pom":
		w.Write([]byte("<project/>"))
	case p == "/npm/forbidden":
		http.Error(w, "no", http.StatusForbidden)
	default:
		http.NotFound(w, r)
	}
}

// outcome is what a test compares of a Result: whether asking failed, not
// the error's wording (it names the server's port).
type outcome struct {
	Pin    string
	Status pins.Status
	Detail string
	Failed bool
}

func TestCheck(t *testing.T) {
	const javaRIC = "com.amazonaws:aws-lambda-java-runtime-interface-client"
	tests := []struct {
		name     string
		pins     []pins.Pin
		down     bool // point the checker at a server that is gone
		want     []outcome
		requests map[string]int
	}{
		{
			name: "served",
			pins: []pins.Pin{
				{Registry: pins.NPM, Package: "aws-lambda-ric", Version: "3.2.0"},
				{Registry: pins.NPM, Package: "aws-lambda-ric", Version: "2.1.0"},
				{Registry: pins.PyPI, Package: "awslambdaric", Version: "3.1.1"},
				{Registry: pins.PyPI, Package: "AWSLambdaRIC", Version: "2.2.1"},
				{Registry: pins.PyPI, Package: "awslambdaric", Version: "3.0.0"},
				{Registry: pins.MavenCentral, Package: javaRIC, Version: "2.10.1"},
			},
			want: []outcome{
				{Pin: "npm aws-lambda-ric@3.2.0", Status: pins.Served},
				{Pin: "npm aws-lambda-ric@2.1.0", Status: pins.Served, Detail: "deprecated: use 3.x"},
				{Pin: "PyPI awslambdaric@3.1.1", Status: pins.Served, Detail: "2 wheels, 1 sdist"},
				{Pin: "PyPI AWSLambdaRIC@2.2.1", Status: pins.Served, Detail: "0 wheels, 1 sdist"},
				{Pin: "PyPI awslambdaric@3.0.0", Status: pins.Served, Detail: "yanked: broken build"},
				{Pin: "Maven Central " + javaRIC + "@2.10.1", Status: pins.Served},
			},
			requests: map[string]int{
				"/npm/aws-lambda-ric":        2,
				"/pypi/simple/awslambdaric/": 3,
				"/maven/com/amazonaws/aws-lambda-java-runtime-interface-client/2.10.1/aws-lambda-java-runtime-interface-client-2.10.1.pom": 1,
			},
		},
		{
			name: "missing",
			pins: []pins.Pin{
				{Registry: pins.NPM, Package: "aws-lambda-ric", Version: "4.0.0"},
				{Registry: pins.NPM, Package: "aws-lambda-ric", Version: "5.0.0"},
				{Registry: pins.NPM, Package: "no-such-package", Version: "1.0.0"},
				{Registry: pins.PyPI, Package: "awslambdaric", Version: "4.0.0"},
				{Registry: pins.PyPI, Package: "awslambdaric", Version: "3.1.2"},
				{Registry: pins.MavenCentral, Package: javaRIC, Version: "9.9.9"},
			},
			want: []outcome{
				{Pin: "npm aws-lambda-ric@4.0.0", Status: pins.Missing, Detail: "not served; 4.x served: 4.0.2; latest: 4.0.2"},
				{Pin: "npm aws-lambda-ric@5.0.0", Status: pins.Missing, Detail: "not served; 5.x served: none; latest: 4.0.2"},
				{Pin: "npm no-such-package@1.0.0", Status: pins.Missing, Detail: "npm has no such package"},
				{Pin: "PyPI awslambdaric@4.0.0", Status: pins.Missing, Detail: "PyPI lists the release but serves no file of it"},
				{Pin: "PyPI awslambdaric@3.1.2", Status: pins.Missing, Detail: "not served; 3.x served: 3.0.0, 3.1.1; latest: 4.0.0"},
				{Pin: "Maven Central " + javaRIC + "@9.9.9", Status: pins.Missing, Detail: "Maven Central has no POM for it"},
			},
			requests: map[string]int{
				"/npm/aws-lambda-ric":        2,
				"/npm/no-such-package":       1,
				"/pypi/simple/awslambdaric/": 2,
				"/maven/com/amazonaws/aws-lambda-java-runtime-interface-client/9.9.9/aws-lambda-java-runtime-interface-client-9.9.9.pom": 1,
			},
		},
		{
			name: "a 500 or a timeout is retried once",
			pins: []pins.Pin{
				{Registry: pins.NPM, Package: "flaky", Version: "3.2.0"},
				{Registry: pins.NPM, Package: "slow", Version: "3.3.0"},
			},
			want: []outcome{
				{Pin: "npm flaky@3.2.0", Status: pins.Served},
				{Pin: "npm slow@3.3.0", Status: pins.Served},
			},
			requests: map[string]int{"/npm/flaky": 2, "/npm/slow": 2},
		},
		{
			name: "a registry that keeps failing or refuses leaves the pin unchecked, with an error",
			pins: []pins.Pin{
				{Registry: pins.NPM, Package: "down", Version: "1.0.0"},
				{Registry: pins.NPM, Package: "forbidden", Version: "1.0.0"},
			},
			want: []outcome{
				{Pin: "npm down@1.0.0", Status: pins.Unchecked, Failed: true},
				{Pin: "npm forbidden@1.0.0", Status: pins.Unchecked, Failed: true},
			},
			requests: map[string]int{"/npm/down": 2, "/npm/forbidden": 1},
		},
		{
			name: "an unreachable registry leaves the pin unchecked, with an error",
			pins: []pins.Pin{{Registry: pins.NPM, Package: "aws-lambda-ric", Version: "3.2.0"}},
			down: true,
			want: []outcome{{Pin: "npm aws-lambda-ric@3.2.0", Status: pins.Unchecked, Failed: true}},
		},
		{
			name: "registries out of reach are not asked",
			pins: []pins.Pin{
				{Registry: pins.RubyGems, Package: "aws_lambda_ric", Version: "3.1.3"},
				{Registry: pins.NuGet, Package: "Amazon.Lambda.RuntimeSupport", Version: "1.13.0"},
				{Registry: pins.NodeJSDist, Package: "node", Version: "16.20.2"},
				{Registry: pins.GitHubReleases, Package: "https://github.com/x/releases/download/v1/rie", Version: "1", SHA256: "aa"},
			},
			want: []outcome{
				{Pin: "RubyGems aws_lambda_ric@3.1.3", Status: pins.Unchecked, Detail: "could not check, RubyGems unreachable from this machine"},
				{Pin: "NuGet Amazon.Lambda.RuntimeSupport@1.13.0", Status: pins.Unchecked, Detail: "could not check, NuGet unreachable from this machine"},
				{Pin: "nodejs.org node@16.20.2", Status: pins.Unchecked, Detail: "could not check, nodejs.org unreachable from this machine"},
				{Pin: "GitHub releases https://github.com/x/releases/download/v1/rie@1 sha256:aa", Status: pins.Unchecked, Detail: "could not check, GitHub releases unreachable from this machine"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeRegistries{requests: map[string]int{}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			base := srv.URL
			if tc.down {
				gone := httptest.NewServer(http.NotFoundHandler())
				base = gone.URL
				gone.Close()
			}
			checker, err := pins.NewChecker(srv.Client(),
				pins.WithEndpoint(pins.NPM, base+"/npm"),
				pins.WithEndpoint(pins.PyPI, base+"/pypi/"),
				pins.WithEndpoint(pins.MavenCentral, base+"/maven"),
				pins.WithTimeout(200*time.Millisecond),
				pins.WithRetryDelay(time.Millisecond),
			)
			if err != nil {
				t.Fatal(err)
			}
			var got []outcome
			for _, r := range checker.Check(context.Background(), tc.pins) {
				o := outcome{Pin: r.Pin.String(), Status: r.Status, Failed: r.Err != nil}
				if r.Err == nil {
					o.Detail = r.Detail
				}
				got = append(got, o)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if tc.requests == nil {
				tc.requests = map[string]int{}
			}
			if diff := cmp.Diff(tc.requests, fake.requests); diff != "" {
				t.Errorf("requests per path (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckConcurrency checks that no more requests than asked for are in
// flight, and that that many are.
func TestCheckConcurrency(t *testing.T) {
	var mu sync.Mutex
	inFlight, most := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.Write([]byte(npmDoc))
	}))
	defer srv.Close()
	checker, err := pins.NewChecker(srv.Client(), pins.WithEndpoint(pins.NPM, srv.URL), pins.WithConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	var ps []pins.Pin
	for range 8 {
		ps = append(ps, pins.Pin{Registry: pins.NPM, Package: "aws-lambda-ric", Version: "3.2.0"})
	}
	checker.Check(context.Background(), ps)
	if diff := cmp.Diff(2, most); diff != "" {
		t.Errorf("most requests in flight (-want +got):\n%s", diff)
	}
}

func TestNewCheckerOptions(t *testing.T) {
	tests := []struct {
		name    string
		opt     pins.Option
		wantErr bool
	}{
		{"endpoint", pins.WithEndpoint(pins.PyPI, "http://127.0.0.1:8080/pypi"), false},
		{"endpoint of a registry not checked", pins.WithEndpoint(pins.RubyGems, "https://rubygems.org"), true},
		{"relative endpoint", pins.WithEndpoint(pins.NPM, "registry.npmjs.org"), true},
		{"endpoint of another scheme", pins.WithEndpoint(pins.NPM, "ftp://registry.npmjs.org"), true},
		{"concurrency", pins.WithConcurrency(1), false},
		{"no concurrency", pins.WithConcurrency(0), true},
		{"timeout", pins.WithTimeout(time.Second), false},
		{"zero timeout", pins.WithTimeout(0), true},
		{"no retry delay", pins.WithRetryDelay(0), false},
		{"negative retry delay", pins.WithRetryDelay(-time.Second), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pins.NewChecker(nil, tc.opt)
			if diff := cmp.Diff(tc.wantErr, err != nil); diff != "" {
				t.Errorf("NewChecker error %v (-want +got):\n%s", err, diff)
			}
		})
	}
}
