package catalog

import "regexp"

// Every value that reaches a Dockerfile or a shell script must match one of
// these. None admits whitespace, quotes, backslashes, '$', '`', ';', '&', '|',
// '<', '>' or a newline, so no catalog can add an instruction or a command.
var (
	idPattern      = regexp.MustCompile(`^[a-z][a-z0-9]*([._-][a-z0-9]+)*$`)
	versionPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$`)
	// A Docker tag.
	tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	// An OS package, optionally pinned: apt "pkg=1.2-3", apk "pkg=1.2-r0",
	// rpm "pkg-1.2", dnf module-ish names with ':' and '+'.
	packagePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+:=~-]{0,127}$`)
	// An image reference: [host[:port]/]path[:tag][@sha256:digest].
	imagePattern = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)
	// A registry host, optionally with a path (a mirror's target).
	registryPattern = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)
	// A registry namespace (one or more path components).
	namespacePattern = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)
	sha256Pattern    = regexp.MustCompile(`^[a-f0-9]{64}$`)
	urlPattern       = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%+=,@:-]*)*$`)
	labelKeyPattern  = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*$`)
	// Label values are free text, but without quotes, backslashes, '$',
	// '`' or control characters.
	labelValuePattern = regexp.MustCompile(`^[A-Za-z0-9 _.,:;/@+=()\[\]#%!?*~^{}<>|&-]{0,256}$`)
	datePattern       = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	argKeyPattern     = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
	argValuePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+:/@=-]{0,255}$`)
)

// ValidPackage reports whether s may be used as an OS package name.
func ValidPackage(s string) bool { return packagePattern.MatchString(s) }
