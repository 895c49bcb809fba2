package pipeline

import "testing"

func TestVariantFilter(t *testing.T) {
	tests := []struct {
		filter []string
		v      string
		want   bool
	}{
		{nil, "alpine", true},
		{[]string{"alpine"}, "alpine", true},
		{[]string{"alpine"}, "alpine3.20", true},
		{[]string{"al2"}, "al2023", false},
		{[]string{"al2023"}, "al2023", true},
		{[]string{"a"}, "aws", false},
		{[]string{"debian", "aws"}, "aws", true},
	}
	for _, tc := range tests {
		if got := matches(tc.filter, tc.v, true); got != tc.want {
			t.Errorf("matches(%v, %q) = %v, want %v", tc.filter, tc.v, got, tc.want)
		}
	}
}
