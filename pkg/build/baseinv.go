package build

import (
	"context"
	"fmt"

	"github.com/lambdaimg/lambdaimg/internal/memo"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
)

// baseInventories reads the inventories of base images from their
// registries (go-containerregistry, not BuildKit), each reference and
// platform once per Build: which packages a base brings and which APT
// sources it has.
type baseInventories struct {
	m memo.Map[string, *inventory.Inventory]
}

func newBaseInventories() *baseInventories {
	return &baseInventories{}
}

// get returns the inventory of ref (as pulled: mirrors applied) for arch.
func (bi *baseInventories) get(ctx context.Context, ref string, arch catalog.Arch) (*inventory.Inventory, error) {
	return bi.m.Do(ref+" "+string(arch), func() (*inventory.Inventory, error) { return readBase(ctx, ref, arch) })
}

// readBase reads the base image ref for arch with lambdaimg's registry
// credentials and retries.
func readBase(ctx context.Context, ref string, arch catalog.Arch) (*inventory.Inventory, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("base image %s: %w", ref, err)
	}
	tr, err := registry.NewRetryTransport(remote.DefaultTransport)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithTransport(tr),
		remote.WithAuthFromKeychain(registry.Keychain()),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: arch.GoArch()}))
	if err != nil {
		return nil, registry.ScrubError(fmt.Errorf("reading the base image %s for its OS packages: %w", ref, err))
	}
	inv, err := inventory.Read(ref, img, nil)
	return inv, registry.ScrubError(err)
}
