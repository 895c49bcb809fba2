package buildkit

// BuildKit's connection helpers register the address schemes beyond unix://
// and tcp:// with its client; without them such an address falls through
// to the plain gRPC dialer with a confusing error.
import (
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"  // docker-container://
	_ "github.com/moby/buildkit/client/connhelper/kubepod"          // kube-pod://
	_ "github.com/moby/buildkit/client/connhelper/nerdctlcontainer" // nerdctl-container://
	_ "github.com/moby/buildkit/client/connhelper/npipe"            // npipe:// (Windows)
	_ "github.com/moby/buildkit/client/connhelper/podmancontainer"  // podman-container://
	_ "github.com/moby/buildkit/client/connhelper/ssh"              // ssh://
)
