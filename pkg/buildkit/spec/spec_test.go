package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, in string
		want     Builder
		err      string
	}{
		{name: "address only", in: "tcp://h:1234", want: Builder{Addr: "tcp://h:1234"}},
		{name: "helper scheme", in: "docker-container://bk?context=x", want: Builder{Addr: "docker-container://bk?context=x"}},
		{name: "tls like buildctl", in: "tcp://h:1234,cacert=ca.pem,cert=c.pem,key=k.pem,servername=b",
			want: Builder{Addr: "tcp://h:1234", CACert: "ca.pem", Cert: "c.pem", Key: "k.pem", ServerName: "b"}},
		{name: "platforms and jobs", in: "tcp://h:1,platform=linux/arm64/v8,platform=linux/amd64,jobs=3",
			want: Builder{Addr: "tcp://h:1", Platforms: []string{"linux/arm64", "linux/amd64"}, Jobs: 3}},
		{name: "no scheme", in: "h:1234", err: `want an address SCHEME://`},
		{name: "unknown option", in: "tcp://h:1,tls=1", err: `unknown option "tls"`},
		{name: "bad jobs", in: "tcp://h:1,jobs=0", err: `jobs "0": want a number of at least 1`},
		{name: "bad platform", in: "tcp://h:1,platform=linux/nope/x/y", err: `platform "linux/nope/x/y"`},
		{name: "cert without key", in: "tcp://h:1,cert=c.pem", err: "cert and key go together"},
		{name: "no value", in: "tcp://h:1,cacert", err: `option "cacert": want key=value`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse(%q) error %v, want one containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
