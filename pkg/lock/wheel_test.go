package lock

import (
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

func TestFitsPython(t *testing.T) {
	tg := &catalog.Target{Runtime: &catalog.Runtime{Version: "3.12"}, Arches: []catalog.Arch{catalog.ARM64}}
	for name, want := range map[string]bool{
		"awslambdaric-4.2.2.tar.gz": true,
		"awslambdaric-4.2.2-cp312-cp312-manylinux2014_aarch64.manylinux_2_17_aarch64.whl": true,
		"awslambdaric-4.2.2-cp312-cp312-musllinux_1_1_aarch64.whl":                        true,
		"awslambdaric-4.2.2-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.whl":   false, // not an arch of the target
		"awslambdaric-4.2.2-cp311-cp311-manylinux2014_aarch64.whl":                        false, // another Python
		"awslambdaric-4.2.2-py3-none-any.whl":                                             true,
		"awslambdaric-4.2.2-bad.whl":                                                      false,
	} {
		if got := fitsPython(name, tg); got != want {
			t.Errorf("fitsPython(%s) = %v, want %v", name, got, want)
		}
	}
}
